"""`run_batch` from Python: the rows of `agrad eval --at-file`, reduced, written, reported."""

from __future__ import annotations

import json

import pytest

from autogradcli.cli.batch import eval_batch
from autogradcli.errors import AgradError
from autogradcli.language.parser import parse
from autogradcli.render.batch import BatchRequest, run_batch

# f = a*b + c; by hand at the three rows below: f = 2, 7, -1; df/da = b, df/db = a, df/dc = 1
ROWS = "a,b,c\n1,2,0\n2,3,1\n-1,1,0\n"


@pytest.fixture
def points(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def test_reduce_to_a_file_and_the_report(points, tmp_path):
    graph = parse("f = a*b + c")
    out = tmp_path / "sum.csv"
    request = BatchRequest(points=str(points), out=str(out), reduce="sum")
    report = run_batch(graph, request)
    assert out.read_text(encoding="utf-8") == "a,b,c,f,df/da,df/db,df/dc\n2,6,1,8,6,2,3\n"
    assert (report.rows, report.nonfinite_rows) == (3, 0)
    assert report.columns == ["a", "b", "c", "f", "df/da", "df/db", "df/dc"]


def test_mean_as_json_with_a_fixed_input(points, tmp_path):
    graph = parse("f = a*b + c + k")
    out = tmp_path / "mean.json"
    run_batch(graph, BatchRequest(points=str(points), fixed=["k=3"], fmt="json", out=str(out),
                                  reduce="mean"))  # fmt: skip
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["outputs"]["f"]["value"] == pytest.approx((2 + 7 - 1) / 3 + 3)


def test_the_request_is_not_changed_and_keep_errors_name_the_flag(points):
    graph = parse("f = a*b + c")
    request = BatchRequest(points=str(points), keep=["a"])
    with pytest.raises(AgradError, match="'a' is an input"):
        run_batch(graph, request)
    assert request.points == str(points) and type(request.points) is str


def test_the_command_notes_where_the_rows_went(points, tmp_path, capsys):
    out = tmp_path / "rows.csv"
    eval_batch(parse("f = a*b + c"), BatchRequest(points=str(points), out=str(out)))
    assert out.read_text(encoding="utf-8").splitlines()[1:] == [
        "1,2,0,2,2,1,1", "2,3,1,7,3,2,1", "-1,1,0,-1,1,-1,1"
    ]  # fmt: skip
    assert "wrote 3 rows to" in capsys.readouterr().err
