"""Every `--help` keeps the brackets of its source help strings (Rich would read them as markup)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from autogradcli.cli import app
from autogradcli.cli.app import plain_help


def _squeeze(text: str) -> str:
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


def _bracketed_help() -> list[tuple[str, str]]:
    """(command, help string) for every source help text holding a `[`."""
    group = typer.main.get_command(app)
    found = []
    for name, command in sorted(group.commands.items()):
        texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
        found += [(name, text) for text in texts if "[" in text]
    return found


BRACKETED = _bracketed_help()


def test_some_help_texts_hold_brackets():
    assert len(BRACKETED) >= 10
    assert any("agrad[dask]" in text for _, text in BRACKETED)


@pytest.mark.parametrize("name", sorted({name for name, _ in BRACKETED}))
def test_every_bracket_of_a_help_text_is_shown(name):
    result = CliRunner().invoke(
        app, [name, "--help"], env={"COLUMNS": "2000", "TERMINAL_WIDTH": "2000", "NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    shown = _squeeze(result.output)
    for command, text in BRACKETED:
        if command == name:
            for part in re.findall(r"\[[^\]]*\]", text):
                assert _squeeze(part) in shown, (name, part)


def test_help_is_escaped_once():
    group = typer.main.get_command(app)
    plain_help(group)
    before = {n: [p.help for p in c.params] for n, c in group.commands.items()}
    plain_help(group)
    assert {n: [p.help for p in c.params] for n, c in group.commands.items()} == before
