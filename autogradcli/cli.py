"""The `agrad` command line: thin Typer commands over the library."""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum
from typing import Annotated

import typer

from . import __version__
from .errors import AgradError, CheckFailed

app = typer.Typer(
    name="agrad",
    help="Gradient calculator and computational-graph tool for formulas in text files.",
    epilog="Example: agrad eval samples/seed.txt --at a=1 b=2 c=3 d=4",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
STATE = {"debug": bool(os.environ.get("AGRAD_DEBUG"))}


class Format(str, Enum):
    """Output formats of `agrad eval`."""

    table = "table"
    json = "json"


def guard(fn):
    """Turn AgradError into one message on stderr and its exit status (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AgradError as exc:
            if STATE["debug"]:
                raise
            typer.echo(exc.render(), err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def console(stderr: bool = False):
    """A Rich console; wide when output is not a terminal, so tables are not squeezed."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    wide = stream.isatty() or "COLUMNS" in os.environ
    return Console(stderr=stderr, width=None if wide else 160, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agrad {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Gradient calculator and computational-graph tool for formulas in text files."""
    STATE["debug"] = STATE["debug"] or debug


EVAL_EPILOG = (
    "Examples:  agrad eval samples/seed.txt --at a=1 b=2 c=3 d=4 "
    "|  agrad eval samples/mlp.txt --at x=[1,2] W=[[1,2],[3,4]] --format json "
    "|  agrad eval samples/polar.txt --at x=1 y=1 --nodes --edges"
)


@app.command("eval", epilog=EVAL_EPILOG, context_settings={"ignore_unknown_options": True})
@guard
def eval_command(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Expression file to evaluate.", show_default=False)
    ],
    values: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[NAME=VALUE]...", help="Input values; the same as --at.", show_default=False
        ),
    ] = None,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            "-a",
            metavar="NAME=VALUE",
            help="Input value: --at a=1 b=2, repeated --at a=1 --at b=2, arrays x=[1,2].",
            show_default=False,
        ),
    ] = None,
    wrt: Annotated[
        list[str] | None,
        typer.Option(
            "--wrt",
            "-w",
            metavar="NAME",
            help="Differentiate only with respect to these names (repeatable).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            metavar="NAME",
            help="Evaluate these named values (repeatable; several give a Jacobian).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    nodes: Annotated[bool, typer.Option("--nodes", help="Add the node table.")] = False,
    edges: Annotated[bool, typer.Option("--edges", help="Add the edge table.")] = False,
    jacobian: Annotated[
        bool,
        typer.Option(
            "--jacobian", help="Full Jacobian of array outputs, not the gradient of their sum."
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Exit with status 1 when any value or gradient is nan or inf."
        ),
    ] = False,
    digits: Annotated[
        int, typer.Option("--digits", min=1, max=17, help="Significant digits in tables.")
    ] = 6,
) -> None:
    """Evaluate a formula file: its value and gradient at a point."""
    from .evaluate import evaluate_file

    ev = evaluate_file(file, [*(at or []), *(values or [])], output, _split(wrt), edges, jacobian)
    if fmt is Format.json:
        from .render_json import dumps, evaluation_dict

        sys.stdout.write(dumps(evaluation_dict(ev, nodes, edges)) + "\n")
    else:
        from .render_table import evaluation_tables

        console().print(evaluation_tables(ev, nodes, edges, digits))
    for notice in ev.notices:
        typer.echo(notice.render(), err=True)
    if strict and ev.notices:
        raise CheckFailed(f"{len(ev.notices)} non-finite result(s) under --strict")


@app.command("ops", epilog="Example: agrad ops")
@guard
def ops_command() -> None:
    """List every operation: syntax, derivative, test domain and convention at kinks."""
    from .ops import REGISTRY
    from .render_table import ops_table

    console().print(ops_table(REGISTRY.values()))


def _split(names: list[str] | None) -> list[str] | None:
    """Accept `--wrt a,b` as well as `--wrt a --wrt b`."""
    if not names:
        return None
    return [n.strip() for name in names for n in name.split(",") if n.strip()]


def main() -> None:
    """Entry point of the `agrad` script."""
    app()
