"""`agrad eval`: a formula's value and gradient at one point or at many."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import AgradError, CheckFailed
from ..io.outfile import DATA_SUFFIXES
from ..render.at_point import EvalRequest, evaluate_point, point_json, point_tables
from .app import (
    AtOpt,
    ExprOpt,
    FileArg,
    OutputOpt,
    TimeoutOpt,
    ValuesArg,
    WrtOpt,
    app,
    assignments,
    console,
    formula,
    guard,
    note,
    out_option,
    pick_format,
    report_failures,
    split_names,
)
from .batch import eval_batch
from .second_order import Second
from .uncertainty import SpreadFlags

if TYPE_CHECKING:
    from ..render.batch import BatchRequest


class EvalFormat(str, Enum):
    """Output formats of `agrad eval` (csv: with --at-file only)."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"
    arrow = "arrow"


class Backend(str, Enum):
    """Where `agrad eval --at-file` runs."""

    local = "local"
    dask = "dask"


class Reduce(str, Enum):
    """`--reduce`: one row over all points."""

    sum = "sum"
    mean = "mean"


class Engine(str, Enum):
    """How `agrad eval --at-file` runs the graph."""

    auto = "auto"
    compiled = "compiled"
    fused = "fused"
    native = "native"
    interpreted = "interpreted"


class Device(str, Enum):
    """`--device`: where `--at-file` runs."""

    cpu = "cpu"
    cuda = "cuda"


ONE_POINT_SUFFIXES = {".json": "json", ".txt": "table"}
BATCH_SUFFIXES = DATA_SUFFIXES  # every data format a points run writes
COLUMNAR = ("parquet", "arrow")
EVAL_EPILOG = (
    "Examples:  agrad eval samples/seed.txt --at a=1 b=2 c=3 d=4 "
    "|  agrad eval samples/mlp.txt --at x=[0.5,-1] W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]] "
    "b1=[0,0.1,-0.1] W2=[0.7,-0.8,0.9] b2=0.05 t=1 --format json "
    "|  agrad eval samples/polar.txt --at x=1 y=1 --nodes --edges "
    "|  agrad eval -e 'x^2 * sin(y)' --at x=1 y=2"
)


