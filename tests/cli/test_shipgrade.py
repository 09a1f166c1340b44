"""Off the happy path: stdin and -e, -o and formats, no ignored flag, one error contract."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write

from autogradcli.graph.passes import optimize
from autogradcli.language.parser import parse
from autogradcli.ops import REGISTRY
from autogradcli.render.ci import escape_property, github_annotations, junit

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "samples/seed.txt")
AT = ["--at", "a=1", "b=2", "c=3", "d=4"]


def run(*args: str, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    """The real command in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "autogradcli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


# stdin and inline formulas


def test_inline_formula_and_stdin_agree_with_a_file(tmp_path):
    inline = agrad("eval", "-e", "x^2 * sin(y)", "--at", "x=1", "y=2", "-f", "json")
    doc = json.loads(inline.stdout)
    assert doc["file"] == "-e" and doc["outputs"]["out"]["value"] == pytest.approx(np.sin(2))
    assert doc["outputs"]["out"]["gradient"]["x"] == pytest.approx(2 * np.sin(2))
    piped = run("eval", "-", "--at", "x=1", "y=2", "-f", "json", stdin="x^2 * sin(y)\n")
    assert piped.returncode == 0 and json.loads(piped.stdout)["outputs"] == doc["outputs"]
    # -e with the values right after it (no FILE): the value is not taken for a file
    bare = agrad("eval", "-e", "x*y", "x=2", "y=3", "-f", "json")
    assert json.loads(bare.stdout)["outputs"]["out"]["value"] == 6.0


def test_errors_point_into_the_inline_text_and_stdin():
    inline = agrad("eval", "-e", "f = sine(x)", "--at", "x=1")
    assert inline.exit_code == 2
    assert inline.stderr.startswith("-e:1:5: error: unknown function 'sine'")
    assert "did you mean 'sin'?" in inline.stderr
    piped = run("eval", "-", "--at", "x=1", stdin="\nf = x +* 2\n")
    assert piped.returncode == 2 and piped.stderr.startswith("<stdin>:2:")
    both = agrad("eval", SEED, "-e", "x")
    assert both.exit_code == 2 and "both a file" in both.stderr
    neither = agrad("eval", "--at", "x=1")
    assert neither.exit_code == 2 and "no formula given" in neither.stderr


@pytest.mark.parametrize(
    "command",
    [["graph"], ["stats"], ["optimize"], ["compile"], ["diff"], ["check"]],
)
def test_every_formula_command_takes_e(command):
    result = agrad(*command, "-e", "f = x * sin(x)")
    assert result.exit_code == 0, result.output


def test_points_from_stdin():
    done = run("eval", SEED, "--at-file", "-", stdin="a,b,c,d\n1,2,3,4\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "a,b,c,d,f,df/da,df/db,df/dc,df/dd"
    assert lines[1] == "1,2,3,4,-4,4,16,16,-24"


# -o/--out and formats


def test_eval_writes_json_or_a_table_by_suffix(tmp_path):
    out = tmp_path / "r.json"
    result = agrad("eval", SEED, *AT, "--out", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["outputs"]["f"]["value"] == -4.0
    table = tmp_path / "r.txt"
    assert agrad("eval", SEED, *AT, "-o", str(table)).exit_code == 0
    assert "f = -4" in table.read_text() and "\x1b[" not in table.read_text()
    bad = agrad("eval", SEED, *AT, "-o", str(tmp_path / "r.png"))
    assert bad.exit_code == 2 and "cannot tell the format" in bad.stderr
    clash = agrad("eval", SEED, *AT, "-f", "table", "-o", str(tmp_path / "r2.json"))
    assert clash.exit_code == 2 and "contradicts the suffix" in clash.stderr


def test_batch_json_has_one_line_per_column_and_honours_output_and_wrt(tmp_path):
    points = write(tmp_path, "a,b,c,d\n1,2,3,4\n0,1,0,1\n", "p.csv")
    result = agrad("eval", SEED, "--at-file", points, "-f", "json", "--wrt", "a,d")
    doc = json.loads(result.stdout)
    assert doc["outputs"]["f"]["gradient"] == {"a": [4.0, 1.0], "d": [-24.0, -3.0]}
    assert '"a": [1.0, 0.0],' in result.stdout  # a list per line, not a number per line
    streamed = agrad(
        "eval", SEED, "--at-file", points, "-f", "json", "--wrt", "a,d", "--chunk", "1"
    )
    assert streamed.stdout == result.stdout  # blocks stream through one file per column
    csv = agrad("eval", SEED, "--at-file", points, "--output", "u", "--wrt", "b")
    assert csv.stdout.splitlines()[0] == "a,b,c,d,u,du/db"
    for flag, message in [
        (["--output", "nosuch"], "--output nosuch"),
        (["--wrt", "u"], "--at-file differentiates by inputs"),
        (["--wrt", "bb"], "did you mean 'b'?"),
        (["--nodes"], "--nodes cannot be used here"),
        (["--jacobian"], "--jacobian cannot be used here"),
        (["--digits", "3"], "--digits cannot be used here"),
        (["-f", "table"], "--format table shows one point"),
    ]:
        bad = agrad("eval", SEED, "--at-file", points, *flag)
        assert bad.exit_code == 2 and message in bad.stderr, (flag, bad.stderr)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--engine", "compiled"], "--engine cannot be used here"),
        (["--chunk", "10"], "--chunk cannot be used here"),
        (["--sympy-timeout", "3"], "--sympy-timeout cannot be used here"),
        (["-f", "json", "--digits", "3"], "--digits rounds tables"),
        (["-f", "csv"], "--format csv writes one row per point"),
    ],
)
def test_one_point_refuses_flags_it_cannot_honour(args, message):
    result = agrad("eval", SEED, *AT, *args)
    assert result.exit_code == 2 and message in result.stderr


