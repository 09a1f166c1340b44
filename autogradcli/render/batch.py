"""Many points as one call: a `BatchRequest` in, every row written, a `BatchReport` out.

`agrad eval --at-file` builds the request from its flags; from Python,
`ag.run_batch(ag.parse_file(...), ag.BatchRequest(points=...))` does the same, with `reduce`
(one row: each column's sum or mean) and Dask datasets (`backend="dask"`, one file per
partition in an output folder).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engines.batch import BatchResult, RowSpec
from ..errors import AgradError

COLUMNAR = ("parquet", "arrow")
BatchReport = BatchResult  # rows, non-finite rows, columns, the engine that ran and why
Progress = Callable[[contextlib.ExitStack, str], Callable[[int], None] | None]


@dataclass
class BatchRequest:
    """What to evaluate at every row of a points file, and where the rows go."""

    points: str
    fixed: list[str] = field(default_factory=list)  # `name=value` for inputs not in the file
    fmt: str = "csv"
    chunk: int = 100_000
    out: str | None = None  # None: standard output
    strict: bool = False
    engine: str = "auto"
    output: list[str] | None = None
    wrt: list[str] | None = None
    hessian: bool = False
    spread: object = None
    suffix: str | None = None
    cov: str | None = None
    backend: str = "local"
    scheduler: str | None = None
    workers: int | None = None
    reduce: str | None = None  # "sum" or "mean"
    keep: list[str] | None = None
    device: str = "cpu"
    explain: bool = False


def is_dataset(out: str | None) -> bool:
    """True for an output folder of `--backend dask`: a name ending in '/', or a name without
    a suffix that is new or an existing folder (not a file or a device such as /dev/stdout)."""
    import os
    import stat

    if not out or out == "-" or (Path(out).suffix and not out.endswith(("/", "\\"))):
        return False
    if out.endswith(("/", "\\")):
        return True
    try:
        return stat.S_ISDIR(os.stat(out).st_mode)
    except OSError:
        return True  # a new name


def run_batch(graph, request: BatchRequest, progress: Progress | None = None) -> BatchReport:
    """Every row's values and gradients (or their sum or mean), written as asked; `progress`
    (given the open files and the points path) may return a function told each block's rows."""
    from ..engines.evaluate import pick_outputs
    from ..io.outfile import check_target
    from ..language.values import parse_assignments

    run = dataclasses.replace(request)
    source = graph.source.name if graph.source else None
    inputs = [source, run.points, run.cov]
    if run.keep:
        _check_keep(graph, run)
    dataset = run.backend == "dask" and is_dataset(run.out) and not run.reduce
    if run.out and not dataset:
        check_target(run.out, inputs)
    outs = pick_outputs(graph, run.output)
    given = {name: v for name, (v, _) in parse_assignments(run.fixed).items()}
    with contextlib.ExitStack() as stack:
        tick = progress(stack, run.points) if progress is not None else None
        if dataset:
            return _dask_dataset(graph, run, given, outs, tick)
        return _to_stream(graph, run, (given, outs, inputs), stack, tick)


def _to_stream(graph, run: BatchRequest, prepared, stack, tick) -> BatchReport:
    """The rows (or their one reduced row) written to one file or standard output."""
    from ..io.outfile import atomic_open

    given, outs, inputs = prepared
    binary = run.fmt in COLUMNAR
    if run.out:
        opened = atomic_open(run.out, inputs, binary=binary, newline=None if binary else "")
        stream = stack.enter_context(opened)
    else:
        stream = sys.stdout
    writer = _writer(stream, run.fmt, graph, outs, stack, run.reduce)
    if run.keep:
        from ..io.kept import keeping

        writer = keeping(stream, run.fmt, writer, run.points)
    write = writer.write
    reducer = None
    if run.reduce:
        reducer = Reducer(run.reduce)
        write = reducer.write
    if run.backend == "dask":
        result = _dask_stream(graph, run, given, outs, write, tick)
    else:
        from ..engines.batch import run_batch as run_rows

        result = run_rows(graph, run.points, given, run.chunk, write, tick, _spec(run, outs))
    if reducer is not None:
        reducer.finish(writer.write, result)
    writer.close(result)
    return result


def _check_keep(graph, run: BatchRequest) -> None:
    """--keep names columns that are not inputs, for an output that can hold them."""
    from ..io.points import PointsPath

    why = ("--reduce writes one row" if run.reduce else
           "--backend dask reads each file on a worker" if run.backend == "dask" else
           f"--format {run.fmt} holds numbers only" if run.fmt not in ("csv", *COLUMNAR) else
           None)  # fmt: skip
    if why:
        raise AgradError(f"--keep cannot be used here: {why}", None, "drop --keep")
    inputs = [n for n in run.keep if n in graph.input_ids]
    if inputs:
        raise AgradError(
            f"--keep {inputs[0]}: '{inputs[0]}' is an input (its column is in the output already)",
            None,
            "keep only columns that are not inputs",
        )
    run.points = PointsPath(run.points, run.keep)


