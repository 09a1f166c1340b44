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


def read_columnar(
    path: str, chunk: int, keep: tuple[str, ...] = ()
) -> tuple[list[str], Iterator[np.ndarray]]:
    """Column names and blocks of rows of a Parquet file, dataset folder or Arrow file;
    columns in `keep` are left out (read by `io/kept.py`)."""
    pa = need_pyarrow(f"reading {Path(path).name or path}")
    files = dataset_files(path) if Path(path).is_dir() else [path]
    schemas = [_schema(pa, f) for f in files]
    every = list(schemas[0].names)
    for f, schema in zip(files, schemas, strict=True):
        _check_schema(pa, f, schema, keep)
        if list(schema.names) != every:
            raise AgradError(
                f"{f}: columns {', '.join(schema.names)}, unlike {files[0]} "
                f"({', '.join(every)})",
                None,
                "every file of a dataset needs the same columns, in the same order",
            )
    names = [n for n in every if n not in keep]
    return names, _file_blocks(pa, files, names, chunk)


def dataset_files(path: str) -> list[str]:
    """The Parquet files of a dataset folder, sorted (hidden files and names starting with
    '_' skipped, as pyarrow does); any other file is an error naming it."""
    files, stray = [], []
    for f in sorted(Path(path).rglob("*")):
        hidden = any(part.startswith((".", "_")) for part in f.relative_to(path).parts)
        if hidden or f.is_dir():
            continue
        (files if f.suffix.lower() == ".parquet" else stray).append(str(f))
    if stray:
        raise AgradError(
            f"{path}: the folder holds {stray[0]}, which is not a .parquet file",
            None,
            "a folder of points is a Parquet dataset: move other files out of it",
        )
    if not files:
        raise AgradError(f"{path}: no .parquet files in this folder")
    return files


def _schema(pa, path: str):
    """The schema of one Parquet or Arrow file; an unreadable file is an error naming it."""
    try:
        if Path(path).suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_schema(path)
        return _open_ipc(pa, path).schema
    except (OSError, pa.ArrowException) as exc:
        raise AgradError(f"cannot read points from {path}: {exc}") from None


def _check_schema(pa, path: str, schema, keep: tuple[str, ...] = ()) -> None:
    """Names given once; every column but the kept ones of real numbers (not text, dates or
    nested values)."""
    from .names import duplicates

    duplicates(path, list(schema.names))
    missing = [k for k in keep if k not in schema.names]
    if missing:
        raise AgradError(
            f"--keep {missing[0]}: {path} has no column '{missing[0]}'",
            None,
            f"its columns are: {', '.join(schema.names)}",
        )
    for field in schema:
        if field.name in keep:
            continue
        if not (pa.types.is_floating(field.type) or pa.types.is_integer(field.type)
                or pa.types.is_boolean(field.type)):  # fmt: skip
            if pa.types.is_nested(field.type):
                raise AgradError(
                    f"{path}: column '{field.name}' holds nested values ({field.type}); each "
                    "point needs one number per input",
                    None,
                    "give array inputs one point at a time with --at, or flatten the column",
                )
            raise AgradError(
                f"{path}: column '{field.name}' holds {field.type} values; points must be "
                "real numbers",
                None,
                "convert it to float64 first",
            )


def _open_ipc(pa, path: str):
    """An Arrow IPC file or stream reader."""
    import pyarrow.ipc as ipc

    try:
        return ipc.open_file(pa.memory_map(path))
    except pa.ArrowInvalid:
        return ipc.open_stream(pa.memory_map(path))


def batches(pa, path: str, chunk: int, names: list[str]):
    """Record batches of one Parquet or Arrow file, of the columns `names`."""
    if Path(path).suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).iter_batches(batch_size=chunk, columns=names)
    reader = _open_ipc(pa, path)
    if hasattr(reader, "num_record_batches"):
        every = (reader.get_batch(k) for k in range(reader.num_record_batches))
    else:
        every = iter(reader)
    return (b.select(names) for b in every)


