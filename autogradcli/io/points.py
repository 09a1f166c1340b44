"""Points files for `agrad eval --at-file`: CSV (streamed in blocks), .npy, .npz and JSON;
Parquet and Arrow through `io/arrow.py`.

Every reader checks what it reads: names given once, numbers only (no text, complex, dates
or nested values), one value per point and input, so a file of the wrong shape is an error
naming the problem, never an answer with shuffled columns.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AgradError
from .names import duplicates as _duplicates

NUMBER_KINDS = "biuf"  # bool, signed and unsigned integers, floats


class PointsPath(str):
    """A points file's name with the columns `--keep` sets aside: read as they are and carried
    to the output, not inputs. It is a `str` everywhere else (messages, suffixes, pickling)."""

    keep: tuple[str, ...] = ()

    def __new__(cls, path: str, keep: Sequence[str] = ()):
        obj = super().__new__(cls, path)
        obj.keep = tuple(keep)
        return obj

    def __reduce__(self):
        return (PointsPath, (str(self), self.keep))


def kept(path: str) -> tuple[str, ...]:
    """The columns `--keep` sets aside for this points file."""
    return getattr(path, "keep", ())


@dataclass
class CsvHeader:
    """A CSV file's first line: every column's name, the delimiter, and which columns are
    inputs (the others are kept by --keep, or R's unnamed first column of row names)."""

    names: list[str]
    delimiter: str
    inputs: list[int]


def csv_header(name: str, line: str, keep: Sequence[str] = ()) -> CsvHeader:
    """Parse a header: comma, semicolon or tab separated, names quoted or not (R's
    `write.csv` writes `"","a","b"`, its first column the row names)."""
    delimiter = next((d for d in ",;\t" if d in line), ",")
    cells = next(csv.reader([line], delimiter=delimiter), [])
    names = [c.strip() for c in cells]
    _duplicates(name, names)
    inputs = [k for k, n in enumerate(names) if n not in keep and not (k == 0 and n == "")]
    bad = [k for k in inputs if not names[k].isidentifier()]
    if not line.strip() or not inputs or bad:
        what = ""
        if bad:
            n = names[bad[0]]
            what = f" ({n!r} is not a name)" if n else f" (column {bad[0] + 1} has no name)"
        raise AgradError(
            f"{name}:1: the first line must name the inputs, e.g. 'a,b,c'{what}",
            None,
            "a column that is not an input can be carried to the output with --keep NAME",
        )
    missing = [k for k in keep if k not in names]
    if missing:
        raise AgradError(
            f"--keep {missing[0]}: {name} has no column '{missing[0]}'",
            None,
            f"its columns are: {', '.join(n for n in names if n)}",
        )
    return CsvHeader(names, delimiter, inputs)


def _csv_chunks(path: str, chunk: int, skip: int = 0) -> tuple[list[str], Iterator[np.ndarray]]:
    """The input names and blocks of rows of a CSV file ('-' reads standard input), after
    the first `skip` rows (blank lines are not rows)."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            import sys

            fh = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
        else:
            fh = open(path, encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise AgradError(f"cannot read {name}: {exc.strerror}") from None
    try:
        header = csv_header(name, fh.readline(), kept(path))
    except UnicodeDecodeError as exc:
        fh.close()
        raise AgradError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except BaseException:
        fh.close()
        raise
    line_no = 2
    while skip:
        line = fh.readline()
        line_no += 1
        skip -= bool(line.strip())
    names = [header.names[k] for k in header.inputs]
    return names, _CsvRows(fh, name, chunk, header, line_no)


class _CsvRows:
    """Blocks of rows of an open CSV file (after its header); closes the file when done."""

    def __init__(self, fh, name: str, chunk: int, header: CsvHeader, first: int = 2):
        self.fh, self.name, self.chunk, self.header = fh, name, chunk, header
        self.first = first  # the line number of the first row

    def __iter__(self) -> Iterator[np.ndarray]:
        line_no = self.first  # the line number of the first line of the next block
        with self.fh:
            while True:
                try:
                    lines = list(itertools.islice(self.fh, self.chunk))
                except UnicodeDecodeError as exc:
                    raise AgradError(
                        f"{self.name} is not UTF-8 text ({exc.reason} near line {line_no})"
                    ) from None
                if not lines:
                    return
                yield _csv_block(self.name, lines, line_no, self.header)
                line_no += len(lines)

    def close(self) -> None:
        """Close the file (also when the blocks were never read)."""
        self.fh.close()


def _csv_block(name: str, lines: list[str], first: int, header: CsvHeader) -> np.ndarray:
    """Rows of numbers from CSV lines; an error names the exact line and column."""
    width = len(header.names)
    plain = header.delimiter == "," and len(header.inputs) == width
    if plain and not any('"' in line for line in lines):
        try:
            block = np.loadtxt(io.StringIO("".join(lines)), delimiter=",", ndmin=2)
        except ValueError:
            block = None
        if block is not None and block.shape[1] == width:
            return block
    rows = []
    for k, cells in _cells(lines, header.delimiter):
        if len(cells) != width:
            raise AgradError(
                f"{name}:{first + k}: this row has {len(cells)} columns, the header names {width}"
            )
        row = []
        for c in header.inputs:
            cell = cells[c].strip()
            try:
                if "_" in cell:
                    raise ValueError(cell)
                row.append(float(cell))
            except ValueError:
                raise AgradError(
                    f"{name}:{first + k}: column {c + 1} is not a number: {cell!r}"
                ) from None
        rows.append(row)
    return np.array(rows, dtype=float).reshape(len(rows), len(header.inputs))


def _cells(lines: list[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank line's cells (quotes removed), with its index in `lines`."""
    for k, line in enumerate(lines):
        if line.strip():
            yield k, next(csv.reader([line], delimiter=delimiter))


def count_rows(path: str) -> int | None:
    """The number of data rows of a CSV file (its lines less the header), or None."""
    if path == "-" or Path(path).suffix.lower() in (".npy", ".npz", ".json"):
        return None
    from .arrow import is_columnar

    if is_columnar(path):
        return None
    try:
        with open(path, "rb") as fh:
            lines = sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None
    return max(lines - 1, 0)


def _numeric(name: str, what: str, dtype: np.dtype, shape: tuple = ()) -> None:
    """Refuse complex, date, text and object values, and values that are themselves arrays."""
    if shape or dtype.subdtype is not None:
        raise AgradError(
            f"{name}: {what} holds arrays of shape {shape or dtype.shape}; each point needs "
            "one number per input",
            None,
            "give array inputs one point at a time with --at",
        )
    if dtype.kind not in NUMBER_KINDS:
        raise AgradError(
            f"{name}: {what} holds {dtype} values; points must be real numbers",
            None,
            "convert it to float64 first",
        )


def _load_npy(path: str, order: list[str]) -> tuple[list[str], np.ndarray]:
    try:
        data = np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError, EOFError) as exc:
        raise AgradError(f"cannot read points from {path}: {exc}") from None
    if data.dtype.names:
        names = list(data.dtype.names)
        _duplicates(path, names)
        for n in names:
            field = data.dtype.fields[n][0]
            _numeric(path, f"field '{n}'", field.base, field.shape)
        if data.ndim != 1:
            raise AgradError(f"{path}: a structured array of points must be 1-D, not {data.shape}")
        return names, np.column_stack([np.asarray(data[n], dtype=float) for n in names])
    _numeric(path, "the array", data.dtype)
    if data.ndim == 1 and len(order) == 1:
        data = data.reshape(-1, 1)
    if data.ndim != 2 or data.shape[1] != len(order):
        raise AgradError(
            f"{path}: an array of shape {data.shape}; expected (points, {len(order)}), one "
            f"column per input in the file's order ({', '.join(order)})",
            None,
            "or save a structured array with named fields, or an .npz of named columns",
        )
    return order, np.asarray(data, dtype=float)


