"""`--keep id,label`: columns of a points file that are not inputs, read as they are and
written before each row's results (CSV, Parquet and Arrow outputs), in the order named.

The numbers are read by the usual readers, which leave these columns out; a second reader
goes through the same file for the kept columns only and hands them out a block of rows at a
time, as the results of those rows are written. CSV cells are carried as their text; Parquet
and Arrow columns keep their type (written to CSV through pyarrow's text form).
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import AgradError
from .points import csv_header, kept


class KeptRows:
    """The kept columns of a points file, handed out in order, `take(n)` rows at a time: one
    list of strings (CSV) or one Arrow array (Parquet, Arrow) per kept column."""

    def __init__(self, path: str, chunk: int = 1 << 16):
        from .arrow import is_columnar

        if path == "-":
            raise AgradError("--keep reads its file twice; standard input cannot be", None,
                             "save the points to a file first")  # fmt: skip
        self.names = list(kept(path))
        self.path = str(path)
        self.types = None
        source = _arrow_columns if is_columnar(path) else _csv_columns
        self.blocks: Iterator[list] = source(self, path, chunk)
        self.pending: deque[list] = deque()

    def take(self, n: int) -> list:
        """The next `n` rows of every kept column."""
        parts, have = [], 0
        while have < n:
            block = self.pending.popleft() if self.pending else next(self.blocks, None)
            if block is None:
                raise AgradError(f"{self.path}: the kept columns ended before the numbers")
            size = len(block[0])
            if have + size > n:
                cut = n - have
                self.pending.appendleft([c[cut:] for c in block])
                block = [c[:cut] for c in block]
                size = cut
            parts.append(block)
            have += size
        return [_joined([p[k] for p in parts], self.types, k) for k in range(len(self.names))]

    def finish(self) -> None:
        """Check that no kept row is left over (both readers saw the same rows)."""
        rest = self.pending or [b for b in [next(self.blocks, None)] if b is not None]
        if any(len(b[0]) for b in rest):
            raise AgradError(f"{self.path}: the kept columns have more rows than the numbers")


def _joined(pieces: list, types, k: int):
    """Pieces of one column as one list (CSV) or one Arrow array."""
    if types is None:
        return [cell for piece in pieces for cell in piece]
    import pyarrow as pa

    return pa.concat_arrays(pieces) if pieces else pa.array([], types[k])


def _csv_columns(rows: KeptRows, path: str, chunk: int) -> Iterator[list]:
    """Blocks of the kept columns' cells of a CSV file, as text."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = csv_header(path, fh.readline(), rows.names)
        where = [header.names.index(n) for n in rows.names]
        block: list[list[str]] = [[] for _ in where]
        for cells in csv.reader(fh, delimiter=header.delimiter):
            if len(cells) <= 1 and not "".join(cells).strip():
                continue  # a blank line is not a row
            if len(cells) != len(header.names):
                return  # the number reader names the line
            for column, k in zip(block, where, strict=True):
                column.append(cells[k])
            if len(block[0]) >= chunk:
                yield block
                block = [[] for _ in where]
        if block[0]:
            yield block


def _arrow_columns(rows: KeptRows, path: str, chunk: int) -> Iterator[list]:
    """Blocks of the kept columns of a Parquet file, dataset folder or Arrow file."""
    import pyarrow as pa

    from .arrow import _schema, batches, dataset_files

    files = dataset_files(path) if Path(path).is_dir() else [path]
    schema = _schema(pa, files[0])
    rows.types = [schema.field(n).type for n in rows.names]
    for f in files:
        try:
            for batch in batches(pa, f, chunk, rows.names):
                yield list(batch.columns)
        except (OSError, pa.ArrowException) as exc:
            raise AgradError(f"cannot read points from {f}: {exc}") from None


def as_text(column) -> list[str]:
    """A kept column's cells as text (an Arrow array through pyarrow's text form)."""
    if isinstance(column, list):
        return column
    import pyarrow as pa

    return ["" if v is None else v for v in column.cast(pa.string()).to_pylist()]


class KeptCsv:
    """CSV rows: the kept cells (quoted where needed), then the results' numbers."""

    def __init__(self, stream, names: list[str]):
        self.stream, self.names, self.started = stream, names, False

    def write(self, columns: list[str], table: np.ndarray, kept_columns: list) -> None:
        from .arrow import csv_blocks

        if not self.started:
            self.stream.write(_csv_line([*self.names, *columns]))
            self.started = True
        numbers = "".join(bytes(b).decode("ascii") for b in csv_blocks(table)).splitlines()
        cells = zip(*(as_text(c) for c in kept_columns), strict=True)
        self.stream.write("".join(_csv_line(list(c))[:-1] + "," + n + "\n"
                                  for c, n in zip(cells, numbers, strict=True)))  # fmt: skip

    def close(self, result) -> None:
        if not self.started:
            self.stream.write(_csv_line([*self.names, *result.columns]))
        self.stream.flush()


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


class KeepingWriter:
    """Gives each block of results the kept columns of the same rows."""

    def __init__(self, inner, rows: KeptRows):
        self.inner, self.rows, self.wrote = inner, rows, False

    def write(self, columns: list[str], table: np.ndarray) -> None:
        """Write one block of results after its rows' kept columns."""
        self.inner.write(columns, table, self.rows.take(len(table)))
        self.wrote = True

    def close(self, result) -> None:
        """Finish the output (the header only, for a file of no rows)."""
        self.rows.finish()
        if not self.wrote:
            self.write(result.columns, np.zeros((0, len(result.columns))))
        self.inner.close(result)


def keeping(stream, fmt: str, writer, points: str):
    """The writer of an output with the kept columns of `points` first."""
    rows = KeptRows(points)
    if fmt == "csv":
        return KeepingWriter(KeptCsv(stream, rows.names), rows)
    if fmt in ("parquet", "arrow"):
        writer.keep = rows.names
        return KeepingWriter(writer, rows)
    raise AgradError(f"--keep writes csv, parquet or arrow, not {fmt}", None,
                     "drop --keep, or name a .csv, .parquet or .arrow output")  # fmt: skip
