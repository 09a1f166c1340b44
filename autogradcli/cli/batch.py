"""`agrad eval --at-file`: every row of a points file, on this machine or on Dask."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import typer

from ..errors import AgradError, CheckFailed
from .app import note, progress

COLUMNAR = ("parquet", "arrow")


@dataclass
class BatchRun:
    """What `agrad eval --at-file` was asked to do."""

    points: str
    fixed: list[str]
    fmt: str
    chunk: int
    out: str | None
    strict: bool
    engine: str
    output: list[str] | None
    wrt: list[str] | None
    hessian: bool = False
    spread: object = None
    suffix: str | None = None
    cov: str | None = None
    backend: str = "local"
    scheduler: str | None = None
    workers: int | None = None
    reduce: str | None = None
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


def eval_batch(graph, run: BatchRun) -> None:
    """Every row's values and gradients (or their sum or mean), written as asked."""
    from ..engines.evaluate import pick_outputs
    from ..io.outfile import atomic_open, check_target
    from ..language.values import parse_assignments

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
        tick = _progress(stack, run.points)
        if dataset:
            result = _dask_dataset(graph, run, given, outs, tick)
        else:
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
                from ..engines.batch import run_batch

                result = run_batch(graph, run.points, given, run.chunk, write, tick, run.engine,
                                   outs, run.wrt, run.hessian, run.spread, run.suffix,
                                   run.device)  # fmt: skip
            if reducer is not None:
                reducer.finish(writer.write, result)
            writer.close(result)
    _report(result, run)


def _check_keep(graph, run: BatchRun) -> None:
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


def _progress(stack, points: str):
    """A progress bar on a terminal: its tick function, or None."""
    from ..io.points import count_rows

    bar = progress()
    if bar is None:
        return None
    stack.enter_context(bar)
    total = count_rows(points) if Path(points).is_file() or points == "-" else None
    task = bar.add_task("evaluating", total=total)
    return lambda n: bar.advance(task, n)


def _writer(stream, fmt: str, graph, outs, stack, reduce: str | None = None):
    """The writer of one output file (or stdout) in `fmt`."""
    if fmt == "json":
        from ..render.jsondoc import BatchJson

        return BatchJson(stream, graph, outs, reduce)
    if fmt in COLUMNAR:
        from ..io.arrow import ColumnarWriter

        writer = ColumnarWriter(stream, fmt)
        stack.callback(writer.abort)  # before the unfinished file is removed
        return writer
    return CsvWriter(stream, stack)


def _kernel(graph, run: BatchRun, given, outs, names: list[str]):
    from ..engines.batch import kernel_for

    return kernel_for(graph, names, run.points, given, run.engine, outs, run.wrt, run.hessian,
                      run.spread, run.suffix)  # fmt: skip


def _dask_stream(graph, run: BatchRun, given, outs, write, tick):
    """Dask computes the partitions; they are written here in order (or reduced by Dask)."""
    from ..engines import cluster
    from ..engines.batch import BatchResult

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


def _dask_dataset(graph, run: BatchRun, given, outs, tick):
    """One output file per partition, in a folder that appears when all are written."""
    from ..engines import cluster
    from ..engines.batch import BatchResult
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


def _report(result, run: BatchRun) -> None:
    """The non-finite rows on stderr (an error under --strict), and where the output went."""
    if run.explain:
        note(str(result.choice) if result.choice else f"engine: {result.engine}")
    if result.nonfinite_rows:
        typer.echo(
            f"warning: {result.nonfinite_rows} of {result.rows} rows have nan or inf; "
            f"{result.first_bad}",
            err=True,
        )
        if run.strict:
            raise CheckFailed("non-finite results under --strict")
    if run.out:
        what = f"{result.rows:,} rows"
        what = f"the {run.reduce} of {what}" if run.reduce else what
        note(f"wrote {what} to {run.out}")


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
