"""CSV points files as other tools write them (R's write.csv with quoted names and row
names, semicolons, CRLF, a BOM, quoted cells), read the same with and without pyarrow; and
`--keep`, which carries columns that are not inputs to the output unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import agrad

from autogradcli.io import arrow as arrow_io

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "samples/seed.txt")
ROWS = ["1,2,3,4,-4,4,16,16,-24", "0.5,1,2,3,-7.5,1,4,9,-15"]  # f and its gradient, by hand
HEADER = "a,b,c,d,f,df/da,df/db,df/dc,df/dd"

DIALECTS = {
    "r_write_csv.csv": '"","a","b","c","d"\r\n"1",1,2,3,4\r\n"2",0.5,1,2,3\r\n',
    "quoted.csv": '"a","b","c","d"\n1,2,3,4\n0.5,1,2,3\n',
    "quoted_cells.csv": 'a,b,c,d\n"1","2","3","4"\n0.5,"1",2,3\n',
    "crlf_bom.csv": "\ufeffa,b,c,d\r\n1,2,3,4\r\n\r\n0.5,1,2,3\r\n",
    "semicolon.csv": "a;b;c;d\n1;2;3;4\n0.5;1;2;3\n",
    "tab.csv": "a\tb\tc\td\n1\t2\t3\t4\n0.5\t1\t2\t3\n",
}


@pytest.mark.parametrize("pyarrow", [True, False], ids=["pyarrow", "numpy"])
@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_common_dialects_read_as_the_plain_file(tmp_path, monkeypatch, name, pyarrow):
    if not pyarrow:
        monkeypatch.setattr(arrow_io, "pyarrow_or_none", lambda: None)
    path = tmp_path / name
    path.write_bytes(DIALECTS[name].encode("utf-8"))
    got = agrad("eval", SEED, "--at-file", str(path))
    assert got.exit_code == 0, got.stderr
    assert got.stdout.splitlines() == [HEADER, *ROWS]


KEEP = 'id,a,b,c,d,label\n7,1,2,3,4,first\n008,0.5,1,2,3,"second, with ""quotes"""\n'


@pytest.mark.parametrize("pyarrow", [True, False], ids=["pyarrow", "numpy"])
def test_extra_columns_are_an_error_naming_keep_which_carries_them(tmp_path, monkeypatch,
                                                                   pyarrow):
    if not pyarrow:
        monkeypatch.setattr(arrow_io, "pyarrow_or_none", lambda: None)
    path = tmp_path / "p.csv"
    path.write_text(KEEP)
    refused = agrad("eval", SEED, "--at-file", str(path))
    assert refused.exit_code == 2
    assert "column 'id' is not an input of the file" in refused.stderr
    assert "add --keep id,label" in refused.stderr
    got = agrad("eval", SEED, "--at-file", str(path), "--keep", "label,id")
    assert got.exit_code == 0, got.stderr
    assert got.stdout.splitlines() == [
        f"label,id,{HEADER}",
        f"first,7,{ROWS[0]}",
        f'"second, with ""quotes""",008,{ROWS[1]}',  # the cell's text, unchanged
    ]
    out = tmp_path / "o.csv"
    again = agrad("eval", SEED, "--at-file", str(path), "--keep", "id", "--keep", "label",
                  "-o", str(out))  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert out.read_text().splitlines()[2].startswith('008,"second, with ""quotes""",0.5,')


