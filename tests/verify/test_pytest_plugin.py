"""The pytest plugin: off without --agrad; with it, rule files are collected as test files
(one item per output × input and per claim), failures read as agrad check reports them, a
file that does not parse is one collection error while the rest runs, and pytest's selection
options work. `# impl:` lines import code only with --agrad-impl."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autogradcli.verify import pytest_plugin

GOOD = "# range: x in [0.5, 2]\nf = x * sin(x)\nexpect diff(f, x) == sin(x) + x*cos(x)\n"
BAD = "# range: x in [0.5, 2]\nf = x^3\nexpect diff(f, x) == 2*x^2\n"
PLAIN = "def test_one():\n    assert True\n"


def run(folder, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--agrad-points", "3", *args],
        cwd=folder, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},  # no outer -n 2
    )  # fmt: skip


@pytest.fixture
def project(tmp_path):
    """A project with a Python test and a folder of rules: good, bad and broken."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.txt").write_text(GOOD)
    (rules / "bad.txt").write_text(BAD)
    (rules / "broken.txt").write_text("f = sin(x\n")
    (tmp_path / "test_plain.py").write_text(PLAIN)
    return tmp_path


def test_the_plugin_is_off_unless_asked(project):
    plain = run(project, "-p", "no:cacheprovider", "test_plain.py")
    assert plain.returncode == 0 and "1 passed" in plain.stdout


def test_a_broken_file_is_one_collection_error_and_the_rest_runs(project):
    done = run(project, "--agrad", "rules")
    assert done.returncode == 1, done.stdout
    assert "1 failed, 4 passed, 1 error" in done.stdout  # the plain test ran too
    assert "ERROR rules/broken.txt" in done.stdout and "INTERNALERROR" not in done.stdout
    assert "rules/broken.txt:1:5: error: 'sin(' is never closed" in done.stdout
    assert "rules/bad.txt:3: expect diff(f, x) == 2*x^2" in done.stdout
    # --lf runs only what failed, by node id
    again = run(project, "--agrad", "rules", "--lf", "-rf")
    assert "FAILED rules/bad.txt::expect:line3" in again.stdout
    assert again.stdout.splitlines()[-1].startswith("1 failed, 1 error in"), again.stdout


def test_node_ids_are_valid_and_a_path_given_twice_is_collected_once(project):
    (project / "pytest.ini").write_text("[pytest]\nagrad_paths = rules\n")
    (project / "rules" / "broken.txt").unlink()
    done = run(project, "--agrad", "rules", "--agrad", "rules/", "--collect-only")
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert ids == [
        "rules/bad.txt::f:d/dx",
        "rules/bad.txt::expect:line3",
        "rules/good.txt::f:d/dx",
        "rules/good.txt::expect:line3",
        "test_plain.py::test_one",
    ], done.stdout
    one = run(project, "rules/good.txt::f:d/dx")
    assert one.returncode == 0 and one.stdout.splitlines()[-1].startswith("1 passed in")
    chosen = run(project, "-k", "bad and f")
    assert chosen.stdout.splitlines()[-1].startswith("1 passed, 4 deselected"), chosen.stdout
    first = run(project, "-x", "rules/bad.txt")
    assert first.returncode == 1 and "stopping after 1 failures" in first.stdout


def test_xdist_runs_rule_files(project):
    pytest.importorskip("xdist")
    (project / "rules" / "broken.txt").unlink()
    done = run(project, "--agrad", "rules", "-n", "2")
    assert done.returncode == 1 and "1 failed, 4 passed" in done.stdout, done.stdout


def test_a_missing_path_is_a_usage_error(project):
    done = run(project, "--agrad", "nosuchdir")
    assert done.returncode == 4
    assert "--agrad nosuchdir: no such file or folder" in done.stderr
    assert "INTERNALERROR" not in done.stdout + done.stderr


def test_impl_lines_run_code_only_with_agrad_impl(tmp_path):
    (tmp_path / "grad.py").write_text(
        "import pathlib\npathlib.Path('imported').write_text('yes')\n"
        "def g(x):\n    return {'x': 2 * x}\n"
    )
    (tmp_path / "spec.txt").write_text("# impl: grad.py:g\n# range: x in [-1, 1]\nf = x^2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nagrad_paths = spec.txt\n")
    done = run(tmp_path, "-rs")
    assert done.returncode == 0 and "1 passed, 1 skipped" in done.stdout, done.stdout
    assert "read only with --agrad-impl" in done.stdout
    assert not (tmp_path / "imported").exists()
    done = run(tmp_path, "--agrad-impl")
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout
    assert (tmp_path / "imported").exists()


def test_impl_lines_are_found():
    assert pytest_plugin.IMPL.findall("# impl: a.py:f\nf = x\n# impl:  m:g \n") == ["a.py:f", "m:g"]


def test_a_library_of_functions_is_collected_with_its_claims(tmp_path):
    (tmp_path / "errors").mkdir()
    (tmp_path / "errors" / "typo.agrad").write_text("f = sine(x)\n")  # wrong on purpose
    (tmp_path / "nn.agrad").write_text(
        "sp(x) = log(1 + exp(x))\nexpect diff(sp(x), x) == sigmoid(x)\n"
        "# shape: v (3)\nexpect diff(logsumexp(v), v) == softmax(v)\n"
    )
    done = run(tmp_path, "-p", "no:cacheprovider", "--agrad", ".")
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout
    ids = run(tmp_path, "-p", "no:cacheprovider", "--agrad", ".", "--collect-only").stdout
    assert "nn.agrad::expect:line2" in ids and "nn.agrad::expect:line4" in ids
    assert "typo" not in ids
