"""Points files for `agrad eval --at-file`: CSV (streamed in blocks), .npy, .npz and JSON;
Parquet and Arrow through `io/arrow.py`.

Every reader checks what it reads: names given once, numbers only (no text, complex, dates
or nested values), one value per point and input, so a file of the wrong shape is an error
naming the problem, never an answer with shuffled columns.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import AgradError

NUMBER_KINDS = "biuf"  # bool, signed and unsigned integers, floats


def _csv_chunks(path: str, chunk: int, skip: int = 0) -> tuple[list[str], Iterator[np.ndarray]]:
    """The header's names and blocks of rows of a CSV file ('-' reads standard input),
    after the first `skip` rows (blank lines are not rows)."""
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
        header = fh.readline()
        names = [h.strip() for h in header.split(",")]
        if not header.strip() or not all(n.isidentifier() for n in names):
            raise AgradError(f"{name}:1: the first line must name the inputs, e.g. 'a,b,c'")
        _duplicates(name, names)
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
    return names, _CsvRows(fh, name, chunk, len(names), line_no)


class _CsvRows:
    """Blocks of rows of an open CSV file (after its header); closes the file when done."""

    def __init__(self, fh, name: str, chunk: int, width: int, first: int = 2):
        self.fh, self.name, self.chunk, self.width = fh, name, chunk, width
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
                yield _csv_block(self.name, lines, line_no, self.width)
                line_no += len(lines)

    def close(self) -> None:
        """Close the file (also when the blocks were never read)."""
        self.fh.close()


def _csv_block(name: str, lines: list[str], first: int, width: int) -> np.ndarray:
    """Rows of numbers from CSV lines; an error names the exact line and column."""
    try:
        block = np.loadtxt(io.StringIO("".join(lines)), delimiter=",", ndmin=2)
    except ValueError:
        block = None
    if block is not None and block.shape[1] == width:
        return block
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        cells = line.rstrip("\r\n").split(",")
        if len(cells) != width:
            raise AgradError(
                f"{name}:{first + k}: this row has {len(cells)} columns, the header names {width}"
            )
        for c, cell in enumerate(cells):
            try:
                float(cell)
            except ValueError:
                raise AgradError(
                    f"{name}:{first + k}: column {c + 1} is not a number: {cell.strip()!r}"
                ) from None
    raise AgradError(f"{name}:{first}: cannot read these rows as numbers")


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


def _duplicates(name: str, names: list[str]) -> None:
    """Refuse a column named twice."""
    seen: dict[str, int] = {}
    for k, n in enumerate(names):
        if n in seen:
            raise AgradError(
                f"{name}: column '{n}' appears twice (columns {seen[n] + 1} and {k + 1})",
                None,
                "give each input one column",
            )
        seen[n] = k


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
    return float(value)


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
        return read_columnar(path, chunk)
    suffix = Path(path).suffix.lower()
    if suffix in (".npy", ".npz", ".json"):
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
