"""Columnar points files through pyarrow (the `agrad[arrow]` extra), imported only when used.

Reading: Parquet files, folders of Parquet files (a dataset), Arrow IPC files, and CSV, each
in record batches of at most `chunk` rows, so memory follows `--chunk`, not the file. The
NumPy CSV reader stays the reference: a CSV that pyarrow cannot read as numbers is read from
the failing block on by the NumPy reader, which either reads it (spaces around numbers, say)
or reports the exact line and column. Writing: Parquet, Arrow IPC and CSV (shortest
round-trip digits) by the output's suffix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import AgradError

COLUMNAR = (".parquet", ".arrow", ".feather", ".ipc")


def pyarrow_or_none():
    """The pyarrow module, or None when it is not installed."""
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


def need_pyarrow(what: str):
    """The pyarrow module, or a clear error naming the extra to install."""
    pa = pyarrow_or_none()
    if pa is None:
        raise AgradError(
            f"{what} needs pyarrow, which is not installed",
            None,
            "pip install 'agrad[arrow]' (or use CSV, .npy, .npz or JSON)",
        )
    return pa


def is_columnar(path: str) -> bool:
    """True for a Parquet or Arrow file, or a folder (a Parquet dataset)."""
    return path != "-" and (Path(path).suffix.lower() in COLUMNAR or Path(path).is_dir())


def read_columnar(path: str, chunk: int) -> tuple[list[str], Iterator[np.ndarray]]:
    """Column names and blocks of rows of a Parquet file, dataset folder or Arrow file."""
    pa = need_pyarrow(f"reading {Path(path).name or path}")
    try:
        schema, batches = _open(pa, path, chunk)
    except (OSError, pa.ArrowException) as exc:
        raise AgradError(f"cannot read points from {path}: {exc}") from None
    names = list(schema.names)
    for field in schema:
        if not (pa.types.is_floating(field.type) or pa.types.is_integer(field.type)
                or pa.types.is_boolean(field.type)):  # fmt: skip
            raise AgradError(
                f"{path}: column '{field.name}' holds {field.type} values; points must be "
                "real numbers",
                None,
                "convert it to float64 first",
            )
    return names, _blocks(pa, path, names, batches, chunk)


def _open(pa, path: str, chunk: int):
    """The schema and an iterator of record batches."""
    p = Path(path)
    if p.is_dir():
        import pyarrow.dataset as ds

        dataset = ds.dataset(path, format="parquet")
        return dataset.schema, dataset.to_batches(batch_size=chunk)
    if p.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        f = pq.ParquetFile(path)
        return f.schema_arrow, f.iter_batches(batch_size=chunk)
    import pyarrow.ipc as ipc

    try:
        reader = ipc.open_file(pa.memory_map(path))
        return reader.schema, (reader.get_batch(k) for k in range(reader.num_record_batches))
    except pa.ArrowInvalid:
        reader = ipc.open_stream(pa.memory_map(path))
        return reader.schema, iter(reader)


def _blocks(pa, path: str, names: list[str], batches, chunk: int) -> Iterator[np.ndarray]:
    """Each batch as rows of float64, split to at most `chunk` rows; nulls are refused."""
    done = 0
    for batch in batches:
        for block, part in _float_blocks(batch, chunk):
            for k, column in enumerate(part.columns):
                if column.null_count:
                    row = done + int(np.flatnonzero(column.is_null().to_numpy(False))[0]) + 1
                    raise AgradError(
                        f"{path}: row {row}, column '{names[k]}' is empty (null)",
                        None,
                        "every point needs a number for every input",
                    )
            done += len(block)
            yield block


def _float_blocks(batch, chunk: int) -> Iterator[tuple[np.ndarray, object]]:
    """A record batch in slices of at most `chunk` rows, each as float64 rows (with the
    slice it came from)."""
    for start in range(0, batch.num_rows, chunk):
        part = batch.slice(start, chunk)
        block = np.empty((part.num_rows, part.num_columns))
        for k, column in enumerate(part.columns):
            block[:, k] = floats_of(column)
        yield block, part


def floats_of(column) -> np.ndarray:
    """A float64 Arrow array without nulls as a NumPy view of its buffer (pyarrow's own
    conversions import pandas, a fifth of a second); other types through pyarrow."""
    import pyarrow as pa

    if column.type != pa.float64():
        column = column.cast(pa.float64())
    if column.null_count:
        return column.to_numpy(zero_copy_only=False)
    data = column.buffers()[1]
    return np.frombuffer(data, dtype=np.float64, count=len(column), offset=column.offset * 8)


def arrow_of(values: np.ndarray):
    """A float64 Arrow array over a NumPy column (no pandas import, no copy if contiguous)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])


