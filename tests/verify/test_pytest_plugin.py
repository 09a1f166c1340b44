"""The pytest plugin: off without --agrad; with it, one item per output × input, claim and
implementation input, failures reported as agrad check reports them."""

from __future__ import annotations

import subprocess
import sys

from autogradcli.verify import pytest_plugin

GOOD = "# range: x in [0.5, 2]\nf = x * sin(x)\nexpect diff(f, x) == sin(x) + x*cos(x)\n"
BAD = "# range: x in [0.5, 2]\nf = x^3\nexpect diff(f, x) == 2*x^2\n"


def run(folder, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         *args],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_plugin_is_off_unless_asked(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.txt").write_text(BAD)
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert True\n")
    plain = run(tmp_path, "test_plain.py")
    assert plain.returncode == 0 and "1 passed" in plain.stdout


def test_rule_files_become_items_and_failures_read_like_agrad_check(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.txt").write_text(GOOD)
    (rules / "bad.txt").write_text(BAD)
    done = run(tmp_path, "--agrad", "rules", "--agrad-points", "5")
    assert done.returncode == 1, done.stdout
    assert "1 failed, 3 passed" in done.stdout  # f:d/dx twice, one good claim, one bad
    assert "bad.txt:3: expect diff(f, x) == 2*x^2" in done.stdout


def test_impl_directives_and_the_ini_setting(tmp_path):
    (tmp_path / "grad.py").write_text("def g(x):\n    return {'x': 2 * x}\n")
    (tmp_path / "spec.txt").write_text("# impl: grad.py:g\n# range: x in [-1, 1]\nf = x^2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nagrad_paths = spec.txt\n")
    done = run(tmp_path)
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout


def test_the_items_know_their_rows():
    assert pytest_plugin.IMPL.findall("# impl: a.py:f\nf = x\n# impl:  m:g \n") == ["a.py:f", "m:g"]