def _writer(stream, fmt: str, graph, outs, stack, reduce: str | None = None):
    """The writer of one output file (or stdout) in `fmt`."""
    if fmt == "json":
        from .jsondoc import BatchJson

        return BatchJson(stream, graph, outs, reduce)
    if fmt in COLUMNAR:
        from ..io.arrow import ColumnarWriter

        writer = ColumnarWriter(stream, fmt)
        stack.callback(writer.abort)  # before the unfinished file is removed
        return writer
    return CsvWriter(stream, stack)


def _spec(run: BatchRequest, outs) -> RowSpec:
    """What each row computes, as the engines take it."""
    return RowSpec(outs, run.wrt, run.hessian, run.spread, run.suffix, run.engine, run.device)


def _kernel(graph, run: BatchRequest, given, outs, names: list[str]):
    from ..engines.batch import kernel_for

    return kernel_for(graph, names, run.points, given, _spec(run, outs))


def _dask_stream(graph, run: BatchRequest, given, outs, write, tick) -> BatchReport:
    """Dask computes the partitions; they are written here in order (or reduced by Dask)."""
    from ..engines import cluster

    files = cluster.input_files(run.points)
    names = cluster.dataset_names(files)
    kernel = _kernel(graph, run, given, outs, names)
    with cluster.connect(run.scheduler, run.workers) as client:
        ddf = cluster.frames(kernel, files, names)
        result = BatchResult(columns=kernel.columns, engine=kernel.ran)
        if run.reduce:
            row, result.rows = cluster.reduce_frame(client, ddf, run.reduce)
            write(kernel.columns, row, reduced=True)
            return result
        cluster.write_stream(client, ddf.to_delayed(), result, write, tick)
    return result


def _dask_dataset(graph, run: BatchRequest, given, outs, tick) -> BatchReport:
    """One output file per partition, in a folder that appears when all are written."""
    from ..engines import cluster
    from ..io.folders import check_dataset_target

    kind = {"csv": "csv", "parquet": "parquet", "arrow": "arrow"}.get(run.fmt)
    if kind is None:
        raise AgradError(
            f"a dataset folder holds csv, parquet or arrow files, not {run.fmt}",
            None,
            "drop --format, or name one output file",
        )
    files = cluster.input_files(run.points)
    target = run.out.rstrip("/\\")
    check_dataset_target(target, [run.points, *files, run.cov])
    names = cluster.dataset_names(files)
    kernel = _kernel(graph, run, given, outs, names)
    with cluster.connect(run.scheduler, run.workers) as client:
        ddf = cluster.frames(kernel, files, names)
        result = BatchResult(columns=kernel.columns, engine=kernel.ran)
        cluster.write_dataset(client, ddf.to_delayed(), target, kind, result, tick)
    return result


class Reducer:
    """Each column's sum or mean over every block, written as one row at the end."""

    def __init__(self, how: str):
        self.how = how
        self.columns: list[str] = []
        self.total: np.ndarray | None = None
        self.rows = 0
        self.done: np.ndarray | None = None

    def write(self, columns: list[str], table: np.ndarray, reduced: bool = False) -> None:
        """Add a block of rows (or take Dask's reduced row as it is)."""
        self.columns = columns
        if reduced:
            self.done = table
            return
        part = table.sum(axis=0)
        self.total = part if self.total is None else self.total + part
        self.rows += len(table)

    def finish(self, write, result) -> None:
        """Write the one row."""
        if self.done is not None:
            row = self.done
        else:
            total = self.total if self.total is not None else np.zeros(len(result.columns))
            if self.how == "mean":
                total = total / self.rows if self.rows else np.full_like(total, np.nan)
            row = total.reshape(1, -1)
        write(result.columns, row)


class CsvWriter:
    """CSV rows with shortest round-trip digits, the header before the first block; to a
    file, the blocks are written by a second thread while the next ones are computed."""

    def __init__(self, stream, stack=None):
        self.stream = stream
        self.started = False
        self.behind = None
        self.stack = stack

    def write(self, columns, table) -> None:
        from ..io.arrow import csv_blocks

        if not self.started:
            self.stream.write(",".join(columns) + "\n")
            self.started = True
            raw = getattr(self.stream, "buffer", None)  # bytes straight to the file
            if raw is not None and self.stack is not None:
                from ..io.outfile import Behind

                self.stream.flush()
                self.behind = Behind(raw)
                self.stack.callback(self.behind.stop)  # joined before the file is closed
        for block in csv_blocks(table):
            if self.behind is not None:
                self.behind.put(block)
            else:
                self.stream.write(bytes(block).decode("ascii"))

    def close(self, result) -> None:
        if not self.started:
            self.stream.write(",".join(result.columns) + "\n")
        if self.behind is not None:
            self.behind.close()
        self.stream.flush()
