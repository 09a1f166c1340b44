"""Hostile Parquet, Arrow and JSON points files: duplicate names, wrong types, truncated,
empty, non-finite and huge values, nested columns, and dataset folders with a bad member.
Each is a clear error (exit 2, one message naming the file, no traceback) or a right answer
with its non-finite rows reported; never a silent wrong answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad

pa = pytest.importorskip("pyarrow")
import pyarrow.ipc as ipc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "samples/seed.txt")
GOOD = {c: [1.0, 2.0] for c in "abcd"}


def parquet(path: Path, columns: dict, names: list[str] | None = None) -> None:
    arrays = [pa.array(v) if not isinstance(v, pa.Array) else v for v in columns.values()]
    pq.write_table(pa.table(arrays, names=names or list(columns)), path)


def arrow(path: Path, columns: dict, names: list[str] | None = None) -> None:
    table = pa.table([pa.array(v) for v in columns.values()], names=names or list(columns))
    with ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)


def truncated(path: Path) -> None:
    parquet(path, GOOD)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def folder(path: Path, bad: str) -> None:
    """A dataset folder: one good Parquet file and one bad member."""
    path.mkdir()
    parquet(path / "p0.parquet", GOOD)
    if bad == "text":
        parquet(path / "p1.parquet", {**GOOD, "c": ["x", "y"]})
    elif bad == "truncated":
        truncated(path / "p1.parquet")
    elif bad == "stray":
        (path / "notes.csv").write_text("a,b,c,d\n1,2,3,4\n")
    elif bad == "columns":
        parquet(path / "p1.parquet", {"a": [1.0], "b": [1.0], "c": [1.0]})
    elif bad == "order":
        parquet(path / "p1.parquet", {c: [1.0] for c in "dcba"})
    elif bad == "nulls":
        parquet(path / "p1.parquet", {**GOOD, "b": [1.0, None]})


FIVE = [[1.0], [2.0], [3.0], [4.0], [9.0]]
CASES = {
    "dup.parquet": (lambda p: parquet(p, dict(enumerate(FIVE)), list("abcda")),
                    "column 'a' appears twice (columns 1 and 5)"),
    "dup.arrow": (lambda p: arrow(p, dict(enumerate(FIVE)), list("abcda")),
                  "column 'a' appears twice (columns 1 and 5)"),
    "dup.json": (lambda p: p.write_text('{"a":[1],"b":[2],"c":[3],"d":[4],"a":[9]}'),
                 "key 'a' appears twice"),
    "dup_rows.json": (lambda p: p.write_text('[{"a":1,"b":2,"c":3,"d":4,"a":9}]'),
                      "key 'a' appears twice"),
    "text.parquet": (lambda p: parquet(p, {**GOOD, "c": ["1", "2"]}), "column 'c' holds string"),
    "dates.parquet": (lambda p: parquet(p, {**GOOD, "d": pa.array([0, 1], pa.date32())}),
                      "column 'd' holds date32"),
    "list.parquet": (lambda p: parquet(p, {**GOOD, "a": [[1.0], [2.0]]}),
                     "column 'a' holds nested values (list<"),
    "struct.arrow": (lambda p: arrow(p, {**GOOD, "b": [{"x": 1.0}, {"x": 2.0}]}),
                     "column 'b' holds nested values (struct<"),
    "decimal.parquet": (lambda p: parquet(p, {**GOOD, "a": pa.array([1, 2], pa.decimal128(5, 2))}),
                        "column 'a' holds decimal128"),
    "nulls.parquet": (lambda p: parquet(p, {**GOOD, "b": [1.0, None]}),
                      "row 2, column 'b' is empty (null)"),
    "truncated.parquet": (truncated, "truncated.parquet: Parquet magic bytes not found"),
    "garbage.arrow": (lambda p: p.write_bytes(b"ARROW1\x00\x00" + b"\xff" * 40),
                      "cannot read points from"),
    "empty.parquet": (lambda p: p.write_bytes(b""), "cannot read points from"),
    "empty.arrow": (lambda p: p.write_bytes(b""), "cannot read points from"),
    "empty.json": (lambda p: p.write_bytes(b""), "cannot read points from"),
    "nested.json": (lambda p: p.write_text(json.dumps({**GOOD, "a": [{"x": 1}, 2]})),
                    "is {\"x\": 1}, not a number"),
    "bigint.json": (lambda p: p.write_text('{"a": [1' + "0" * 400 + '], "b": [1], "c": [1], '
                                           '"d": [1]}'),
                    "'a'[0] is an integer of 401 digits, beyond float64"),
    "hugeint.json": (lambda p: p.write_text('{"a": [1' + "0" * 5000 + "]}"),
                     "cannot read points from"),
    "bool.json": (lambda p: p.write_text(json.dumps({**GOOD, "a": [True, 2]})),
                  "is true, not a number"),
    "text_dir": (lambda p: folder(p, "text"), "p1.parquet: column 'c' holds string values"),
    "truncated_dir": (lambda p: folder(p, "truncated"), "p1.parquet: Parquet magic bytes"),
    "stray_dir": (lambda p: folder(p, "stray"), "notes.csv, which is not a .parquet file"),
    "columns_dir": (lambda p: folder(p, "columns"), "p1.parquet: columns a, b, c, unlike"),
    "order_dir": (lambda p: folder(p, "order"), "p1.parquet: columns d, c, b, a, unlike"),
    "nulls_dir": (lambda p: folder(p, "nulls"), "p1.parquet: row 2, column 'b' is empty"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_files_are_one_clear_error(tmp_path, name):
    make, message = CASES[name]
    path = tmp_path / name
    make(path)
    out = tmp_path / "out.csv"
    result = agrad("eval", SEED, "--at-file", str(path), "-o", str(out))
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 3
    assert not out.exists()


def _rows(result) -> list[list[str]]:
    assert result.exit_code == 0, result.stderr
    return [line.split(",") for line in result.stdout.splitlines()[1:]]


@pytest.mark.parametrize("kind", ["parquet", "arrow", "json"])
def test_non_finite_and_huge_values_are_read_exactly_and_reported(tmp_path, kind):
    a = [np.nan, np.inf, 1e308, -1e-320, 2.0**53 + 2]
    columns = {"a": a, "b": [1.0] * 5, "c": [0.0] * 5, "d": [0.0] * 5}
    path = tmp_path / f"p.{kind}"
    if kind == "parquet":
        parquet(path, columns)
    elif kind == "arrow":
        arrow(path, columns)
    else:  # Python's json writes NaN and Infinity, which other tools write too
        path.write_text(json.dumps(columns))
    result = agrad("eval", SEED, "--at-file", str(path))
    rows = _rows(result)
    assert [r[0] for r in rows] == ["nan", "inf", "1e+308", "-1e-320", "9.007199254740994e+15"]
    # f = (a + b) * b^2 + (c - d) * d^2: nan and inf pass through; at a = 1e308 the value is
    # finite but df/db = 2b(a + b) + b^2 overflows: three rows reported, none silently
    assert [r[4] for r in rows] == ["nan", "inf", "1e+308", "1", "9.007199254740996e+15"]
    assert "warning: 3 of 5 rows have nan or inf; row 1" in result.stderr


def test_integers_a_float64_cannot_hold_exactly_are_refused_rather_than_rounded(tmp_path):
    for k, value in enumerate([2**63 - 1, 2**53 + 1, -(2**53) - 1]):
        path = tmp_path / f"big{k}.parquet"
        parquet(path, {**GOOD, "a": pa.array([1, value], pa.int64())})
        result = agrad("eval", SEED, "--at-file", str(path))
        assert result.exit_code == 2, result.stdout
        assert f"Integer value {value} not in range" in result.stderr
        assert "Traceback" not in result.stderr
    parquet(tmp_path / "exact.parquet", {**GOOD, "a": pa.array([2**53, -(2**53)], pa.int64())})
    rows = _rows(agrad("eval", SEED, "--at-file", str(tmp_path / "exact.parquet")))
    assert [r[0] for r in rows] == ["9.007199254740992e+15", "-9.007199254740992e+15"]


def test_a_format_contradicting_the_suffix_is_an_error_at_one_point_and_over_files(tmp_path):
    out = tmp_path / "x.csv"
    one = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--format", "json",
                "-o", str(out))  # fmt: skip
    assert one.exit_code == 2
    assert f"--format json contradicts the suffix of {out} (csv)" in one.stderr
    points = tmp_path / "p.parquet"
    parquet(points, GOOD)
    for fmt, name in (("json", "x.csv"), ("csv", "x.parquet"), ("parquet", "x.arrow")):
        many = agrad("eval", SEED, "--at-file", str(points), "--format", fmt,
                     "-o", str(tmp_path / name))  # fmt: skip
        assert many.exit_code == 2 and "contradicts the suffix" in many.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.parquet"]
    ok = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--format", "json",
               "-o", str(tmp_path / "x.json"))  # fmt: skip
    assert ok.exit_code == 0 and json.loads((tmp_path / "x.json").read_text())["outputs"]