@app.command("eval", epilog=EVAL_EPILOG, context_settings={"ignore_unknown_options": True})
@guard
def eval_command(
    ctx: typer.Context,
    file: FileArg = None,
    values: ValuesArg = None,
    expr: ExprOpt = None,
    at: AtOpt = None,
    wrt: WrtOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[
        EvalFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table or json; with --at-file csv, json, parquet or arrow [default: from "
            "-o's suffix].",
        ),
    ] = None,
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
    sympy_timeout: TimeoutOpt = None,
    hessian: Annotated[
        bool, typer.Option("--hessian", help="Second derivatives (JSON: hessian[x][y]).")
    ] = False,
    hvp: Annotated[
        list[str] | None,
        typer.Option("--hvp", metavar="NAME=VALUE", help="H·v along a direction (others 0)."),
    ] = None,
    jvp: Annotated[
        list[str] | None,
        typer.Option("--jvp", metavar="NAME=VALUE", help="J·v: the derivative along a direction."),
    ] = None,
    order: Annotated[
        int | None, typer.Option("--order", min=1, max=16, help="d^k/dx^k up to N, one --wrt x.")
    ] = None,
    taylor: Annotated[
        bool, typer.Option("--taylor", help="With --order: Taylor coefficients f^(k)/k!.")
    ] = False,
    digits: Annotated[
        int | None,
        typer.Option("--digits", min=1, max=17, help="Significant digits in tables [default: 6]."),
    ] = None,
    at_file: Annotated[
        str | None,
        typer.Option(
            "--at-file",
            metavar="FILE",
            help="Many points: a .csv (header of input names), .npy, .npz, .json, .parquet, "
            ".arrow or a folder of Parquet files; '-' is CSV on standard input.",
        ),
    ] = None,
    chunk: Annotated[
        int | None,
        typer.Option("--chunk", min=1, help="Rows evaluated at once with --at-file [100000]."),
    ] = None,
    out: Annotated[str | None, out_option("the results (format from the suffix)")] = None,
    sigma: Annotated[
        list[str] | None,
        typer.Option(
            "--sigma",
            metavar="NAME=VALUE",
            help="Standard uncertainties of inputs: each output's sigma and variance shares.",
        ),
    ] = None,
    sigma_suffix: Annotated[
        str | None,
        typer.Option(
            "--sigma-suffix",
            metavar="SUFFIX",
            help="With --at-file: columns <input><SUFFIX> hold each point's sigmas (e.g. _sd).",
        ),
    ] = None,
    cov: Annotated[
        str | None,
        typer.Option(
            "--cov",
            metavar="FILE",
            help="A covariance of inputs: header of names, one matrix row per line.",
        ),
    ] = None,
    sigma_order: Annotated[
        int | None,
        typer.Option(
            "--sigma-order",
            min=1,
            max=2,
            help="1: from the gradient [default]; 2: adds the Hessian's mean shift and variance.",
        ),
    ] = None,
    backend: Annotated[
        Backend | None,
        typer.Option(
            "--backend",
            help="With --at-file: 'dask' maps the file's plan over a dataset's files on a Dask "
            "cluster (pip install 'agrad[dask]').",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="With --backend dask: a running scheduler (tcp://host:8786) [default: a local "
            "cluster on 127.0.0.1].",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="With --backend dask: processes of the local cluster, at most one per core "
            "[2].",
        ),
    ] = None,
    reduce: Annotated[
        Reduce | None,
        typer.Option("--reduce", help="With --at-file: one row, each column's sum or mean."),
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            metavar="NAMES",
            help="With --at-file: columns that are not inputs (e.g. id,label), carried to a "
            "csv, parquet or arrow output before the results.",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="With --at-file: 'auto' runs the compiled plan for 1000+ rows of an "
            "elementwise graph (a fused kernel where it pays: native C, or numba's).",
        ),
    ] = Engine.auto,
    device: Annotated[
        Device,
        typer.Option("--device", help="With --at-file: 'cuda' runs the fused kernel on a GPU."),
    ] = Device.cpu,
    explain_engine: Annotated[
        bool,
        typer.Option("--explain-engine", help="Say on stderr which engine ran, and why."),
    ] = False,
) -> None:
    """Evaluate a formula: its value and gradient at a point, or at many (--at-file)."""
    points = assignments(ctx, at, values)
    graph = formula(file, expr, points)
    flags = SpreadFlags(sigma, sigma_suffix, cov, sigma_order)
    spread = flags.spread(graph, split_names(wrt), batch=at_file is not None)
    if at_file is not None:
        _refuse("--at-file writes one row per point", nodes=nodes, edges=edges,
                jacobian=jacobian, check=check, digits=digits, sympy_timeout=sympy_timeout,
                hvp=hvp, jvp=jvp, order=order, taylor=taylor)  # fmt: skip
        from ..render.batch import BatchRequest

        run = BatchRequest(at_file, points, "csv", chunk or 100_000, out, strict, engine.value,
                           output, split_names(wrt), hessian, spread, sigma_suffix, cov,
                           backend.value if backend else "local", scheduler, workers,
                           reduce and reduce.value, split_names(keep), device.value,
                           explain_engine)  # fmt: skip
        run.fmt = _batch_format(run, fmt, chunk)
        eval_batch(graph, run)
        return
    _refuse("--backend, --scheduler, --workers, --reduce and --keep are for --at-file",
            backend=backend, scheduler=scheduler, workers=workers, reduce=reduce,
            keep=keep)  # fmt: skip
    _refuse(
        "one point (--at) runs the interpreter; --engine, --device and --chunk are for --at-file",
        engine=engine is not Engine.auto,
        device=device is not Device.cpu,
        chunk=chunk,
    )
    _refuse("--sympy-timeout limits --check", sympy_timeout=sympy_timeout and not check)
    chosen = _point_format(fmt, out, digits)
    second = Second(hessian, hvp, jvp, order, taylor)
    second.validate(split_names(wrt))
    request = EvalRequest(points, output, split_names(wrt), nodes, edges, jacobian, check,
                          sympy_timeout or 10.0, digits or 6, second, spread)  # fmt: skip
    _eval_point(graph, request, PointOutput(chosen, out, [file, cov], strict, explain_engine))