def read_csv(path: str, chunk: int, fallback) -> tuple[list[str], Iterator[np.ndarray]]:
    """A CSV file's names and blocks through pyarrow's streaming reader; `fallback(skip)`
    gives the NumPy reader's blocks after `skip` data rows, used from the first block that
    pyarrow cannot read as numbers."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names, rest = fallback(0)  # the header, checked by the reference reader
    rest.close()
    options = pcsv.ConvertOptions(
        column_types={n: pa.float64() for n in names},
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    read = pcsv.ReadOptions(  # the header as the reference reader read it
        column_names=names, skip_rows=1, block_size=max(1 << 16, min(chunk * 64, 1 << 26))
    )
    try:
        reader = pcsv.open_csv(path, read_options=read, convert_options=options)
    except pa.ArrowException:
        return fallback(0)
    return names, _csv_blocks(pa, reader, chunk, fallback)


def _csv_blocks(pa, reader, chunk: int, fallback) -> Iterator[np.ndarray]:
    done = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowException:
            _, rows = fallback(done)  # the reference reader reads on, or says where and why
            yield from rows
            return
        for block, _ in _float_blocks(batch, chunk):
            done += len(block)
            yield block


class ColumnarWriter:
    """Rows written as a Parquet or Arrow IPC file (`kind`), block by block, to a binary
    stream."""

    def __init__(self, stream, kind: str):
        self.pa = need_pyarrow(f"writing {kind}")
        self.stream, self.kind, self.writer = stream, kind, None

    def write(self, columns: list[str], table: np.ndarray) -> None:
        """Append one block of rows."""
        pa = self.pa
        batch = pa.record_batch([arrow_of(table[:, k]) for k in range(len(columns))], columns)
        if self.writer is None:
            self.writer = self._open(batch.schema)
        self.writer.write_batch(batch)

    def _open(self, schema):
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetWriter(self.stream, schema, use_dictionary=False)
        import pyarrow.ipc as ipc

        return ipc.new_file(self.stream, schema)

    def close(self, result) -> None:
        """Finish the file (a file of no rows still has the columns)."""
        if self.writer is None:
            pa = self.pa
            schema = pa.schema([(c, pa.float64()) for c in result.columns])
            self.writer = self._open(schema)
        self.writer.close()
        self.writer = False

    def abort(self) -> None:
        """Let go of a file a failed run leaves unfinished (the caller removes it)."""
        if self.writer:
            with contextlib.suppress(OSError, ValueError, self.pa.ArrowException):
                self.writer.close()
        self.writer = False


def csv_text(table: np.ndarray) -> str:
    """Rows as CSV lines with shortest round-trip digits (see `csv_blocks`)."""
    return "".join(bytes(b).decode("ascii") for b in csv_blocks(table))


def csv_blocks(table: np.ndarray) -> list:
    """Rows as CSV lines with shortest round-trip digits, as bytes-like blocks to write in
    order: pyarrow's writer when installed, on every core for large tables; Python's `repr`
    otherwise. The numbers read back bit for bit either way."""
    pa = pyarrow_or_none()
    if pa is None:
        rows, width = table.shape
        text = ((",".join(["%r"] * width) + "\n") * rows) % tuple(table.ravel().tolist())
        return [text.encode("ascii")]
    import os

    parts = np.array_split(table, max(1, min(os.cpu_count() or 1, len(table) // 10_000)))
    if len(parts) == 1:
        return [_arrow_csv(pa, table)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(parts)) as pool:  # the writer releases the GIL
        return list(pool.map(lambda part: _arrow_csv(pa, part), parts))


def _arrow_csv(pa, table: np.ndarray):
    """One pyarrow buffer of CSV lines (no copy to a Python string)."""
    import pyarrow.csv as pcsv

    width = table.shape[1]
    batch = pa.record_batch([arrow_of(table[:, k]) for k in range(width)],
                            [f"c{k}" for k in range(width)])  # fmt: skip
    sink = pa.BufferOutputStream()
    options = pcsv.WriteOptions(include_header=False, batch_size=max(1, len(table)))
    pcsv.write_csv(batch, sink, options)
    return sink.getvalue()
