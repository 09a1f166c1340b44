"""Points files of the wrong shape or kind: a clear error (exit 2), never a traceback and
never a wrong answer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "samples/seed.txt")


def _npy(path: Path, array) -> None:
    np.save(path, array)


def _huge_header(path: Path) -> None:
    buf = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12, 4)}
    np.lib.format.write_array_header_1_0(buf, header)
    path.write_bytes(buf.getvalue() + b"\0" * 64)


def _npz_twice(path: Path) -> None:
    """An .npz whose zip holds 'a.npy' twice (np.savez cannot write one; a zip tool can)."""
    import warnings
    import zipfile

    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as z:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        for name, value in [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0), ("a", 9.0)]:
            buf = io.BytesIO()
            np.save(buf, np.array([value]))
            z.writestr(f"{name}.npy", buf.getvalue())


CASES = {
    "twice.npz": (_npz_twice, "column 'a' appears twice (columns 1 and 5)"),
    "latin1.csv": (lambda p: p.write_bytes("a,b,c,d\n1,2,3,4\n\xe9\n".encode("latin-1")),
                   "not UTF-8"),
    "utf16.csv": (lambda p: p.write_bytes("a,b,c,d\n1,2,3,4\n".encode("utf-16")), "not UTF-8"),
    "dup.csv": (lambda p: p.write_text("a,b,c,d,a\n1,2,3,4,5\n"), "column 'a' appears twice"),
    "text.csv": (lambda p: p.write_text("a,b,c,d\n1,2,x,4\n"), "dup" and "column 3 is not a"),
    "short.csv": (lambda p: p.write_text("a,b,c,d\n1,2,3\n"), ":2: this row has 3 columns"),
    "few.npy": (lambda p: _npy(p, np.ones((3, 2))), "expected (points, 4)"),
    "six.npy": (lambda p: _npy(p, np.ones((3, 6))), "expected (points, 4)"),
    "flat.npy": (lambda p: _npy(p, np.ones(3)), "expected (points, 4)"),
    "zero_d.npy": (lambda p: _npy(p, np.array(1.0)), "expected (points, 4)"),
    "three_d.npy": (lambda p: _npy(p, np.ones((3, 4, 1))), "expected (points, 4)"),
    "complex.npy": (lambda p: _npy(p, np.ones((3, 4), dtype=complex)), "complex128 values"),
    "dates.npy": (lambda p: _npy(p, np.zeros((3, 4), dtype="datetime64[D]")), "datetime64"),
    "sub.npy": (lambda p: _npy(p, np.zeros(2, dtype=[("a", "f8", (2,)), ("b", "f8")])),
                "arrays of shape (2,)"),
    "huge.npy": (_huge_header, "cannot read points"),
    "corrupt.npz": (lambda p: p.write_bytes(b"PK\x03\x04garbage"), "cannot read points"),
    "strings.json": (lambda p: p.write_text(json.dumps({"a": ["1"], "b": [1], "c": [1],
                                                        "d": [1]})), "not a number"),
    "nulls.json": (lambda p: p.write_text(json.dumps({"a": [None], "b": [1], "c": [1],
                                                      "d": [1]})), "null, not a number"),
    "ragged.json": (lambda p: p.write_text(json.dumps([{"a": 1, "b": 2, "c": 3, "d": 4},
                                                       {"a": 1}])), "point 2 has keys"),
    "missing.json": (lambda p: p.write_text(json.dumps({"a": [1], "b": [1]})),
                     "no values for c, d"),
    "empty.json": (lambda p: p.write_text("{}"), "no columns"),
    "nested.json": (lambda p: p.write_text(json.dumps({"a": [[1, 2]], "b": [1], "c": [1],
                                                       "d": [1]})), "not a number"),
    "lengths.json": (lambda p: p.write_text(json.dumps({"a": [1, 2], "b": [1], "c": [1],
                                                        "d": [1]})), "different lengths"),
    "deep.json": (lambda p: p.write_text("[" * 100_000 + "]" * 100_000), "nested too deeply"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_points_files_are_clean_errors(tmp_path, name):
    make, message = CASES[name]
    path = tmp_path / name
    make(path)
    result = agrad("eval", SEED, "--at-file", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 4


def test_at_values_beside_a_points_file(tmp_path):
    points = tmp_path / "abc.csv"
    points.write_text("a,b,c,d\n1,2,3,4\n")
    twice = agrad("eval", SEED, "--at-file", str(points), "--at", "d=5")
    assert twice.exit_code == 2 and "'d' is given twice" in twice.stderr
    three = tmp_path / "abc3.csv"
    three.write_text("a,b,c\n1,2,3\n")
    array = agrad("eval", SEED, "--at-file", str(three), "--at", "d=[1,2]")
    assert array.exit_code == 2 and "must be one number" in array.stderr
    fixed = agrad("eval", SEED, "--at-file", str(three), "--at", "d=4")
    assert fixed.exit_code == 0 and fixed.stdout.splitlines()[1] == "1,2,3,4,-4,4,16,16,-24"


def test_structured_npy_and_npz_put_every_column_where_it_belongs(tmp_path):
    rows = np.zeros(2, dtype=[("d", "f8"), ("c", "f8"), ("b", "f8"), ("a", "f8")])
    rows["a"], rows["b"], rows["c"], rows["d"] = [1, 0.5], [2, -1], [3, 2], [4, 0]
    np.save(tmp_path / "s.npy", rows)
    np.savez(tmp_path / "s.npz", d=rows["d"], b=rows["b"], a=rows["a"], c=rows["c"])
    want = agrad("eval", SEED, "--at-file", str(ROOT / "samples/points.csv")).stdout
    want = "\n".join(want.splitlines()[:3])
    for name in ("s.npy", "s.npz"):
        got = agrad("eval", SEED, "--at-file", str(tmp_path / name)).stdout
        assert "\n".join(got.splitlines()[:3]) == want, name