def _load_npz(path: str) -> tuple[list[str], np.ndarray]:
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            names = list(z.files)
            columns = [z[n] for n in names]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise AgradError(f"cannot read points from {path}: {exc}") from None
    return names, _stack(path, names, columns, "array")


def _stack(path: str, names: list[str], columns: list, what: str) -> np.ndarray:
    """Columns of one length, each 1-D and numeric, side by side."""
    if not names:
        raise AgradError(f"{path}: no columns", None, "name each input with its values")
    arrays = []
    for n, col in zip(names, columns, strict=True):
        a = np.asarray(col)
        _numeric(path, f"{what} '{n}'", a.dtype)
        if a.ndim != 1:
            raise AgradError(
                f"{path}: {what} '{n}' has shape {a.shape}; each input needs one value per "
                "point (a flat list)"
            )
        arrays.append(a.astype(float))
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        sizes = ", ".join(f"{n}: {len(a)}" for n, a in zip(names, arrays, strict=True))
        raise AgradError(f"{path}: columns of different lengths ({sizes})")
    return np.column_stack(arrays)


def _number(path: str, where: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AgradError(f"{path}: {where} is {json.dumps(value)[:40]}, not a number")
    try:
        return float(value)
    except OverflowError:
        raise AgradError(
            f"{path}: {where} is an integer of {len(str(value))} digits, beyond float64"
        ) from None


class _Keys:
    """JSON objects as dicts, refusing a key given twice in one object (Python's json keeps
    the last silently)."""

    def __init__(self, path: str):
        self.path = path

    def __call__(self, pairs: list[tuple[str, object]]) -> dict:
        doc = dict(pairs)
        if len(doc) != len(pairs):
            seen: set[str] = set()
            key = next(k for k, _ in pairs if k in seen or seen.add(k))
            raise AgradError(
                f"{self.path}: key '{key}' appears twice in one object",
                None,
                "give each input one value per point",
            )
        return doc


def _load_json(path: str) -> tuple[list[str], np.ndarray]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh, object_pairs_hook=_Keys(path))
    except RecursionError:
        raise AgradError(f"{path}: JSON nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise AgradError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (OSError, ValueError) as exc:
        raise AgradError(f"cannot read points from {path}: {exc}") from None
    if isinstance(doc, dict):
        names = list(doc)
        columns = []
        for n in names:
            col = doc[n]
            if not isinstance(col, list):
                col = [col]
            columns.append([_number(path, f"'{n}'[{k}]", v) for k, v in enumerate(col)])
        return names, _stack(path, names, columns, "column")
    if isinstance(doc, list) and doc and all(isinstance(row, dict) for row in doc):
        names = list(doc[0])
        rows = []
        for k, row in enumerate(doc):
            if list(row) != names:
                raise AgradError(
                    f"{path}: point {k + 1} has keys {sorted(row)}, the first has {sorted(names)}",
                    None,
                    "give every point the same inputs",
                )
            rows.append([_number(path, f"point {k + 1} '{n}'", row[n]) for n in names])
        if not names:
            raise AgradError(f"{path}: the points name no inputs")
        return names, np.array(rows, dtype=float).reshape(len(rows), len(names))
    raise AgradError(f"{path}: expected {{name: [values]}} or [{{name: value}}, ...]")


def read_points(path: str, order: list[str], chunk: int) -> tuple[list[str], Iterator]:
    """Column names and an iterator of row blocks (at most `chunk` rows each)."""
    from .arrow import is_columnar, pyarrow_or_none, read_columnar, read_csv

    if path != "-" and not Path(path).is_file() and not Path(path).is_dir():
        raise AgradError(f"no such file: {path}")
    if is_columnar(path):
        return read_columnar(path, chunk, kept(path))
    suffix = Path(path).suffix.lower()
    if suffix in (".npy", ".npz", ".json"):
        if kept(path):
            raise AgradError(
                f"--keep reads CSV, Parquet and Arrow files, not {suffix}",
                None,
                "drop --keep, or convert the points to CSV or Parquet",
            )
        if suffix == ".npy":
            names, data = _load_npy(path, order)
        elif suffix == ".npz":
            names, data = _load_npz(path)
        else:
            names, data = _load_json(path)
        _duplicates(path, names)
        return names, (data[k : k + chunk] for k in range(0, len(data), chunk))
    if path != "-" and pyarrow_or_none() is not None:
        return read_csv(path, chunk, lambda skip: _csv_chunks(path, chunk, skip))
    return _csv_chunks(path, chunk)