def test_output_is_never_an_input_and_failures_leave_no_file(tmp_path):
    points = write(tmp_path, "a,b,c,d\n1,2,3,4\n", "p.csv")
    same = agrad("eval", SEED, "--at-file", points, "-o", points)
    assert same.exit_code == 2 and "it is also an input" in same.stderr
    assert Path(points).read_text() == "a,b,c,d\n1,2,3,4\n"
    link = tmp_path / "alias.csv"
    link.symlink_to(points)
    assert agrad("eval", SEED, "--at-file", points, "-o", str(link)).exit_code == 2
    for name, command in [("f.py", "compile"), ("f.dot", "graph"), ("f.txt", "optimize")]:
        formula = write(tmp_path, "f = x * 2\n", name)
        result = agrad(command, formula, "-o", formula)
        assert result.exit_code == 2 and "it is also an input" in result.stderr, command
        assert Path(formula).read_text() == "f = x * 2\n"
    previous = tmp_path / "out.csv"
    previous.write_text("keep me\n")
    bad = write(tmp_path, "a,b,x\n1,2,3\n", "bad.csv")
    assert agrad("eval", SEED, "--at-file", bad, "-o", str(previous)).exit_code == 2
    assert previous.read_text() == "keep me\n"
    bad_row = write(tmp_path, "a,b,c,d\n1,2,3,4\n1,2,oops,4\n", "bad_row.csv")
    result = agrad("eval", SEED, "--at-file", bad_row, "-o", str(previous), "--chunk", "1")
    assert result.exit_code == 2 and "bad_row.csv:3: column 3 is not a number" in result.stderr
    assert previous.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    "target, message",
    [
        ("{tmp}", "it is a folder"),
        ("{tmp}/missing/out.json", "does not exist"),
        ("/dev/full", "No space left on device"),
    ],
)
def test_bad_targets_are_clean_errors(tmp_path, target, message):
    if target == "/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    result = agrad("eval", SEED, *AT, "-o", target.format(tmp=tmp_path), "-f", "json")
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_full_stdout_is_a_clean_error():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "autogradcli", "eval", SEED, *AT, "-f", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2 and "No space left on device" in done.stderr
    assert "Traceback" not in done.stderr


def test_graph_formats_follow_the_suffix(tmp_path):
    dot = tmp_path / "g.dot"
    assert agrad("graph", SEED, "-o", str(dot)).exit_code == 0
    assert dot.read_text().startswith("digraph")
    mmd = tmp_path / "g.mmd"
    assert agrad("graph", SEED, "--out", str(mmd)).exit_code == 0
    assert mmd.read_text().startswith("flowchart")
    jsn = tmp_path / "g.json"
    assert agrad("graph", SEED, "-o", str(jsn)).exit_code == 0
    assert json.loads(jsn.read_text())["nodes"]
    refused = agrad("graph", SEED, "-f", "json", "--digits", "3")
    assert refused.exit_code == 2 and "--digits" in refused.stderr
    assert agrad("graph", SEED, "-f", "svg").exit_code == 2  # binary formats need a file
    assert agrad("graph", SEED, "--dpi", "200").exit_code == 2  # --dpi is for png
    assert agrad("graph", SEED, "--output", "f").exit_code == 2  # --output needs values
    if not os.environ.get("CI") and shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    png = tmp_path / "g.png"
    assert agrad("graph", SEED, *AT, "-o", str(png), "--dpi", "150").exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    svg = tmp_path / "g.svg"
    assert agrad("graph", SEED, "-o", str(svg)).exit_code == 0
    ET.parse(svg)


