"""The command line, through Typer's CliRunner and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import agrad, write
from typer.testing import CliRunner

from autogradcli import __version__
from autogradcli.cli import app

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SEED = str(SAMPLES / "seed.txt")
runner = CliRunner()


def test_seed_table():
    result = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4")
    assert result.exit_code == 0, result.output
    assert "f = -4" in result.stdout
    rows = {
        line.split("│")[1].strip(): line.split("│")[3].strip()
        for line in result.stdout.splitlines()
        if line.count("│") == 4
    }
    assert rows == {"a": "4", "b": "16", "c": "16", "d": "-24"}


def test_repeated_at_and_bare_assignments_are_the_same():
    a = agrad(
        "eval", SEED, "--at", "a=1", "--at", "b=2", "--at", "c=3", "--at", "d=4", "-f", "json"
    )
    b = agrad("eval", SEED, "a=1", "b=2", "c=3", "d=4", "-f", "json")
    c = agrad("eval", SEED, "--at", "a=1,b=2,c=3,d=4", "-f", "json")
    assert a.exit_code == b.exit_code == c.exit_code == 0
    assert json.loads(a.stdout) == json.loads(b.stdout) == json.loads(c.stdout)


def test_seed_json_shape():
    result = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["outputs"] == {
        "f": {"value": -4.0, "gradient": {"a": 4.0, "b": 16.0, "c": 16.0, "d": -24.0}}
    }
    assert doc["warnings"] == []
    assert doc["inputs"] == {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}


def test_json_nodes_and_edges():
    result = agrad(
        "eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "-f", "json", "--nodes", "--edges"
    )
    doc = json.loads(result.stdout)
    u = next(n for n in doc["nodes"] if n["name"] == "u")
    assert (u["op"], u["value"], u["adjoint"], u["location"]) == (
        "mul",
        12.0,
        {"f": 1.0},
        f"{SEED}:3:5",
    )
    assert u["source"] == "(a + b) * b^2"
    assert len(doc["edges"]) == 14
    to_u = [e for e in doc["edges"] if e["to"] == u["id"]]
    assert [(e["partial"], e["contribution"]["f"]) for e in to_u] == [(4.0, 4.0), (3.0, 3.0)]


def test_nodes_and_edges_tables():
    result = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--nodes", "--edges")
    assert result.exit_code == 0
    out = result.stdout
    assert "Nodes" in out and "Edges" in out
    assert "(a + b) * b^2" in out
    line = next(row for row in out.splitlines() if row.startswith("│ n5 "))
    assert [c.strip() for c in line.split("│")[1:7]] == ["n5", "u", "mul", "n2, n4", "12", "1"]


def test_array_values_and_json_nested_lists():
    result = agrad(
        "eval",
        str(SAMPLES / "mlp.txt"),
        "--at",
        "x=[0.5,-1]",
        "W1=[[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]]",
        "b1=[0,0.1,-0.1]",
        "W2=[0.7,-0.8,0.9]",
        "b2=0.05",
        "t=1",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    grad = doc["outputs"]["loss"]["gradient"]
    assert len(grad["W1"]) == 3 and len(grad["W1"][0]) == 2
    assert grad["t"] == pytest.approx(-grad["b2"])


def test_shell_split_array_is_rejoined():
    result = agrad(
        "eval", str(SAMPLES / "logistic.txt"), "--at", "w=[0.5,", "-0.25]", "b=0.1", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inputs"]["w"] == [0.5, -0.25]


def test_wrt_and_output_options():
    result = agrad(
        "eval",
        SEED,
        "--at",
        "a=1",
        "b=2",
        "c=3",
        "d=4",
        "--wrt",
        "a,d",
        "--output",
        "u",
        "--output",
        "f",
        "-f",
        "json",
    )
    doc = json.loads(result.stdout)
    assert doc["outputs"]["u"]["gradient"] == {"a": 4.0, "d": 0.0}
    assert doc["outputs"]["f"]["gradient"] == {"a": 4.0, "d": -24.0}


def test_several_outputs_table_is_a_jacobian():
    result = agrad("eval", str(SAMPLES / "polar.txt"), "--at", "x=1", "y=1")
    assert result.exit_code == 0
    assert "Jacobian" in result.stdout and "∂θ/∂input" in result.stdout


def test_jacobian_option(tmp_path):
    path = write(tmp_path, "y = W @ x")
    result = agrad("eval", path, "--at", "W=[[1,2],[3,4]]", "x=[1,1]", "--jacobian", "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["outputs"]["y"]["jacobian"]["x"] == [[1.0, 2.0], [3.0, 4.0]]
    assert doc["outputs"]["y"]["gradient"]["x"] == [4.0, 6.0]


def test_non_finite_is_reported_and_strict_fails(tmp_path):
    path = write(tmp_path, "u = x * 2\nf = log(x) + u\n")
    result = agrad("eval", path, "--at", "x=0", "-f", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["outputs"]["f"]["value"] == "-inf"
    assert doc["outputs"]["f"]["gradient"]["x"] == "inf"
    assert doc["warnings"][0]["location"] == f"{path}:2:5"
    assert doc["warnings"][0]["source"] == "log(x)"
    assert f"{path}:2:5: warning:" in result.stderr
    strict = agrad("eval", path, "--at", "x=0", "--strict")
    assert strict.exit_code == 1
    assert "non-finite" in strict.stderr


def test_nan_is_a_json_string(tmp_path):
    path = write(tmp_path, "f = x^(1/3)")
    doc = json.loads(agrad("eval", path, "--at", "x=-8", "-f", "json").stdout)
    assert doc["outputs"]["f"]["value"] == "nan"


@pytest.mark.parametrize(
    ("text", "args", "where", "message"),
    [
        ("f = sine(x)", ["--at", "x=1"], "{path}:1:5", "unknown function 'sine'"),
        ("f = x + y", ["--at", "x=1"], "{path}:1:9", "no value for input 'y'"),
        ("f = x", ["--at", "x=1", "z=2"], "--at:1:1", "'z' is not an input"),
        ("f = x", ["--at", "x=1", "pi=2"], "--at:1:1", "'pi' is a constant"),
        ("f = x", ["--at", "x=[1,2"], "--at:1:3", "'[' is never closed"),
        ("f = x", ["--at", "x=1..2"], "--at:1:5", "unexpected"),
        ("f = x", ["--at", "x"], "--at:1:1", "expected NAME=VALUE"),
        ("f = x", ["--at", "x=1", "x=2"], "--at:1:1", "given a value twice"),
        ("u = x\nf = u", ["--at", "x=1", "u=2"], "--at:1:1", "computed by the file"),
        ("", [], "{path}:1:1", "no expression"),
    ],
)
def test_errors_exit_2_with_position_and_no_traceback(tmp_path, text, args, where, message):
    path = write(tmp_path, text)
    result = agrad("eval", path, *args)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(where.format(path=path) + ": error: ")
    assert message in first
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unknown_output_and_wrt_suggest_names():
    result = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--output", "ff")
    assert result.exit_code == 2
    assert "did you mean 'f'?" in result.stderr
    result = agrad("eval", SEED, "--at", "a=1", "b=2", "c=3", "d=4", "--wrt", "bb")
    assert result.exit_code == 2
    assert "did you mean 'b'?" in result.stderr


def test_missing_file():
    result = agrad("eval", "does-not-exist.txt")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no such file: does-not-exist.txt")


def test_debug_shows_the_traceback(tmp_path):
    path = write(tmp_path, "f = sine(x)")
    plain = runner.invoke(app, ["eval", path, "--at", "x=1"])
    result = runner.invoke(app, ["--debug", "eval", path, "--at", "x=1"])
    assert plain.exit_code == result.exit_code == 2
    assert "Traceback" not in plain.stderr
    assert result.stderr.startswith("Traceback (most recent call last)")
    assert "AgradError" in result.stderr
    assert result.stderr.endswith(plain.stderr)  # the same message, position and hint
    assert "f.txt:1:5: error: unknown function 'sine'" in plain.stderr


def test_version_and_help_show_examples():
    assert agrad("--version").stdout.strip() == f"agrad {__version__}"
    top = agrad("--help")
    assert top.exit_code == 0 and "agrad eval samples/seed.txt" in top.stdout
    commands = ("eval", "ops", "diff", "check", "graph", "optimize", "stats", "minimize", "compile")
    for command in commands:
        result = agrad(command, "--help")
        assert result.exit_code == 0
        assert f"agrad {command}" in result.stdout


def test_ops_lists_every_registry_op():
    from autogradcli.ops import REGISTRY

    result = agrad("ops")
    assert result.exit_code == 0
    names = {
        line.split("│")[1].strip() for line in result.stdout.splitlines() if line.count("│") > 2
    }
    assert set(REGISTRY) <= names
    assert "relu'(0) = 0" in result.stdout


def test_markup_in_user_text_is_not_eaten(tmp_path):
    path = write(tmp_path, "f = sum([1, 2] * x)\n")
    result = agrad("eval", path, "--at", "x=[3,4]", "--nodes")
    assert "[1, 2] * x" in result.stdout


def test_python_dash_m_and_eval_do_not_import_sympy():
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['agrad', 'eval', {SEED!r}, '--at', 'a=1', 'b=2', 'c=3', 'd=4',"
        " '-f', 'json']\n"
        "try:\n    runpy.run_module('autogradcli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('SYMPY' if 'sympy' in sys.modules else 'CLEAN')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout[: out.stdout.rindex("}") + 1])["outputs"]["f"]["value"] == -4.0
    assert out.stdout.strip().endswith("CLEAN")


def test_importtime_shows_no_sympy():
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "autogradcli",
            "eval",
            SEED,
            "--at",
            "a=1",
            "b=2",
            "c=3",
            "d=4",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0
    assert "sympy" not in out.stderr
    assert "autogradcli.engines.plan" not in out.stderr  # one point: the interpreter, no tracing
    assert "f = -4" in out.stdout


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_points_files_in_and_out_import_no_pandas(tmp_path, suffix):
    """pyarrow's own NumPy conversions import pandas (0.2 s); agrad goes through buffers."""
    pytest.importorskip("pyarrow")
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "autogradcli", "eval", SEED, "--at-file",
         str(SAMPLES / "points.csv"), "-o", str(tmp_path / f"out{suffix}")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-500:]
    assert "pyarrow.lib" in out.stderr and "pandas" not in out.stderr
