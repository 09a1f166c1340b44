"""Dataset output folders: only a new, empty or agrad-marked folder of agrad's own part files
is ever replaced, and only agrad's files are removed from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from autogradcli.errors import AgradError
from autogradcli.io.folders import MARKER, beside, check_dataset_target, replace_folder


def finished(target: Path, parts: int) -> None:
    """What a run leaves: a marked folder of part files at `target`."""
    folder = Path(beside(target))
    for k in range(parts):
        (folder / f"part-{k:05d}.parquet").write_bytes(b"rows")
    replace_folder(str(folder), target)


def test_a_run_replaces_its_own_folder_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    check_dataset_target(str(out), [])  # new
    finished(out, 3)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, *(f"part-0000{k}.parquet"
                                                              for k in range(3))]  # fmt: skip
    check_dataset_target(str(out), [])
    finished(out, 1)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "part-00000.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing left beside it


@pytest.mark.parametrize(
    ("entries", "message"),
    [({"part-notes/thesis.tex": "work"}, "agrad did not make it (it holds part-notes"),
     ({"part-00000.parquet": "mine"}, "and no .agrad-dataset file"),
     ({MARKER: "", "part-00000.parquet": "", "notes.txt": "mine"}, "holds notes.txt, which"),
     ({MARKER: "", "part-00000.parquet/x": "mine"}, "holds part-00000.parquet, which"),
     ({MARKER: "", "part-1.parquet": "mine"}, "holds part-1.parquet, which")],
)  # fmt: skip
def test_a_folder_agrad_did_not_make_is_refused_and_untouched(tmp_path, entries, message):
    out = tmp_path / "out"
    for name, text in entries.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    before = sorted((p.relative_to(out), p.is_file() and p.read_text()) for p in out.rglob("*"))
    with pytest.raises(AgradError, match="cannot write a dataset to") as info:
        check_dataset_target(str(out), [])
    assert message in str(info.value)
    folder = beside(out)
    with pytest.raises(AgradError):  # checked again at the rename
        replace_folder(folder, out)
    after = sorted((p.relative_to(out), p.is_file() and p.read_text()) for p in out.rglob("*"))
    assert after == before


def test_an_input_inside_or_a_file_in_the_way_is_refused(tmp_path):
    out = tmp_path / "out"
    finished(out, 1)
    with pytest.raises(AgradError, match="it holds an input"):
        check_dataset_target(str(out), [str(out / "part-00000.parquet")])
    (tmp_path / "file").write_text("x")
    with pytest.raises(AgradError, match="it is a file"):
        check_dataset_target(str(tmp_path / "file"), [])
    (tmp_path / "link").symlink_to(out)
    with pytest.raises(AgradError, match="it is a link"):
        check_dataset_target(str(tmp_path / "link"), [])
