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
) -> None:
    """Evaluate a formula file: its value and gradient at a point, or at many (--at-file)."""
    if at_file is not None:
        _eval_batch(file, at_file, [*(at or []), *(values or [])], fmt, chunk, out, strict)
        return
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
    file: str, points: str, fixed: list[str], fmt: Format, chunk: int, out: str | None, strict: bool
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

    try:
        result = run_batch(graph, points, given, chunk, write)
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


class DiffFormat(str, Enum):
    """Output formats of `agrad diff`."""

    text = "text"
    latex = "latex"
    agrad = "agrad"


@app.command(
    "diff",
    epilog="Examples:  agrad diff samples/seed.txt  |  agrad diff samples/seed.txt --wrt b "
    "--latex  |  agrad diff samples/rosenbrock.txt --format agrad > grad.txt",
)
@guard
def diff_command(
    file: FileArg,
    wrt: WrtOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="How to write them.")] = (
        DiffFormat.text
    ),
    latex: Annotated[bool, typer.Option("--latex", help="Same as --format latex.")] = False,
    simplify: Annotated[
        bool, typer.Option("--simplify/--no-simplify", help="Simplify each derivative.")
    ] = True,
    sympy_timeout: TimeoutOpt = 10.0,
) -> None:
    """Print the symbolic derivative of each output with respect to each input (SymPy)."""
    from .evaluate import pick_outputs, pick_wrt
    from .parser import parse_file
    from .symbolic import SympyTimeout, derivatives

    graph = parse_file(file)
    outs = pick_outputs(graph, output)
    names = [w for w, _ in pick_wrt(graph, _split(wrt))]
    try:
        pairs = derivatives(graph, outs, names, simplify, sympy_timeout)
    except SympyTimeout:
        raise AgradError(
            f"SymPy did not finish within {sympy_timeout:g} s",
            None,
            "raise --sympy-timeout or try --no-simplify",
        ) from None
    except (TypeError, ValueError) as exc:
        raise AgradError(
            f"SymPy cannot represent {file} ({exc})",
            None,
            "agrad diff works on formulas of scalar inputs",
        ) from None
    if latex:
        fmt = DiffFormat.latex
    typer.echo(_diff_text(pairs, fmt))


def _diff_text(pairs, fmt: DiffFormat) -> str:
    """Render derivative pairs in one of the diff formats."""
    import sympy as sp

    from .render_agrad import agrad_text

    lines = []
    if fmt is DiffFormat.agrad:
        names = []
        for out, w, raw, simple in pairs:
            try:
                body = agrad_text(simple)
            except AgradError:
                body = agrad_text(raw)
            names.append(f"d{out}_d{w}")
            lines.append(f"{names[-1]} = {body}")
        return "\n".join(lines + names)
    for out, w, _, simple in pairs:
        if fmt is DiffFormat.latex:
            lines.append(f"\\frac{{\\partial {out}}}{{\\partial {w}}} = {sp.latex(simple)}")
        else:
            pretty = sp.pretty(simple, use_unicode=True)
            lead = f"∂{out}/∂{w} = "
            pad = " " * len(lead)
            body = pretty.splitlines()
            mid = len(body) // 2
            lines.append("\n".join((lead if k == mid else pad) + row for k, row in enumerate(body)))
            lines.append("")
    return "\n".join(lines).rstrip()


@app.command(
    "check",
    epilog="Examples:  agrad check samples/rules  |  agrad check f.txt --range x=0.1:5 "
    "--points 100  |  agrad check --ops  |  agrad check samples --junit report.xml",
)
@guard
def check_command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(metavar="[FILES-OR-FOLDERS]...", help="Files, or folders of *.txt files."),
    ] = None,
    ops: Annotated[bool, typer.Option("--ops", help="Check every op's derivative rule.")] = False,
    points: Annotated[int, typer.Option("--points", "-n", min=1, help="Points per file.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for the points.")] = 0,
    ranges: Annotated[
        list[str] | None,
        typer.Option("--range", "-r", metavar="NAME=LO:HI", help="Sampling range of an input."),
    ] = None,
    rtol: Annotated[float, typer.Option("--rtol", help="Relative tolerance vs SymPy.")] = 1e-7,
    atol: Annotated[float, typer.Option("--atol", help="Absolute tolerance vs SymPy.")] = 1e-9,
    fd_rtol: Annotated[
        float, typer.Option("--fd-rtol", help="Relative tolerance vs finite differences.")
    ] = 1e-5,
    fd_atol: Annotated[
        float, typer.Option("--fd-atol", help="Absolute tolerance vs finite differences.")
    ] = 1e-6,
    sympy_timeout: TimeoutOpt = 10.0,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    junit: Annotated[
        str | None, typer.Option("--junit", metavar="PATH", help="Also write JUnit XML here.")
    ] = None,
) -> None:
    """Check gradients and claims in files against SymPy and finite differences (for CI)."""
    from .check import Tolerances
    from .verify import check_many

    tol = Tolerances(rtol, atol, fd_rtol, fd_atol)
    results, errors = check_many(
        paths or [], ops, points, seed, _ranges(ranges or []), tol, sympy_timeout, _progress()
    )
    _emit_check(results, fmt, junit)
    for err in errors:
        typer.echo(err.render(), err=True)
    if errors:
        raise typer.Exit(2)
    failed = sum(r.failed for r in results)
    if failed:
        raise CheckFailed(f"{failed} check(s) failed")
    if not results:
        raise AgradError("nothing to check", None, "name files or folders, or pass --ops")