def test_kept_columns_in_parquet_and_arrow_outputs_and_inputs(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "p.csv"
    path.write_text(KEEP)
    for suffix in ("parquet", "arrow"):
        out = tmp_path / f"o.{suffix}"
        got = agrad("eval", SEED, "--at-file", str(path), "--keep", "id,label", "-o", str(out))
        assert got.exit_code == 0, got.stderr
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.column_names[:3] == ["id", "label", "a"]
    assert table["id"].to_pylist() == ["7", "008"]
    assert table["label"].to_pylist() == ["first", 'second, with "quotes"']
    assert table["f"].to_pylist() == [-4.0, -7.5]
    # a Parquet input keeps the column's type, to Parquet; its text form to CSV
    source = pa.table({"id": pa.array([7, 8], pa.int32()), "a": [1.0, 0.5], "b": [2.0, 1.0],
                       "c": [3.0, 2.0], "d": [4.0, 3.0]})  # fmt: skip
    pq.write_table(source, tmp_path / "in.parquet")
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "in.parquet"), "--keep", "id",
                "-o", str(tmp_path / "back.parquet"))  # fmt: skip
    assert got.exit_code == 0, got.stderr
    back = pq.read_table(tmp_path / "back.parquet")
    assert back.schema.field("id").type == pa.int32() and back["id"].to_pylist() == [7, 8]
    csv = agrad("eval", SEED, "--at-file", str(tmp_path / "in.parquet"), "--keep", "id")
    assert csv.stdout.splitlines() == [f"id,{HEADER}", f"7,{ROWS[0]}", f"8,{ROWS[1]}"]


def test_keep_that_cannot_be_honoured_is_an_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(KEEP)
    cases = [
        (["--keep", "id,label", "--format", "json"], "--format json holds numbers only"),
        (["--keep", "id,label", "--reduce", "sum"], "--reduce writes one row"),
        (["--keep", "id,nope"], "--keep nope: "),
        (["--keep", "id,label,a"], "--keep a: 'a' is an input"),
    ]
    for args, message in cases:
        got = agrad("eval", SEED, "--at-file", str(path), *args)
        assert got.exit_code == 2 and message in got.stderr, got.stderr
    got = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--keep", "id")
    assert got.exit_code == 2 and "--keep cannot be used here" in got.stderr
    (tmp_path / "p.json").write_text('{"a": [1], "b": [2], "c": [3], "d": [4]}')
    got = agrad("eval", SEED, "--at-file", str(tmp_path / "p.json"), "--keep", "id")
    assert got.exit_code == 2 and "--keep reads CSV, Parquet and Arrow files" in got.stderr


def test_kept_rows_are_handed_out_in_blocks_of_any_size(tmp_path):
    from autogradcli.errors import AgradError
    from autogradcli.io.kept import KeptRows
    from autogradcli.io.names import duplicates
    from autogradcli.io.points import PointsPath

    path = tmp_path / "p.csv"
    path.write_text("id,a\n" + "".join(f"r{k},{k}\n\n" for k in range(7)))
    rows = KeptRows(PointsPath(str(path), ["id"]), chunk=3)
    assert [rows.take(n)[0] for n in (2, 0, 4)] == [["r0", "r1"], [], ["r2", "r3", "r4", "r5"]]
    with pytest.raises(AgradError, match="more rows than the numbers"):
        rows.finish()
    rows = KeptRows(PointsPath(str(path), ["id"]), chunk=3)
    assert rows.take(7) == [[f"r{k}" for k in range(7)]]
    rows.finish()
    with pytest.raises(AgradError, match="ended before the numbers"):
        rows.take(1)
    with pytest.raises(AgradError, match="column 'x' appears twice"):
        duplicates("p.csv", ["x", "y", "x"])


@pytest.mark.parametrize(
    ("header", "message"),
    [("a,,b,c,d", "column 2 has no name"), ('"a b",c,d', "'a b' is not a name"),
     ('"a","a",b,c,d', "column 'a' appears twice"), ('a;b;"c";c;d', "column 'c' appears twice")],
)  # fmt: skip
def test_bad_headers_name_the_column(tmp_path, header, message):
    path = tmp_path / "p.csv"
    path.write_text(header + "\n1,2,3,4,5\n")
    got = agrad("eval", SEED, "--at-file", str(path))
    assert got.exit_code == 2 and message in got.stderr, got.stderr