def _file_blocks(pa, files: list[str], names: list[str], chunk: int) -> Iterator[np.ndarray]:
    """Every file's blocks in order; a file that breaks while read is an error naming it."""
    for f in files:
        try:
            yield from _blocks(pa, f, names, batches(pa, f, chunk, names), chunk)
        except (OSError, pa.ArrowException) as exc:
            raise AgradError(f"cannot read points from {f}: {exc}") from None


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
    header = rest.header
    options = pcsv.ConvertOptions(
        column_types={n: pa.float64() for n in names},
        include_columns=names,
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    read = pcsv.ReadOptions(  # the header as the reference reader read it
        column_names=[n or f"_unnamed{k}" for k, n in enumerate(header.names)], skip_rows=1,
        block_size=max(1 << 16, min(chunk * 64, 1 << 26)),
    )  # fmt: skip
    parse = pcsv.ParseOptions(delimiter=header.delimiter)
    try:
        reader = pcsv.open_csv(path, read_options=read, parse_options=parse,
                                 convert_options=options)  # fmt: skip
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
        self.keep: list[str] = []  # names of the columns --keep carries, written first

    def write(self, columns: list[str], table: np.ndarray, kept_columns: list = ()) -> None:
        """Append one block of rows (after the kept columns of the same rows, if any)."""
        pa = self.pa
        arrays = [as_arrow(c) for c in kept_columns]
        arrays += [arrow_of(table[:, k]) for k in range(len(columns))]
        batch = pa.record_batch(arrays, [*self.keep[: len(kept_columns)], *columns])
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


def as_arrow(column):
    """A column kept by --keep as an Arrow array (CSV cells as strings)."""
    import pyarrow as pa

    return pa.array(column, pa.string()) if isinstance(column, list) else column


def csv_number(x: float) -> str:
    """A float as every CSV agrad writes it, with or without pyarrow: the shortest digits that
    read back to the same bits (Python's `repr`), laid out as pyarrow's writer does: plain
    decimals from 1e-6 up to below 1e10 without a trailing '.0' ('1', '0.000015'), exponents
    elsewhere without padding ('1.5e-7', '1e+10'); 'nan', 'inf', '-inf', '-0'."""
    r = repr(x)
    if "e" not in r and -1e10 < x < 1e10 and r[-1] not in "nf":
        return r[:-2] if r.endswith(".0") else r  # repr's decimals: 1e-4 <= |x| < 1e16
    if r[-1] in "nf":
        return r
    sign, r = ("-", r[1:]) if r[0] == "-" else ("", r)
    mantissa, _, exp = r.partition("e")
    whole, _, frac = mantissa.partition(".")
    run = whole + frac
    digits = run.lstrip("0")
    if not digits:
        return sign + "0"
    sci = int(exp or 0) + len(whole) - 1 - (len(run) - len(digits))
    digits = digits.rstrip("0")
    if -6 <= sci < 0:
        return f"{sign}0.{'0' * (-sci - 1)}{digits}"
    if 0 <= sci < 10:
        return sign + digits.ljust(sci + 1, "0")[: sci + 1] + (
            "." + digits[sci + 1 :] if len(digits) > sci + 1 else ""
        )
    tail = "." + digits[1:] if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{tail}e{'+' if sci >= 0 else '-'}{abs(sci)}"


def csv_text(table: np.ndarray) -> str:
    """Rows as CSV lines with shortest round-trip digits (see `csv_blocks`)."""
    return "".join(bytes(b).decode("ascii") for b in csv_blocks(table))


def csv_blocks(table: np.ndarray) -> list:
    """Rows as CSV lines with shortest round-trip digits, as bytes-like blocks to write in
    order: pyarrow's writer when installed, on every core for large tables; `csv_number`
    otherwise, character for character the same. The numbers read back bit for bit."""
    pa = pyarrow_or_none()
    if pa is None:
        width = table.shape[1]
        text = ((",".join(["%s"] * width) + "\n") * len(table)) % tuple(
            map(csv_number, table.ravel().tolist())
        )
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
