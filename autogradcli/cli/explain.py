"""`agrad explain`: the forward and backward passes of a formula, step by step."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ..errors import AgradError
from .app import (
    AtOpt,
    ExprOpt,
    FileArg,
    OutputOpt,
    ValuesArg,
    WrtOpt,
    app,
    assignments,
    formula,
    guard,
    note,
    out_option,
    pick_format,
    split_names,
)


class StepRule(str, Enum):
    """Update rules `agrad explain --step` writes out."""

    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"


class ExplainFormat(str, Enum):
    """Output formats of `agrad explain`."""

    text = "text"
    markdown = "markdown"
    latex = "latex"
    json = "json"
    html = "html"


EXPLAIN_SUFFIXES = {".txt": "text", ".md": "markdown", ".tex": "latex", ".json": "json",
                    ".html": "html", ".htm": "html"}  # fmt: skip


EXPLAIN_NODES = 50_000  # larger graphs are refused: explaining them costs too much


@app.command(
    "explain",
    epilog="Examples:  agrad explain samples/seed.txt --at a=1 b=2 c=3 d=4  |  agrad explain "
    "samples/seed.txt --at a=1 b=2 c=3 d=4 --format latex  |  agrad explain samples/polar.txt "
    "--at x=1 y=1 --output r",
    context_settings={"ignore_unknown_options": True},
)
@guard
def explain_command(
    ctx: typer.Context,
    file: FileArg = None,
    values: ValuesArg = None,
    expr: ExprOpt = None,
    at: AtOpt = None,
    output: OutputOpt = None,
    wrt: WrtOpt = None,
    fmt: Annotated[
        ExplainFormat | None,
        typer.Option("--format", "-f", help="text, markdown, latex, json or html [default: text]."),
    ] = None,
    out: Annotated[str | None, out_option("the explanation (format from the suffix)")] = None,
    digits: Annotated[
        int | None, typer.Option("--digits", min=1, max=17, help="Significant digits [6].")
    ] = None,
    quiz: Annotated[
        int | None,
        typer.Option("--quiz", min=1, help="Blank N numbers or more (answers last)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Which blanks --quiz picks [0].")
    ] = None,
    collapse: Annotated[
        bool | None,
        typer.Option(
            "--collapse/--expand",
            help="One step per named line / per node [collapsed beyond 400 operations].",
        ),
    ] = None,
    step: Annotated[
        StepRule | None,
        typer.Option("--step", help="Add one training step of the --wrt inputs (default all)."),
    ] = None,
    lr: Annotated[
        float | None, typer.Option("--lr", help="Learning rate of --step [0.01].")
    ] = None,
    momentum: Annotated[
        float | None, typer.Option("--momentum", help="Momentum of --step momentum [0.9].")
    ] = None,
) -> None:
    """Explain the backward pass: every forward step, then one chain-rule step per edge."""
    from ..engines.evaluate import evaluate
    from ..io.outfile import check_target, write_text
    from ..language.values import bind, parse_assignments
    from ..render.explained import explained, is_long, operations

    chosen = pick_format(fmt and fmt.value, out, EXPLAIN_SUFFIXES, "text")
    _check_flags(chosen, digits, quiz, seed)
    if out:
        check_target(out, [file])
    points = assignments(ctx, at, values)
    graph = formula(file, expr, points)
    if len(graph) > EXPLAIN_NODES:
        raise AgradError(
            f"{graph.source.name} has {len(graph):,} nodes; agrad explain writes out graphs of "
            f"up to {EXPLAIN_NODES:,} (about 25,000 lines), within a few times agrad eval",
            None,
            "explain the part you want (its lines in a file of their own, or -e), or use "
            "agrad eval for values and gradients",
        )
    if output and len(output) > 1:
        raise AgradError("agrad explain follows one output", None, "give one --output NAME")
    inputs = bind(graph, parse_assignments(points))
    ev = evaluate(graph, inputs, output, split_names(wrt), edges=True)  # --wrt: only its paths
    if collapse is None and is_long(ev):
        collapse = True
        note(f"{operations(ev):,} operations: one step per named line (--expand for all)")
    training = _training(graph, step, lr, momentum, split_names(wrt), quiz, chosen)
    shown = explained(ev, inputs, collapse, quiz, seed or 0, digits or 6, file or "", training)
    write_text(out or "-", shown.render(chosen), [file])


def _check_flags(chosen: str, digits: int | None, quiz: int | None, seed: int | None) -> None:
    """Flags the chosen format cannot honour are errors."""
    if chosen == "json" and digits is not None:
        raise AgradError("--digits rounds the text; JSON always has every digit", None, None)
    if quiz is not None and chosen not in ("text", "markdown", "html"):
        raise AgradError(
            f"--quiz writes text, markdown or html, not {chosen}", None, "drop --format"
        )
    if seed is not None and quiz is None:
        raise AgradError("--seed picks the blanks of --quiz", None, "add --quiz N")


def _training(graph, step, lr, momentum, wrt, quiz, chosen) -> tuple | None:
    """--step's Rule and parameters, or None; its flags without it are errors."""
    from ..render.explain_step import Rule

    if step is None:
        for flag, value in (("--lr", lr), ("--momentum", momentum)):
            if value is not None:
                raise AgradError(f"{flag} sets the training step", None, "add --step sgd")
        return None
    if momentum is not None and step is not StepRule.momentum:
        raise AgradError(f"--momentum is for --step momentum, not {step.value}", None,
                         "use --step momentum, or drop --momentum")  # fmt: skip
    if quiz is not None:
        raise AgradError("--quiz hides gradients that --step would show", None,
                         "drop --quiz or --step")  # fmt: skip
    if chosen == "latex":
        raise AgradError("--step writes text, markdown, json or html, not latex")
    if lr is not None and not lr > 0:
        raise AgradError(f"--lr {lr:g}: the learning rate must be positive")
    rule = Rule(step.value, 0.01 if lr is None else lr, 0.9 if momentum is None else momentum)
    return rule, wrt or list(graph.input_ids)
