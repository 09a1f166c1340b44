"""Shared fixtures: stable terminal width and helpers for evaluating snippets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings
from typer.testing import CliRunner

from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse

# CI explores the same examples on every run, so a failure there is reproducible; locally
# Hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _stable_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("AGRAD_DEBUG", raising=False)


def run(text: str, **at):
    """Evaluate expression text at keyword values; returns the Evaluation."""
    graph = parse(text, "t.txt")
    values = {k: np.asarray(v, dtype=float) for k, v in at.items()}
    return evaluate(graph, values)


def value(text: str, **at) -> float:
    """The first output's value."""
    return float(run(text, **at).outputs[0].value)


def grad(text: str, **at) -> dict[str, np.ndarray]:
    """The first output's gradient."""
    return run(text, **at).outputs[0].gradient


def agrad(*args: str):
    """Run the command line in-process; returns click's Result (stdout, stderr, exit_code)."""
    from autogradcli.cli import app

    return CliRunner().invoke(app, list(args))


def write(tmp_path: Path, text: str, name: str = "f.txt") -> str:
    """Write a UTF-8 file under tmp_path and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)