def _emit_check(results, fmt: Format, junit: str | None) -> None:
    """Print the check results and write the CI formats."""
    from .render_ci import github_annotations
    from .render_ci import junit as junit_xml

    if fmt is Format.json:
        from .render_json import check_dict, dumps

        sys.stdout.write(dumps(check_dict(results)) + "\n")
    else:
        from .render_table import check_details, check_table

        out = console()
        out.print(check_table(results))
        for line in check_details(results):
            out.print(line, markup=False, highlight=False)
    if junit:
        with open(junit, "w", encoding="utf-8") as fh:
            fh.write(junit_xml(results))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # Workflow commands go to stdout, except where stdout must stay valid JSON.
        for line in github_annotations(results):
            typer.echo(line, err=fmt is Format.json)
    _report_failures(r for r in results if r.kind == "gradient")


def _ranges(items: list[str]) -> dict[str, tuple[float, float]]:
    """Parse `--range x=0.1:5` options."""
    from .errors import Source, Span

    out = {}
    for item in items:
        name, _, bounds = item.partition("=")
        lo, colon, hi = bounds.partition(":")
        where = Span(Source("--range", item), 0, len(item))
        try:
            low, high = float(lo), float(hi)
        except ValueError:
            low = high = float("nan")
        if not colon or not name.strip().isidentifier() or not low < high:
            raise AgradError(
                f"expected NAME=LOW:HIGH with LOW < HIGH, got {item!r}",
                where,
                "write for example --range x=0.1:5",
            )
        out[name.strip()] = (low, high)
    return out


