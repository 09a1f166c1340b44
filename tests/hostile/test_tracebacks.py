"""No traceback on hostile command lines: a full disk under --help and --version, integers
too long to print, and every command fed arguments nobody should type."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "autogradcli", *args],
        stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["eval", "--help"]])
def test_help_and_version_onto_a_full_disk(args):
    with open("/dev/full", "w") as full:
        done = _run(*args, stdout=full)
    assert done.returncode == 2
    assert done.stderr == "error: cannot write output: No space left on device\n"


def test_diff_of_an_integer_too_long_to_print():
    result = agrad("diff", "-e", "x*3^10000")
    assert result.exit_code == 2
    assert "integer of more than 4,300 digits" in result.stderr
    assert "Traceback" not in result.stderr


def test_diff_printing_spends_the_same_sympy_budget(monkeypatch):
    import time

    import sympy

    def slow(*args, **kwargs):
        time.sleep(30)

    monkeypatch.setattr(sympy, "pretty", slow)
    result = agrad("diff", "-e", "f = x^2", "--sympy-timeout", "1")
    assert result.exit_code == 2
    assert "SymPy did not finish within 1 s" in result.stderr


def test_piecewise_derivatives_round_trip_in_agrad_syntax(tmp_path):
    text = "f = where(x > 1, x^2, -x) + max(x, y)*(x <= y) + abs(x*y) + min(x, 2*y)\n"
    result = agrad("diff", "-e", text, "--format", "agrad")
    assert result.exit_code == 0, result.stderr
    assert "where(" in result.stdout
    derivs = write(tmp_path, result.stdout, "d.txt")
    rng = np.random.default_rng(1)
    for x, y in rng.uniform(-3, 3, size=(12, 2)).tolist():
        at = ["--at", f"x={x!r}", f"y={y!r}", "-f", "json"]
        engine = agrad("eval", "-e", text, *at)
        back = agrad("eval", derivs, *at)
        assert engine.exit_code == 0 and back.exit_code == 0, back.stderr
        import json

        grad = json.loads(engine.stdout)["outputs"]["f"]["gradient"]
        outs = json.loads(back.stdout)["outputs"]
        assert outs["df_dx"]["value"] == pytest.approx(grad["x"], rel=1e-12, abs=1e-12)
        assert outs["df_dy"]["value"] == pytest.approx(grad["y"], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--lr", "nan"], "--optimizer adam: Invalid learning rate: nan"),
        (["--lr", "-1"], "--optimizer adam: Invalid learning rate: -1.0"),
        (["--optimizer", "momentum", "--momentum", "nan"], "Invalid momentum value: nan"),
    ],
)
def test_minimize_with_a_rate_no_optimizer_takes(extra, words):
    result = agrad("minimize", "-e", "f = x^2", "--at", "x=1", "--steps", "3", *extra)
    assert result.exit_code == 2
    assert words in result.stderr and "Traceback" not in result.stderr
