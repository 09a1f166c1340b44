"""`agrad minimize`: gradient descent on a file's scalar output."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ..errors import AgradError
from .app import (
    AtOpt,
    ExprOpt,
    FileArg,
    ValuesArg,
    app,
    assignments,
    console,
    formula,
    guard,
    progress,
    split_names,
)


class OptimizerName(str, Enum):
    """Optimizers of `agrad minimize`."""

    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"
    newton = "newton"


@app.command(
    "minimize",
    epilog="Examples:  agrad minimize samples/rosenbrock.txt --at x=-1.2 y=1 --lr 0.05 --steps "
    "3000  |  agrad minimize samples/logistic.txt --at w=[0,0] b=0 --optimizer momentum "
    "--trace path.csv",
    context_settings={"ignore_unknown_options": True},
)
@guard
def minimize_command(
    ctx: typer.Context,
    file: FileArg = None,
    values: ValuesArg = None,
    expr: ExprOpt = None,
    at: AtOpt = None,
    wrt: Annotated[
        list[str] | None,
        typer.Option(
            "--wrt", "-w", metavar="NAME", help="The parameters to move (default: every input)."
        ),
    ] = None,
    fix: Annotated[
        list[str] | None,
        typer.Option("--fix", metavar="NAME", help="Inputs that stay fixed (data, targets)."),
    ] = None,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Most steps to take.")] = 1000,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate [default: 0.01].")] = None,
    optimizer: Annotated[
        OptimizerName, typer.Option("--optimizer", help="Update rule.")
    ] = OptimizerName.adam,
    momentum: Annotated[
        float | None,
        typer.Option("--momentum", help="Momentum for --optimizer momentum [default: 0.9]."),
    ] = None,
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
    """Minimize a file's scalar output: SGD, momentum, Adam, or Newton's method."""
    from ..io.outfile import check_target, write_bytes, write_text
    from ..language.values import bind, parse_assignments
    from ..render.table import minimize_table
    from ..tensors.minimize import minimize, require_matplotlib, trace_csv
    from ..tensors.minimize import plot as draw

    if momentum is not None and optimizer is not OptimizerName.momentum:
        raise AgradError(
            f"--momentum is for --optimizer momentum, not {optimizer.value}",
            None,
            "add --optimizer momentum, or drop --momentum",
        )
    if lr is not None and optimizer is OptimizerName.newton:
        raise AgradError(
            "--lr sets gradient methods' step; Newton's method finds its own by line search",
            None,
            "drop --lr",
        )
    lr = 0.01 if lr is None else lr
    momentum = 0.9 if momentum is None else momentum
    for path in (trace, plot):
        if path:
            check_target(path, [file])
    if plot:
        if not plot.lower().endswith((".png", ".svg", ".pdf")):
            raise AgradError(f"--plot {plot}: write a .png, .svg or .pdf file")
        require_matplotlib()
    if trace and trace != "-" and not trace.lower().endswith(".csv"):
        raise AgradError(f"--trace {trace}: the trajectory is CSV", None, "name it *.csv")
    points = assignments(ctx, at, values)
    graph = formula(file, expr, points)
    start = bind(graph, parse_assignments(points))
    params = _parameters(graph, split_names(wrt), split_names(fix))
    bar = progress("steps")
    run_args = (graph, start, steps, lr, optimizer.value, tol, momentum, output)
    if bar is None:
        run = minimize(*run_args, wrt=params)
    else:
        from rich.progress import TextColumn

        bar.columns = (*bar.columns, TextColumn("loss {task.fields[loss]:.6g}"))
        with bar:
            task = bar.add_task("minimizing", total=steps + 1, loss=float("nan"))
            run = minimize(
                *run_args,
                lambda step, loss: bar.update(task, completed=step + 1, loss=loss),
                wrt=params,
            )
    console().print(minimize_table(run))
    if trace:
        write_text(trace, trace_csv(run), [file])
    if plot:
        write_bytes(plot, draw(run, plot), [file])


def _parameters(graph, wrt: list[str] | None, fix: list[str] | None) -> list[str] | None:
    """The inputs that move: --wrt, or every input but --fix; None for all."""
    from ..errors import suggest

    if wrt and fix:
        raise AgradError("give --wrt (what moves) or --fix (what stays), not both")
    inputs = list(graph.input_ids)
    for name in [*(wrt or []), *(fix or [])]:
        if name not in graph.input_ids:
            flag = "--wrt" if wrt else "--fix"
            raise AgradError(
                f"{flag} {name}: '{name}' is not an input",
                None,
                suggest(name, inputs) or f"the inputs are: {', '.join(inputs)}",
            )
    if wrt:
        return wrt
    if fix:
        moving = [n for n in inputs if n not in fix]
        if not moving:
            raise AgradError("--fix leaves nothing to move", None, "fix fewer inputs")
        return moving
    return None