def _batch_format(run: BatchRequest, fmt: EvalFormat | None, chunk: int | None) -> str:
    """The output format of --at-file, after the flags that cannot go with it are refused."""
    from ..render.batch import is_dataset

    if fmt is EvalFormat.table:
        raise AgradError(
            "--format table shows one point; --at-file writes csv or json", None, None
        )
    dask = run.backend == "dask"
    _refuse("--scheduler and --workers are for --backend dask",
            scheduler=run.scheduler and not dask, workers=run.workers and not dask)  # fmt: skip
    _refuse("--backend dask reads each file of the dataset whole", chunk=chunk and dask)
    out = run.out
    folder = dask and is_dataset(out) and not run.reduce
    if out and out.endswith(("/", "\\")) and not dask:
        raise AgradError(
            f"-o {out}: a folder of output files is written by --backend dask",
            None,
            "name one file (e.g. results.parquet), or add --backend dask",
        )
    default = "parquet" if folder else "csv"
    chosen = pick_format(fmt and fmt.value, None if folder else out, BATCH_SUFFIXES, default)
    if chosen in COLUMNAR and (out is None or out == "-"):
        raise AgradError(
            f"{chosen} output is binary; it needs a file", None, f"add -o points.{chosen}"
        )
    return chosen


def _point_format(fmt: EvalFormat | None, out: str | None, digits: int | None) -> str:
    """The output format at one point (table or json), checked against --digits."""
    if fmt in (EvalFormat.csv, EvalFormat.parquet, EvalFormat.arrow):
        raise AgradError(
            f"--format {fmt.value} writes one row per point of --at-file",
            None,
            "add --at-file points.csv, or use --format json",
        )
    chosen = pick_format(fmt and fmt.value, out, ONE_POINT_SUFFIXES, "table")
    if chosen == "json" and digits is not None:
        raise AgradError("--digits rounds tables; JSON always has every digit", None, None)
    return chosen


def _refuse(why: str, **flags) -> None:
    """An error naming the first flag given that the mode cannot honour."""
    for name, given in flags.items():
        if given not in (None, False):
            flag = "--" + name.replace("_", "-")
            raise AgradError(f"{flag} cannot be used here: {why}", None, f"drop {flag}")


@dataclass
class PointOutput:
    """Where `agrad eval --at` writes, in which format, and what it says on stderr."""

    fmt: str
    out: str | None
    inputs: list  # files the output must not overwrite
    strict: bool
    explain: bool


def _eval_point(graph, request: EvalRequest, how: PointOutput) -> None:
    """`agrad eval` at one point: tables or JSON, to stdout or -o."""
    from ..io.outfile import atomic_open, check_target, write_stdout

    if how.out:
        check_target(how.out, how.inputs)
    report = evaluate_point(graph, request)
    if how.explain:
        note(str(report.ev.choice))
    if how.fmt == "json":
        text = point_json(report, request)
        if how.out:
            with atomic_open(how.out, how.inputs) as fh:
                fh.write(text)
        else:
            write_stdout(text)
    else:
        tables = point_tables(report, request)
        with contextlib.ExitStack() as stack:
            fh = stack.enter_context(atomic_open(how.out, how.inputs)) if how.out else None
            con = console(file=fh) if fh is not None else console()
            for table in tables:
                con.print(table)
    for notice in report.notices:
        typer.echo(notice.render(), err=True)
    report_failures(report.results)
    if how.strict and report.notices:
        raise CheckFailed(f"{len(report.notices)} non-finite result(s) under --strict")
    if report.failed:
        raise CheckFailed("the gradient check failed")
    if how.out:
        note(f"wrote {how.out}")


@app.command("ops", epilog="Example: agrad ops")
@guard
def ops_command() -> None:
    """List every operation: syntax, derivative, test domain and convention at kinks."""
    from ..ops import REGISTRY
    from ..render.table import ops_table

    console().print(ops_table(REGISTRY.values()))
