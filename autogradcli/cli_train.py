"""`agrad minimize`: gradient descent on a file's scalar output."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from .cli import (
    AtOpt,
    FileArg,
    ValuesArg,
    _progress,
    app,
    console,
    guard,
)


class OptimizerName(str, Enum):
    """Optimizers of `agrad minimize`."""

    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"


@app.command(
    "minimize",
    epilog="Examples:  agrad minimize samples/rosenbrock.txt --at x=-1.2 y=1 --lr 0.05 --steps "
    "3000  |  agrad minimize samples/logistic.txt --at w=[0,0] b=0 --optimizer momentum "
    "--trace path.csv",
    context_settings={"ignore_unknown_options": True},
)
@guard
def minimize_command(
    file: FileArg,
    values: ValuesArg = None,
    at: AtOpt = None,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Most steps to take.")] = 1000,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 0.01,
    optimizer: Annotated[
        OptimizerName, typer.Option("--optimizer", help="Update rule.")
    ] = OptimizerName.adam,
    momentum: Annotated[
        float, typer.Option("--momentum", help="Momentum for --optimizer momentum.")
    ] = 0.9,
    tol: Annotated[
        float, typer.Option("--tol", help="Stop when the gradient norm is at most this.")
    ] = 1e-8,
    output: Annotated[
        str | None, typer.Option("--output", metavar="NAME", help="The value to minimize.")
    ] = None,
    trace: Annotated[
        str | None, typer.Option("--trace", metavar="FILE", help="Write the trajectory as CSV.")
    ] = None,
    plot: Annotated[
        str | None, typer.Option("--plot", metavar="FILE", help="Draw the loss curve (PNG).")
    ] = None,
) -> None:
    """Minimize a file's scalar output by gradient descent (SGD, momentum or Adam)."""
    from .minimize import minimize, trace_csv
    from .minimize import plot as draw
    from .parser import parse_file
    from .render_table import minimize_table
    from .values import bind, parse_assignments

    graph = parse_file(file)
    start = bind(graph, parse_assignments([*(at or []), *(values or [])]))
    bar = _progress()
    if bar is None:
        run = minimize(graph, start, steps, lr, optimizer.value, tol, momentum, output)
    else:
        from rich.progress import TextColumn

        bar.columns = (*bar.columns, TextColumn("loss {task.fields[loss]:.6g}"))
        with bar:
            task = bar.add_task("minimizing", total=steps + 1, loss=float("nan"))
            run = minimize(
                graph,
                start,
                steps,
                lr,
                optimizer.value,
                tol,
                momentum,
                output,
                lambda step, loss: bar.update(task, completed=step + 1, loss=loss),
            )
    console().print(minimize_table(run))
    if trace:
        with open(trace, "w", encoding="utf-8") as fh:
            fh.write(trace_csv(run))
    if plot:
        draw(run, plot)
