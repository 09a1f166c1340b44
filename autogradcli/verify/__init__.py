"""The independent oracles: SymPy and finite differences, per op, per point and
per file."""

from pathlib import Path

RULE_SUFFIXES = (".txt", ".agrad")  # formula files and libraries of functions
MISTAKES = "errors"  # a folder of files wrong on purpose (for the docs), never checked


def folder_files(folder: Path) -> list[Path]:
    """The files a folder means to `agrad check`: every `*.txt` formula and `*.agrad` library
    below it, sorted, except inside folders named `errors`."""
    return sorted(f for f in folder.rglob("*") if is_folder_file(f, folder))


def is_folder_file(path: Path, folder: Path) -> bool:
    """True for a file that `folder_files(folder)` lists."""
    inside = path.relative_to(folder).parts[:-1]
    return path.suffix in RULE_SUFFIXES and MISTAKES not in inside and path.is_file()
