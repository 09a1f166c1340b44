"""Tables fit the terminal: numbers are never cut, paths never shortened, nothing cropped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import agrad

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parents[1] / "golden"
SEED = str(ROOT / "samples/seed.txt")
MLP = [
    str(ROOT / "samples/mlp.txt"),
    "--at",
    "x=[0.5,-1]",
    "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]",
    "b1=[0,0.1,-0.1]",
    "W2=[0.7,-0.8,0.9]",
    "b2=0.05",
    "t=1",
]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?")


def at_width(monkeypatch, columns: int, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = agrad(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def numbers(text: str) -> list[str]:
    """Number tokens, reading each table cell's wrapped lines together."""
    return sorted(NUMBER.findall(text))


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_seed_snapshot(monkeypatch, columns):
    text = at_width(monkeypatch, columns, "eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4")
    golden = GOLDEN / f"seed_table_{columns}.txt"
    assert [line.rstrip() for line in text.splitlines()] == golden.read_text().splitlines()


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_arrays_wrap_between_elements_never_mid_number(monkeypatch, columns):
    wide = at_width(monkeypatch, 250, "eval", *MLP, "--nodes", "--edges")
    narrow = at_width(monkeypatch, columns, "eval", *MLP, "--nodes", "--edges")
    assert "…" not in narrow
    assert numbers(narrow) == numbers(wide)
    if columns >= 80:
        assert max(len(line) for line in narrow.splitlines()) <= columns


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_check_shows_whole_paths_and_fits(monkeypatch, columns):
    text = at_width(monkeypatch, columns, "check", str(ROOT / "samples/rules"))
    for path in sorted((ROOT / "samples/rules").glob("*.txt")):
        assert any(line.rstrip().endswith(str(path)) for line in text.splitlines()), path
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= max(columns, len(str(path)) + 14)
    rows = [line for line in text.splitlines() if line.startswith("│ expect")]
    assert rows  # claims stay readable: their rows start in the first column
