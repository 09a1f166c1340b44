"""`agrad diff` and `agrad check`: the symbolic and the CI commands."""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import Annotated

import typer

from ..errors import AgradError, CheckFailed
from .app import (
    STATE,
    ExprOpt,
    FileArg,
    OutputOpt,
    TimeoutOpt,
    WrtOpt,
    app,
    console,
    formula,
    guard,
    note,
    out_option,
    pick_format,
    progress,
    report_failures,
    split_names,
)


class DiffFormat(str, Enum):
    """Output formats of `agrad diff`."""

    text = "text"
    latex = "latex"
    agrad = "agrad"


class CheckFormat(str, Enum):
    """Output formats of `agrad check`."""

    table = "table"
    json = "json"
    junit = "junit"


CHECK_SUFFIXES = {".json": "json", ".xml": "junit", ".txt": "table"}


@app.command(
    "diff",
    epilog="Examples:  agrad diff samples/seed.txt  |  agrad diff samples/seed.txt --wrt b "
    "--latex  |  agrad diff samples/rosenbrock.txt --format agrad > grad.txt",
)
@guard
def diff_command(
    file: FileArg = None,
    expr: ExprOpt = None,
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
    order: Annotated[
        int, typer.Option("--order", min=1, max=2, help="2: the Hessian (upper triangle).")
    ] = 1,
) -> None:
    """Print the symbolic derivative of each output with respect to each input (SymPy)."""
    from ..engines.evaluate import pick_outputs, pick_wrt
    from ..verify.diff_text import diff_text
    from ..verify.symbolic import Budget, SympyTimeout, derivatives

    graph = formula(file, expr)
    if latex and fmt is not DiffFormat.text and fmt is not DiffFormat.latex:
        raise AgradError(f"--latex contradicts --format {fmt.value}", None, "give one of them")
    outs = pick_outputs(graph, output)
    names = [w for w, _ in pick_wrt(graph, split_names(wrt))]
    computed = [w for w in names if w not in graph.input_ids]
    if computed:
        raise AgradError(
            f"--wrt {computed[0]}: '{computed[0]}' is computed by the file; agrad diff "
            "differentiates by inputs",
            None,
            "agrad eval FILE --at ... --wrt NAME gives the derivative by an intermediate",
        )
    from ..verify.oracle import SYMPY_FAILURES, sympy_failure, too_deep_for_sympy

    deep = too_deep_for_sympy(graph, [node for _, node in outs])
    if deep:
        raise AgradError(deep.removeprefix("skipped: "), None, "check it numerically: agrad check")
    budget = Budget.of(sympy_timeout)  # one budget for the derivatives and their printing
    try:
        pairs = derivatives(graph, outs, names, simplify, budget, order)
        text = diff_text(pairs, (DiffFormat.latex if latex else fmt).value, budget)
    except SympyTimeout:
        raise AgradError(
            f"SymPy did not finish within {sympy_timeout:g} s",
            None,
            "raise --sympy-timeout or try --no-simplify",
        ) from None
    except SYMPY_FAILURES as exc:
        raise AgradError(
            f"SymPy cannot represent {graph.source.name} ({sympy_failure(exc)})",
            None,
            "agrad diff works on formulas of scalar inputs",
        ) from None
    typer.echo(text)


def _impl_rows(path: str, specs: list[str], points, seed, ranges, tol, timeout) -> list:
    """Rows for each --impl function checked against the file."""
    from ..language.parser import parse_file
    from ..verify.impl import check_impl, load

    graph = parse_file(path)
    names = list(graph.input_ids)
    functions = [(spec, load(spec, names)) for spec in specs]  # import errors before any work
    rows = []
    for spec, fn in functions:
        rows += check_impl(graph, path, spec, fn, points, seed, ranges, tol, timeout)
    return rows


def _tolerance(value: float) -> float:
    """A tolerance: a finite number, zero or more (nan would pass everything)."""
    if not (value >= 0 and value != float("inf")):
        raise typer.BadParameter(f"{value:g} is not a finite tolerance of 0 or more")
    return value


