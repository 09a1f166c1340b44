"""`agrad samples`: the sample formulas that ship with agrad, listed, shown or copied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import AgradError, suggest
from .app import app, console, guard, note


def samples_dir() -> Path:
    """The samples folder: inside the installed package, or at the top of a source tree."""
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "samples", package.parent / "samples"):
        if (folder / "seed.txt").is_file():
            return folder
    raise AgradError("the samples are not installed with this copy of agrad")


def catalogue() -> dict[str, Path]:
    """Sample name (path below the folder, without .txt) -> file."""
    root = samples_dir()
    found = {}
    for path in sorted(root.rglob("*")):
        shown = path.suffix in (".txt", ".py", ".csv", ".agrad", ".ipynb") and "__" not in path.name
        if path.is_file() and shown:
            rel = path.relative_to(root).as_posix()
            found[rel[:-4] if rel.endswith(".txt") else rel] = path
    return found


def _summary(path: Path) -> str:
    """The first comment or docstring line of a sample (for CSV: its rows and columns)."""
    if path.suffix == ".csv":
        lines = path.read_text(encoding="utf-8").splitlines()
        return f"{len(lines) - 1} points with columns {lines[0]} (for --at-file)"
    if path.suffix == ".ipynb":  # the notebook's first Markdown cell, after its title
        import json

        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "".join(next(c["source"] for c in cells if c["cell_type"] == "markdown"))
        return next((t for t in text.splitlines()[1:] if t.strip()), "").strip()
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip().lstrip("#").strip().strip('"').strip()
        if text:
            return text
    return ""


@app.command(
    "samples",
    epilog="Examples:  agrad samples  |  agrad samples seed  |  agrad samples seed -o .  "
    "|  agrad samples --all -o my-samples",
)
@guard
def samples_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="[NAME]...", help="Samples to show or copy.", show_default=False),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", metavar="FOLDER", help="Copy the samples into FOLDER."),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Copy every sample (with -o).")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace files that already exist in FOLDER.")
    ] = False,
) -> None:
    """List the samples that ship with agrad, print one, or copy them (-o FOLDER)."""
    from ..io.outfile import write_stdout, write_text

    known = catalogue()
    if every and names:
        raise AgradError("--all copies every sample; do not name samples too", None, None)
    if every and out is None:
        raise AgradError("--all needs a folder to copy into", None, "add -o FOLDER")
    chosen = list(known) if every else [_resolve(n, known) for n in names or []]
    if not chosen:
        if out is not None:
            raise AgradError("name the samples to copy, or pass --all", None, "agrad samples")
        console().print(_table(known))
        return
    if out is None:
        for name in chosen:
            write_stdout(known[name].read_text(encoding="utf-8"))
        return
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise AgradError(f"{out} is not a folder", None, "name a folder, or use -o .")
    if not folder.parent.is_dir():
        raise AgradError(f"cannot create {out}: {folder.parent} does not exist")
    folder.mkdir(exist_ok=True)
    root = samples_dir()
    targets = [folder / known[n].relative_to(root) for n in chosen]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        raise AgradError(
            f"{existing[0]} already exists", None, "pass --force to replace it, or pick a folder"
        )
    for name, target in zip(chosen, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(str(target), known[name].read_text(encoding="utf-8"))
        note(f"wrote {target}")


def _resolve(name: str, known: dict[str, Path]) -> str:
    """A sample name as typed (`seed`, `seed.txt`, `rules/chain`) -> its catalogue key."""
    key = name[:-4] if name.endswith(".txt") else name
    if key in known:
        return key
    raise AgradError(
        f"no sample named '{name}'", None, suggest(key, list(known)) or "agrad samples lists them"
    )


def _table(known: dict[str, Path]):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Samples in {escape(str(samples_dir()))}")
    table.add_column("name", no_wrap=True)
    table.add_column("what it shows")
    for name, path in known.items():
        table.add_row(escape(name), escape(_summary(path)))
    return table
