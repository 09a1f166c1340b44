"""Dataset outputs (`-o DIR/` with `--backend dask`): written into a new folder beside the
target and renamed into place. An existing folder is replaced only when it is empty or agrad
marked it as its own (a `.agrad-dataset` file) and it holds nothing but agrad's part files;
those are removed one by one, so nothing a user made is ever deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import uuid
from pathlib import Path

from ..errors import AgradError

MARKER = ".agrad-dataset"  # the file that marks a folder as a dataset agrad wrote
MARKER_TEXT = (
    "This folder is a dataset written by agrad eval --backend dask. The next run writing\n"
    "here replaces its part-* files; a folder holding anything else is never touched.\n"
)
PART_NAME = re.compile(r"part-\d{5}\.(parquet|csv|arrow)")


def own_entries(target: Path) -> list[Path]:
    """The entries of an existing output folder that agrad may remove: none for an empty
    folder, else its marker and part files; anything else is an error naming it."""
    entries = sorted(target.iterdir())
    if not entries:
        return []
    if not (target / MARKER).is_file():
        raise AgradError(
            f"cannot write a dataset to {target}: the folder exists and agrad did not make it "
            f"(it holds {entries[0].name}, and no {MARKER} file)",
            None,
            "name a new folder; agrad replaces only a folder it wrote itself",
        )
    for entry in entries:
        mine = entry.name == MARKER or PART_NAME.fullmatch(entry.name)
        if not mine or entry.is_symlink() or not entry.is_file():
            raise AgradError(
                f"cannot write a dataset to {target}: the folder holds {entry.name}, which "
                "agrad did not write",
                None,
                "move it out, or name a new folder",
            )
    return entries


def check_dataset_target(out: str, inputs: list[str | None]) -> None:
    """A dataset goes into a new folder, an empty one, or one agrad marked as its own that
    holds only its part files and none of the inputs."""
    target = Path(out)
    if target.exists():
        for item in inputs:
            if item is None or "://" in item or not Path(item).exists():
                continue
            here = Path(item).resolve()
            if here == target.resolve() or target.resolve() in here.parents:
                raise AgradError(
                    f"refusing to replace {out}: it holds an input ({item})",
                    None,
                    "write the output to a new folder",
                )
    if not target.parent.is_dir():
        raise AgradError(f"cannot write {target}: the folder {target.parent} does not exist")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        what = "a link" if target.is_symlink() else "a file"
        raise AgradError(
            f"cannot write a dataset to {target}: it is {what}",
            None,
            "name a folder, or give a suffix (.parquet, .csv, .arrow) for one file",
        )
    if target.is_dir():
        own_entries(target)


def beside(target: Path) -> str:
    """A new marked folder beside `target`, hidden until it is renamed into place."""
    folder = tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)  # a folder as mkdir would make it, not mkdtemp's 0700
    (Path(folder) / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    return folder


def replace_folder(folder: str, target: Path) -> None:
    """Put the finished folder at `target`. A previous folder is checked again, moved aside,
    and only agrad's own files are removed from it, one by one."""
    old = None
    if target.exists():
        entries = own_entries(target)
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        os.replace(target, old)
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(old / entry.name)
    os.replace(folder, target)
    if old is not None:
        try:
            old.rmdir()
        except OSError:  # something appeared meanwhile: kept, and said
            print(f"warning: kept {old}: it holds files agrad did not write", file=sys.stderr)