@app.command(
    "check",
    epilog="Examples:  agrad check samples/rules  |  agrad check samples/rosenbrock.txt "
    "--range x=-2:2 --points 100  |  agrad check --ops  |  agrad check samples --junit report.xml",
)
@guard
def check_command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[FILES-OR-FOLDERS]...",
            help="Files, or folders of *.txt and *.agrad files (not inside errors/ folders); "
            "'-' reads one formula from standard input.",
        ),
    ] = None,
    expr: ExprOpt = None,
    ops: Annotated[bool, typer.Option("--ops", help="Check every op's derivative rule.")] = False,
    points: Annotated[int, typer.Option("--points", "-n", min=1, help="Points per file.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for the points.")] = 0,
    ranges: Annotated[
        list[str] | None,
        typer.Option("--range", "-r", metavar="NAME=LO:HI", help="Sampling range of an input."),
    ] = None,
    rtol: Annotated[
        float, typer.Option("--rtol", callback=_tolerance, help="Relative tolerance vs SymPy.")
    ] = 1e-7,
    atol: Annotated[
        float, typer.Option("--atol", callback=_tolerance, help="Absolute tolerance vs SymPy.")
    ] = 1e-9,
    fd_rtol: Annotated[
        float,
        typer.Option(
            "--fd-rtol", callback=_tolerance, help="Relative tolerance vs finite differences."
        ),
    ] = 1e-5,
    fd_atol: Annotated[
        float,
        typer.Option(
            "--fd-atol", callback=_tolerance, help="Absolute tolerance vs finite differences."
        ),
    ] = 1e-6,
    sympy_timeout: TimeoutOpt = 10.0,
    fmt: Annotated[
        CheckFormat | None,
        typer.Option("--format", "-f", help="table, json or junit [default: from -o, or table]."),
    ] = None,
    out: Annotated[
        str | None, out_option("the results (.json, .xml for JUnit, .txt for the table)")
    ] = None,
    junit: Annotated[
        str | None, typer.Option("--junit", metavar="PATH", help="Also write JUnit XML here.")
    ] = None,
    impl: Annotated[
        list[str] | None,
        typer.Option("--impl", metavar="MODULE:FUNCTION", help="Check your gradient code too."),
    ] = None,
) -> None:
    """Check gradients and claims in files against SymPy and finite differences (for CI)."""
    from ..verify.files import check_many
    from ..verify.oracle import Tolerances

    if not paths and not ops and expr is None:
        raise AgradError(
            "nothing to check", None, "name files or folders, give -e FORMULA, or pass --ops"
        )
    chosen = pick_format(fmt and fmt.value, out, CHECK_SUFFIXES, "table")
    from ..io.outfile import check_target

    for target in (junit, out):
        if target:
            check_target(target, paths or [])
    tol = Tolerances(rtol, atol, fd_rtol, fd_atol)
    if impl and (len(paths or []) != 1 or expr is not None or ops):
        raise AgradError(
            "--impl checks code against one specification file", None, "agrad check FILE --impl m:f"
        )
    inline = [] if expr is None else [("-e", expr)]
    results, errors = check_many(
        paths or [],
        ops,
        points,
        seed,
        _ranges(ranges or []),
        tol,
        sympy_timeout,
        progress("files"),
        inline,
    )
    if impl and not errors:
        results += _impl_rows(
            paths[0], impl, points, seed, _ranges(ranges or []), tol, sympy_timeout
        )
    if results:
        _emit_check(results, chosen, out, junit)
    for err in errors:
        if STATE["debug"] and err.__cause__ is not None:
            import traceback

            traceback.print_exception(err.__cause__, file=sys.stderr)
        typer.echo(err.render(), err=True)
    if errors:
        raise typer.Exit(2)
    failed = sum(r.failed for r in results)
    if failed:
        raise CheckFailed(f"{failed} check(s) failed")
    if not results:
        raise AgradError("nothing to check", None, "name files or folders, or pass --ops")


def _emit_check(results, fmt: str, out: str | None, junit: str | None) -> None:
    """Print or write the check results, and write the CI formats."""
    from ..io.outfile import atomic_open, write_text
    from ..render.ci import github_annotations
    from ..render.ci import junit as junit_xml

    if fmt == "table":
        from ..render.table import check_details, check_table

        def show(con) -> None:
            con.print(check_table(results))
            for line in check_details(results):
                con.print(line, markup=False, highlight=False)

        if out and out != "-":
            with atomic_open(out) as fh:
                show(console(file=fh))
        else:
            show(console())
    else:
        if fmt == "json":
            from ..render.jsondoc import check_dict, dumps

            text = dumps(check_dict(results)) + "\n"
        else:
            text = junit_xml(results)
        write_text(out or "-", text)
    if out and out != "-":
        note(f"wrote {out}")
    if junit:
        write_text(junit, junit_xml(results))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # Workflow commands go to stdout, except where stdout must stay machine-readable.
        for line in github_annotations(results):
            typer.echo(line, err=fmt != "table" and not out)
    report_failures(r for r in results if r.kind == "gradient")


def _ranges(items: list[str]) -> dict[str, tuple[float, float]]:
    """Parse `--range x=0.1:5` options."""
    from ..errors import Source, Span

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