def test_per_command_formats_are_real():
    assert agrad("stats", SEED, "-f", "csv").exit_code == 2
    assert agrad("check", SEED, "-f", "csv").exit_code == 2  # table, json or junit
    doc = json.loads(agrad("stats", SEED, "-f", "json").stdout)
    assert doc["shared"] == 3  # b, d and the constant 2 are each used twice


def test_minimize_momentum_needs_the_momentum_optimizer():
    result = agrad(
        "minimize", str(ROOT / "samples/rosenbrock.txt"), "--at", "x=0", "y=0", "--momentum", "0.5"
    )
    assert result.exit_code == 2 and "--momentum is for --optimizer momentum" in result.stderr


# one error contract


def test_mistyped_options_and_commands_get_suggestions():
    opt = agrad("eval", SEED, *AT, "--jacobain")
    assert opt.exit_code == 2
    assert opt.stderr == (
        "error: no such option '--jacobain' for agrad eval\n"
        "hint: did you mean '--jacobian'? agrad eval --help lists every option\n"
    )
    first = agrad("eval", "--jacobain")
    assert first.exit_code == 2 and "did you mean '--jacobian'?" in first.stderr
    stats = agrad("stats", SEED, "--frmat", "json")
    assert stats.exit_code == 2 and stats.stderr.startswith("error: no such option '--frmat'")
    assert "did you mean '--format'?" in stats.stderr
    cmd = agrad("evl", SEED)
    assert cmd.exit_code == 2 and "did you mean 'eval'?" in cmd.stderr
    bad_value = agrad("eval", SEED, *AT, "--format", "xml")
    assert bad_value.exit_code == 2 and bad_value.stderr.startswith("error: ")
    assert "╭" not in bad_value.stderr  # no boxed panel: one style everywhere


def test_closed_pipe_exits_quietly():
    done = subprocess.run(
        f"{sys.executable} -m autogradcli ops | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        executable="/bin/bash",
    )
    assert done.stderr == ""
    status = subprocess.run(
        f"set -o pipefail; {sys.executable} -m autogradcli ops | head -1",
        shell=True,
        capture_output=True,
        executable="/bin/bash",
        check=False,
    )
    assert status.returncode == 0


def _writing_rows(folder) -> bool:
    """Whether the temporary output file holds rows yet (it may vanish when renamed)."""
    for part in folder.glob(".out.csv.*.part"):
        with contextlib.suppress(FileNotFoundError):
            if part.stat().st_size:
                return True
    return False