def _progress():
    """A progress callback on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    return Progress(console=console(stderr=True), transient=True)


class GraphFormat(str, Enum):
    """Output formats of `agrad graph`."""

    dot = "dot"
    tree = "tree"
    table = "table"
    mermaid = "mermaid"
    json = "json"


class RenderFormat(str, Enum):
    """File types Graphviz can render."""

    svg = "svg"
    png = "png"
    pdf = "pdf"


@app.command(
    "graph",
    epilog="Examples:  agrad graph samples/seed.txt --at a=1 b=2 c=3 d=4  |  agrad graph "
    "samples/seed.txt --at a=1 b=2 c=3 d=4 --render svg -o seed.svg  |  agrad graph "
    "samples/mlp.txt --collapse --format mermaid  |  agrad graph samples/seed.txt --format tree",
    context_settings={"ignore_unknown_options": True},
)
@guard
def graph_command(
    file: FileArg,
    values: ValuesArg = None,
    at: AtOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[GraphFormat, typer.Option("--format", "-f", help="Output format.")] = (
        GraphFormat.dot
    ),
    out: Annotated[str | None, typer.Option("-o", metavar="FILE", help="Write to FILE.")] = None,
    render: Annotated[
        RenderFormat | None, typer.Option("--render", help="Run Graphviz: svg, png or pdf.")
    ] = None,
    backward: Annotated[
        bool, typer.Option("--backward", help="Draw how each gradient accumulates (needs --at).")
    ] = False,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="One box per named intermediate.")
    ] = False,
    focus: Annotated[
        str | None, typer.Option("--focus", metavar="NAME", help="Only what feeds NAME.")
    ] = None,
    depth: Annotated[
        int | None, typer.Option("--depth", min=0, help="Draw at most N edges back.")
    ] = None,
    optimized: Annotated[bool, typer.Option("--optimize", help="Draw the optimized graph.")] = (
        False
    ),
    digits: Annotated[int, typer.Option("--digits", min=1, max=17, help="Digits shown.")] = 4,
) -> None:
    """Draw the computational graph: DOT, a terminal tree, tables, Mermaid or JSON."""
    from .evaluate import evaluate
    from .optimize import optimize
    from .parser import parse_file
    from .values import bind, parse_assignments
    from .view import build, warn_if_big

    graph = parse_file(file)
    if optimized:
        graph, _ = optimize(graph)
    assignments = [*(at or []), *(values or [])]
    ev = None
    if assignments:
        inputs = bind(graph, parse_assignments(assignments))
        ev = evaluate(graph, inputs, output, None, edges=True)
    elif backward:
        raise AgradError(
            "--backward draws gradients, which need values", None, "pass the inputs: --at a=1 b=2"
        )
    if render is not None and out is None:
        raise AgradError(
            f"--render {render.value} needs an output file", None, f"add -o graph.{render.value}"
        )
    view = build(graph, ev, focus, depth, collapse, backward)
    big = warn_if_big(view)
    if big:
        typer.echo(big, err=True)
    if render is not None:
        from .render_dot import dot
        from .render_dot import render as run_dot

        run_dot(dot(view, digits), render.value, out)
        typer.echo(f"wrote {out}", err=True)
        return
    text = _graph_text(view, fmt, digits)
    if text is None:
        return
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def _graph_text(view, fmt: GraphFormat, digits: int) -> str | None:
    """Render a view; Rich formats print directly and return None."""
    if fmt is GraphFormat.dot:
        from .render_dot import dot

        return dot(view, digits)
    if fmt is GraphFormat.mermaid:
        from .render_mermaid import mermaid

        return mermaid(view, digits)
    if fmt is GraphFormat.json:
        from .render_json import dumps, view_dict

        return dumps(view_dict(view)) + "\n"
    from .render_table import view_tables, view_tree

    console().print(view_tree(view) if fmt is GraphFormat.tree else view_tables(view))
    return None


@app.command(
    "optimize",
    epilog="Examples:  agrad optimize samples/seed.txt  |  agrad optimize big.txt -o small.txt",
)
@guard
def optimize_command(
    file: FileArg,
    out: Annotated[
        str | None, typer.Option("-o", metavar="FILE", help="Write the optimized file here.")
    ] = None,
) -> None:
    """Optimize a graph (fold constants, safe identities, CSE, dead nodes); report each pass."""
    from rich.table import Table

    from .optimize import optimize
    from .parser import parse_file
    from .render_agrad import graph_text

    graph, report = optimize(parse_file(file))
    table = Table(title=f"Optimizing {file}")
    for col in ("pass", "nodes", "edges"):
        table.add_column(col, justify="left" if col == "pass" else "right")
    for r in report:
        table.add_row(
            r.name,
            f"{r.nodes_before:,} → {r.nodes_after:,}",
            f"{r.edges_before:,} → {r.edges_after:,}",
        )
    console().print(table)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(f"# optimized by agrad from {file} (claims are not copied)\n")
            fh.write(graph_text(graph))
        typer.echo(f"wrote {out}", err=True)


@app.command("stats", epilog="Example: agrad stats samples/mlp.txt")
@guard
def stats_command(
    file: FileArg,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Report size, depth, op histogram, shared subexpressions and parallel levels."""
    from .parser import parse_file
    from .stats import stats

    s = stats(parse_file(file))
    if fmt is Format.json:
        from .render_json import dumps

        doc = {
            "nodes": s.nodes,
            "edges": s.edges,
            "inputs": s.inputs,
            "constants": s.constants,
            "operations": s.operations,
            "outputs": s.outputs,
            "depth": s.depth,
            "ops": dict(s.ops.most_common()),
            "shared": s.reused,
            "duplicates": s.duplicates,
            "levels": s.levels,
        }
        sys.stdout.write(dumps(doc) + "\n")
        return
    from .render_table import stats_tables

    console().print(stats_tables(s, file))


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


@app.command(
    "compile",
    epilog="Example: agrad compile samples/seed.txt -o seed_grad.py; then in Python: "
    "from seed_grad import value_and_grad; value_and_grad(a=1, b=2, c=3, d=4)",
)
@guard
def compile_command(
    file: FileArg,
    out: Annotated[
        str | None, typer.Option("-o", metavar="FILE", help="Write the module here.")
    ] = None,
) -> None:
    """Write a standalone NumPy module with value_and_grad(**inputs) for a formula file."""
    from .compile import compile_graph
    from .parser import parse_file

    source = compile_graph(parse_file(file), file)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(source)
        typer.echo(f"wrote {out}", err=True)
    else:
        sys.stdout.write(source)


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
