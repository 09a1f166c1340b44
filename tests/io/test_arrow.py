"""Columnar points files (pyarrow): Parquet, Arrow IPC and dataset folders in; Parquet, Arrow
and CSV out. The oracle is the NumPy path (pyarrow hidden): same rows, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad

from autogradcli.io import arrow as arrow_io

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SEED = str(Path(__file__).parents[2] / "samples" / "seed.txt")
COLUMNS = ["a", "b", "c", "d", "f", "df/da", "df/db", "df/dc", "df/dd"]


def _points(n: int = 2000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-3, 3, (n, 4))


def _write_csv(path: Path, rows: np.ndarray, names="a,b,c,d") -> str:
    path.write_text(names + "\n" + "".join(",".join(map(repr, r)) + "\n" for r in rows.tolist()))
    return str(path)


def _read_any(path: Path) -> np.ndarray:
    """A results file as an array: CSV, Parquet or Arrow, by suffix."""
    if path.suffix == ".csv":
        assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
        return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    else:
        import pyarrow.ipc as ipc

        table = ipc.open_file(pa.memory_map(str(path))).read_all()
    assert table.column_names == COLUMNS
    return np.column_stack([table[c].to_numpy() for c in COLUMNS])


def _numpy_only(monkeypatch):
    monkeypatch.setattr(arrow_io, "pyarrow_or_none", lambda: None)


def test_csv_through_pyarrow_matches_the_numpy_path_bit_for_bit(tmp_path, monkeypatch):
    pts = _write_csv(tmp_path / "p.csv", _points())
    assert agrad("eval", SEED, "--at-file", pts, "-o", str(tmp_path / "fast.csv")).exit_code == 0
    _numpy_only(monkeypatch)
    assert agrad("eval", SEED, "--at-file", pts, "-o", str(tmp_path / "slow.csv")).exit_code == 0
    fast, slow = _read_any(tmp_path / "fast.csv"), _read_any(tmp_path / "slow.csv")
    assert fast.shape == (2000, 9) and np.array_equal(fast, slow)
    a, b, c, d = _points().T  # and the values are the seed's, computed by hand
    assert np.allclose(fast[:, 4], (a + b) * b**2 + (c - d) * d**2, rtol=1e-15)


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_columnar_outputs_hold_the_same_rows(tmp_path, suffix):
    pts = _write_csv(tmp_path / "p.csv", _points())
    agrad("eval", SEED, "--at-file", pts, "-o", str(tmp_path / "ref.csv"))
    out = tmp_path / f"out{suffix}"
    result = agrad("eval", SEED, "--at-file", pts, "-o", str(out), "--chunk", "333")
    assert result.exit_code == 0, result.output
    assert np.array_equal(_read_any(out), _read_any(tmp_path / "ref.csv"))


def test_parquet_files_folders_and_arrow_files_are_read(tmp_path):
    rows = _points(3000)
    ref = tmp_path / "ref.csv"
    agrad("eval", SEED, "--at-file", _write_csv(tmp_path / "p.csv", rows), "-o", str(ref))
    table = pa.table({k: rows[:, i] for i, k in enumerate("abcd")})
    pq.write_table(table, tmp_path / "p.parquet", row_group_size=700)
    folder = tmp_path / "dataset"
    folder.mkdir()
    pq.write_table(table.slice(0, 1000), folder / "part-0.parquet")
    pq.write_table(table.slice(1000), folder / "part-1.parquet")
    import pyarrow.ipc as ipc

    with ipc.new_file(str(tmp_path / "p.arrow"), table.schema) as w:
        w.write_table(table, max_chunksize=512)
    for source in ("p.parquet", "dataset", "p.arrow"):
        out = tmp_path / f"{source}.out.csv"
        result = agrad("eval", SEED, "--at-file", str(tmp_path / source), "-o", str(out))
        assert result.exit_code == 0, result.output
        assert np.array_equal(_read_any(out), _read_any(ref)), source


def test_a_bad_cell_after_the_first_block_names_its_line_and_column(tmp_path):
    rows = [",".join(map(repr, r)) for r in _points(500).tolist()]
    rows[420] = "1,2,oops,4"
    pts = tmp_path / "p.csv"
    pts.write_text("a,b,c,d\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out.parquet"
    result = agrad("eval", SEED, "--at-file", str(pts), "-o", str(out), "--chunk", "100")
    assert result.exit_code == 2
    assert "p.csv:422: column 3 is not a number: 'oops'" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))  # nothing half-written


def test_spaces_around_numbers_are_read_by_the_reference_reader(tmp_path):
    pts = tmp_path / "p.csv"
    pts.write_text("a,b,c,d\n1, 2, 3, 4\n\n0.5,1,1.5,2\n")
    result = agrad("eval", SEED, "--at-file", str(pts), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["inputs"]["b"] == [2.0, 1.0]
    assert doc["outputs"]["f"]["value"] == [-4.0, -0.5]  # 3*4 - 1*16; 1.5*1 - 0.5*4


def test_nulls_and_text_columns_in_parquet_are_named(tmp_path):
    bad = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0], "b": [1.0, None], "c": [0.0, 0.0],
                             "d": [1.0, 1.0]}), bad)  # fmt: skip
    result = agrad("eval", SEED, "--at-file", str(bad), "--format", "json")
    assert result.exit_code == 2
    assert "nulls.parquet: row 2, column 'b' is empty (null)" in result.stderr
    text = tmp_path / "text.parquet"
    pq.write_table(pa.table({"a": ["1"], "b": [1.0], "c": [1.0], "d": [1.0]}), text)
    result = agrad("eval", SEED, "--at-file", str(text), "--format", "json")
    assert result.exit_code == 2 and "column 'a' holds string values" in result.stderr


def test_binary_formats_need_a_file_and_pyarrow(tmp_path, monkeypatch):
    pts = _write_csv(tmp_path / "p.csv", _points(10))
    result = agrad("eval", SEED, "--at-file", pts, "--format", "parquet")
    assert result.exit_code == 2 and "parquet output is binary; it needs a file" in result.stderr
    _numpy_only(monkeypatch)
    result = agrad("eval", SEED, "--at-file", pts, "-o", str(tmp_path / "o.parquet"))
    assert result.exit_code == 2 and "pip install 'agrad[arrow]'" in result.stderr
    pq.write_table(pa.table({"a": [1.0]}), tmp_path / "in.parquet")
    result = agrad("eval", SEED, "--at-file", str(tmp_path / "in.parquet"), "--format", "json")
    assert result.exit_code == 2 and "needs pyarrow" in result.stderr


def test_csv_digits_read_back_bit_for_bit_with_and_without_pyarrow(monkeypatch):
    rng = np.random.default_rng(3)
    table = rng.standard_normal((40_000, 3)) * 10.0 ** rng.integers(-300, 300, (40_000, 3))
    table[0] = [np.nan, np.inf, -0.0]
    fast = arrow_io.csv_text(table)
    _numpy_only(monkeypatch)
    slow = arrow_io.csv_text(table)
    assert fast == slow  # one format, character for character
    for text in (fast, slow):
        back = np.array([line.split(",") for line in text.splitlines()], dtype=float)
        assert np.array_equal(back, table, equal_nan=True)
        assert np.signbit(back[0, 2])


def test_one_number_format_whichever_reader_and_writer_run(tmp_path, monkeypatch):
    pts = tmp_path / "p.csv"
    pts.write_text("a,b,c,d\n1,2,3,4\n0.5,1e-7,15000000000,-0.0\n")
    fast = agrad("eval", SEED, "--at-file", str(pts))
    _numpy_only(monkeypatch)
    slow = agrad("eval", SEED, "--at-file", str(pts))
    assert fast.exit_code == slow.exit_code == 0
    assert fast.stdout == slow.stdout
    first, second = fast.stdout.splitlines()[1:]
    assert first == "1,2,3,4,-4,4,16,16,-24"  # integers as integers, as pyarrow writes them
    assert second.startswith("0.5,1e-7,1.5e+10,-0,")
    a, b, c, d = 0.5, 1e-7, 1.5e10, -0.0
    by_hand = [(a + b) * b**2 + (c - d) * d**2, b**2, 2 * b * (a + b) + b**2, d**2,
               -(d**2) + 2 * d * (c - d)]  # fmt: skip
    assert [float(v) for v in second.split(",")[4:]] == by_hand


@pytest.mark.parametrize(
    ("x", "text"),
    [(1.0, "1"), (-0.0, "-0"), (0.0, "0"), (0.5, "0.5"), (1e-6, "0.000001"), (1.5e-7, "1.5e-7"),
     (123456789.0, "123456789"), (1e10, "1e+10"), (2.0**53, "9.007199254740992e+15"),
     (5e-324, "5e-324"), (float("nan"), "nan"), (float("-inf"), "-inf"),
     (1.7976931348623157e308, "1.7976931348623157e+308"), (0.1 + 0.2, "0.30000000000000004")],
)  # fmt: skip
def test_csv_numbers_by_hand(x, text):
    assert arrow_io.csv_number(x) == text
    assert arrow_io.csv_number(x) == arrow_io._arrow_csv(pa, np.array([[x]])).to_pybytes().decode(
    ).strip()


def test_a_header_with_spaces_or_a_bom_reads_as_the_reference_reader_reads_it(tmp_path):
    for name, text in (
        ("spaces.csv", "a, b ,c,d\n1,2,3,4\n"),
        ("bom.csv", "\ufeffa,b,c,d\n1,2,3,4\n"),
    ):
        pts = tmp_path / name
        pts.write_text(text, encoding="utf-8")
        result = agrad("eval", SEED, "--at-file", str(pts), "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["outputs"]["f"]["value"] == [-4.0]
