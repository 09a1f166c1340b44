"""Command-line slips a new user makes: values without a file, a repeated -e."""

from __future__ import annotations

from typer.testing import CliRunner

from autogradcli.cli import app
from autogradcli.cli.app import one_formula


def _run(*args: str):
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "100"})


def test_values_without_a_file_say_the_file_is_missing():
    result = _run("eval", "--at", "a=1", "b=2")
    assert result.exit_code == 2
    assert "no formula file given ('b=2' is a value, not a file)" in result.output
    assert "no such file" not in result.output


def test_values_before_the_file_still_work(tmp_path):
    (tmp_path / "f.txt").write_text("f = a * b\n", encoding="utf-8")
    result = _run("eval", "--at", "a=3", "b=2", str(tmp_path / "f.txt"))
    assert result.exit_code == 0, result.output
    assert "f = 6" in result.output


def test_a_repeated_expression_is_an_error():
    result = _run("eval", "-e", "f = x", "--expr=g = x", "--at", "x=1")
    assert result.exit_code == 2
    assert "-e/--expr is given 2 times" in result.output
    assert "';'" in result.output


def test_one_expression_and_words_after_double_dash_pass():
    one_formula(["eval", "-e", "f = x", "--", "-e"])
    assert _run("eval", "-e", "u = x^2; f = sin(u)", "--at", "x=1").exit_code == 0
