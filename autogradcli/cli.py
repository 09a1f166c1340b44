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

APP_SETTINGS = {
    "name": "agrad",
    "help": "Gradient calculator and computational-graph tool for formulas in text files.",
    "epilog": "Example: agrad eval samples/seed.txt --at a=1 b=2 c=3 d=4",
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": "rich",
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(**APP_SETTINGS)
STATE = {"debug": bool(os.environ.get("AGRAD_DEBUG"))}

# Parameters several commands share, declared once.
FileArg = Annotated[
    str, typer.Argument(metavar="FILE", help="Expression file.", show_default=False)
]
ValuesArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[NAME=VALUE]...", help="Input values; the same as --at.", show_default=False
    ),
]
AtOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        "-a",
        metavar="NAME=VALUE",
        help="Input value: --at a=1 b=2, repeated --at a=1 --at b=2, arrays x=[1,2].",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--output",
        metavar="NAME",
        help="Use these named values as the outputs.",
        show_default=False,
    ),
]
WrtOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--wrt", "-w", metavar="NAME", help="Differentiate only by these names.", show_default=False
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--sympy-timeout", help="Seconds SymPy may spend on each step.")
]


class Format(str, Enum):
    """Output formats of `agrad eval`, `check` and `stats` (csv: `eval --at-file` only)."""

    table = "table"
    json = "json"
    csv = "csv"


class Engine(str, Enum):
    """How `agrad eval --at-file` runs the graph."""

    auto = "auto"
    compiled = "compiled"
    interpreted = "interpreted"


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
    STATE["debug"] = debug or bool(os.environ.get("AGRAD_DEBUG"))


EVAL_EPILOG = (
    "Examples:  agrad eval samples/seed.txt --at a=1 b=2 c=3 d=4 "
    "|  agrad eval samples/mlp.txt --at x=[1,2] W=[[1,2],[3,4]] --format json "
    "|  agrad eval samples/polar.txt --at x=1 y=1 --nodes --edges"
)


@app.command("eval", epilog=EVAL_EPILOG, context_settings={"ignore_unknown_options": True})
@guard
def eval_command(
    file: FileArg,
    values: ValuesArg = None,
    at: AtOpt = None,
    wrt: WrtOpt = None,
    output: OutputOpt = None,
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
    check: Annotated[
        bool,
        typer.Option("--check", help="Compare each gradient with SymPy and finite differences."),
    ] = False,
    sympy_timeout: TimeoutOpt = 10.0,
    digits: Annotated[
        int, typer.Option("--digits", min=1, max=17, help="Significant digits in tables.")
    ] = 6,
    at_file: Annotated[
        str | None,
        typer.Option(
            "--at-file",
            metavar="FILE",
            help="Many points: a .csv (header of input names), .npy, .npz or .json.",
        ),
    ] = None,
    chunk: Annotated[
        int, typer.Option("--chunk", min=1, help="Rows evaluated at once with --at-file.")
    ] = 100_000,
    out: Annotated[
        str | None, typer.Option("-o", metavar="FILE", help="Write --at-file results here.")
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="With --at-file: 'auto' runs the compiled plan for 1000+ rows of an "
            "elementwise graph.",
        ),
    ] = Engine.auto,
) -> None:
    """Evaluate a formula file: its value and gradient at a point, or at many (--at-file)."""
    if at_file is not None:
        points = [*(at or []), *(values or [])]
        _eval_batch(file, at_file, points, fmt, chunk, out, strict, engine.value)
        return
    if engine is not Engine.auto:
        raise AgradError(
            f"--engine {engine.value} chooses how --at-file runs many points",
            None,
            "one point (--at) always runs the interpreter, which keeps every node for the tables",
        )
    if fmt is Format.csv:
        raise AgradError(
            "--format csv writes one row per point of --at-file",
            None,
            "add --at-file points.csv, or use --format json",
        )
    from .evaluate import evaluate_file

    ev = evaluate_file(file, [*(at or []), *(values or [])], output, _split(wrt), edges, jacobian)
    results = []
    if check:
        from .check import Tolerances, check_point

        results = check_point(ev, Tolerances(), sympy_timeout)
    if fmt is Format.json:
        from .render_json import dumps, evaluation_dict, result_dict

        doc = evaluation_dict(ev, nodes, edges)
        if check:
            doc["check"] = [result_dict(r) for r in results]
        sys.stdout.write(dumps(doc) + "\n")
    else:
        from .render_table import eval_check_table, evaluation_tables

        out = console()
        out.print(evaluation_tables(ev, nodes, edges, digits))
        if check:
            out.print(eval_check_table(results, digits))
    for notice in ev.notices:
        typer.echo(notice.render(), err=True)
    _report_failures(results)
    if strict and ev.notices:
        raise CheckFailed(f"{len(ev.notices)} non-finite result(s) under --strict")
    if any(r.failed for r in results):
        raise CheckFailed("the gradient check failed")


def _eval_batch(
    file: str,
    points: str,
    fixed: list[str],
    fmt: Format,
    chunk: int,
    out: str | None,
    strict: bool,
    engine: str,
) -> None:
    """`agrad eval --at-file`: every row's values and gradients, as CSV or JSON."""
    import numpy as np

    from .batch import run_batch
    from .parser import parse_file
    from .values import parse_assignments

    if fmt is Format.table:
        fmt = Format.csv
    graph = parse_file(file)
    given = {name: v for name, (v, _) in parse_assignments(fixed).items()}
    stream = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout  # noqa: SIM115
    blocks: list = []

    def write(columns, table) -> None:
        if fmt is Format.json:
            blocks.append(table)
            return
        if not blocks:
            stream.write(",".join(columns) + "\n")
            blocks.append(True)
        np.savetxt(stream, table, delimiter=",", fmt="%.17g")

    bar = _progress()
    try:
        if bar is None:
            result = run_batch(graph, points, given, chunk, write, engine=engine)
        else:
            with bar:
                task = bar.add_task("rows", total=None)
                result = run_batch(
                    graph, points, given, chunk, write, lambda n: bar.advance(task, n), engine
                )
    finally:
        if out:
            stream.close()
    if fmt is Format.json:
        from .render_json import batch_dict, dumps

        table = np.vstack(blocks) if blocks else np.zeros((0, len(result.columns)))
        text = dumps(batch_dict(graph, result, table)) + "\n"
        if out:
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
    if result.nonfinite_rows:
        typer.echo(
            f"warning: {result.nonfinite_rows} of {result.rows} rows have nan or inf; "
            f"{result.first_bad}",
            err=True,
        )
        if strict:
            raise CheckFailed("non-finite results under --strict")


def _report_failures(results) -> None:
    """One stderr line per failed check, with its position."""
    for r in results:
        if r.failed:
            typer.echo(
                f"{r.file}:{r.line}: check failed: {r.output} d/d{r.wrt}: {r.detail}", err=True
            )


def _progress():
    """A progress callback on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    return Progress(console=console(stderr=True), transient=True)


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
    """Entry point of the `agrad` script.

    Typer inspects every command's parameters when it builds the app, which costs start-up
    time for each command; when the command line names one, only that one is built.
    """
    name = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    chosen = [c for c in app.registered_commands if c.name == name]
    if not chosen:
        app()
        return
    single = typer.Typer(**APP_SETTINGS)
    single.registered_callback = app.registered_callback
    single.registered_commands = chosen
    single()


# The other commands register themselves on `app` when imported.
from . import cli_graph, cli_train, cli_verify  # noqa: E402, F401