def test_ctrl_c_exits_130_without_a_traceback(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("a,b,c,d\n" + "1,2,3,4\n" * 1_000_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "autogradcli", "eval", SEED, "--at-file", str(points),
         "--chunk", "1000", "--engine", "interpreted", "-o", str(tmp_path / "out.csv")],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not _writing_rows(tmp_path):
        assert proc.poll() is None, "finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()  # no file that looks complete
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# samples after any install


def test_samples_list_show_and_copy(tmp_path):
    listing = agrad("samples")
    assert listing.exit_code == 0 and "seed" in listing.stdout and "rules/chain" in listing.stdout
    shown = agrad("samples", "seed")
    assert shown.stdout == (ROOT / "samples/seed.txt").read_text()
    assert agrad("samples", "seed", "-o", str(tmp_path)).exit_code == 0
    assert (tmp_path / "seed.txt").read_text() == (ROOT / "samples/seed.txt").read_text()
    again = agrad("samples", "seed", "-o", str(tmp_path))
    assert again.exit_code == 2 and "--force" in again.stderr
    typo = agrad("samples", "sed")
    assert typo.exit_code == 2 and "did you mean 'seed'?" in typo.stderr
    assert agrad("samples", "--all", "-o", str(tmp_path / "all")).exit_code == 0
    assert (tmp_path / "all/rules/chain.txt").is_file()


# smaller items


def test_minimize_fixes_data_and_targets():
    mlp = str(ROOT / "samples/mlp.txt")
    at = ["--at", "x=[0.5,-1]", "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]", "b1=[0,0.1,-0.1]",
          "W2=[0.7,-0.8,0.9]", "b2=0.05", "t=1", "--steps", "30"]  # fmt: skip
    fixed = agrad("minimize", mlp, *at, "--fix", "x,t")
    assert fixed.exit_code == 0, fixed.output
    assert "t (fixed)" in fixed.stdout and "x (fixed)" in fixed.stdout
    same = agrad("minimize", mlp, *at, "--wrt", "W1,b1,W2,b2")
    assert same.stdout == fixed.stdout
    bad = agrad("minimize", mlp, *at, "--fix", "tt")
    assert bad.exit_code == 2 and "did you mean 't'?" in bad.stderr
    title = agrad("minimize", str(ROOT / "samples/rosenbrock.txt"), "--at", "x=0", "y=0",
                  "--steps", "5")  # fmt: skip
    assert "Stopped after 5 steps: reached --steps 5" in title.stdout
    assert "Minimized" not in title.stdout


def test_superscripts_in_names_are_refused():
    result = agrad("eval", "-e", "f = x²", "--at", "x=1")
    assert result.exit_code == 2
    assert "-e:1:6: error: '²' cannot be part of a name ('x²')" in result.stderr
    assert "hint: write x^2" in result.stderr


def test_ops_table_names_atan2_arguments_as_it_describes_them():
    assert REGISTRY["atan2"].syntax == "atan2(y, x)"


def test_check_with_nothing_to_check_prints_no_table():
    result = agrad("check")
    assert result.exit_code == 2 and result.stdout == "" and "nothing to check" in result.stderr


def test_ci_formats_escape_hostile_names():
    from autogradcli.verify.oracle import Result

    name = "evil\n::error file=PWNED.txt,line=1::INJECTED\r%\x01"
    r = Result(name, "f", "x", "gradient", 1, "fail", 1.0, 3, "bad\nthing")
    (line,) = github_annotations([r])
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error file=evil%0A%3A%3Aerror file%3DPWNED.txt".replace("%3D", "="))
    assert escape_property("a,b:c") == "a%2Cb%3Ac"
    ET.fromstring(junit([r]))  # strict XML parser: control characters are escaped


# pow computes the same bits everywhere


def test_pow_folded_and_evaluated_agree_to_the_bit():
    # Found by Hypothesis in the optimizer's translation validation.
    text = "f = abs(pi) ^ abs(e) + 0*x"
    graph = parse(text, "t.txt")
    folded, _ = optimize(graph)
    from autogradcli.engines.evaluate import evaluate

    a = evaluate(graph, {"x": np.array(1.0)}).outputs[0].value
    b = evaluate(folded, {"x": np.array(1.0)}).outputs[0].value
    assert float(a).hex() == float(b).hex()


def test_pow_is_one_kernel_for_scalars_zero_d_and_arrays():
    power = REGISTRY["pow"].forward
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(0.1, 10, 500), rng.uniform(-4, 4, 500)
    block = power(xs, ys)
    for k in range(0, 500, 7):
        assert float(power(np.float64(xs[k]), np.float64(ys[k]))).hex() == float(block[k]).hex()
        assert float(power(np.array(xs[k]), np.array(ys[k]))).hex() == float(block[k]).hex()
    from autogradcli.engines.pyfloat import SCALAR

    assert all(SCALAR["power"](float(xs[k]), float(ys[k])) == block[k] for k in range(0, 500, 7))


def test_check_writes_its_report_by_suffix(tmp_path):
    rules = str(ROOT / "samples/rules/chain.txt")
    xml = tmp_path / "r.xml"
    assert agrad("check", rules, "-o", str(xml)).exit_code == 0
    assert ET.parse(xml).getroot().tag == "testsuites"
    jsn = tmp_path / "r.json"
    assert agrad("check", rules, "--out", str(jsn)).exit_code == 0
    assert len(json.loads(jsn.read_text())["results"]) == 2
    txt = tmp_path / "r.txt"
    result = agrad("check", rules, "-o", str(txt))
    assert result.stdout == "" and "agrad check:" in txt.read_text()
    assert agrad("check", rules, "-f", "junit").stdout.startswith("<?xml")
    clash = agrad("check", rules, "-f", "json", "-o", str(tmp_path / "x.xml"))
    assert clash.exit_code == 2 and "contradicts the suffix" in clash.stderr
