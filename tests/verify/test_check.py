"""Verification: SymPy and finite differences against the engine, claims, culprits, CI formats."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write

from autogradcli.engines.evaluate import evaluate
from autogradcli.errors import AgradError
from autogradcli.language.parser import parse, parse_file
from autogradcli.ops import REGISTRY, register
from autogradcli.verify.files import check_file, check_ops
from autogradcli.verify.oracle import Tolerances, check_point

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wrong_sin():
    """Plant a derivative rule for sin that is 1% off, and restore the real one after."""
    real = REGISTRY["sin"]

    def _wrong_sin_vjp(g, out, x):
        return (g * np.cos(x) * 1.01,)

    register(dataclasses.replace(real, vjp=_wrong_sin_vjp))
    yield
    register(real)


def test_rules_samples_all_pass():
    result = agrad("check", str(ROOT / "samples" / "rules"), "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    claims = [r for r in doc["results"] if r["kind"] == "claim"]
    assert len(claims) >= 20
    assert all(r["status"] == "pass" for r in doc["results"])
    assert sum(r["proof"] == "proved" for r in claims) >= 15


def test_claims_prove_and_fail_with_their_line(tmp_path):
    path = write(
        tmp_path,
        "# range: x in [0.1, 3]\nf = x * sin(x)\n"
        "expect diff(f, x) == sin(x) + x*cos(x)\n"
        "expect diff(f, x) == sin(x) + x*cos(x) + 0.001\n"
        "expect f == x*sin(x)\n",
    )
    rows = [r for r in check_file(path, points=10) if r.kind == "claim"]
    assert [(r.line, r.status) for r in rows] == [(3, "pass"), (4, "fail"), (5, "pass")]
    assert rows[0].proof == "proved" and rows[1].proof == "not proved"
    assert "at x=" in rows[1].detail and "the claim" in rows[1].detail
    result = agrad("check", path)
    assert result.exit_code == 1
    assert f"{path}:4:" in result.stdout


def test_second_and_mixed_derivative_claims(tmp_path):
    path = write(
        tmp_path,
        "# range: x in [0.1, 2], y in [-1, 1]\nf = x^3 * sin(y)\n"
        "expect diff(f, x, y) == 3*x^2*cos(y)\n"
        "expect diff(f, x, x) == 6*x*sin(y)\n"
        "expect diff(f, y, y, x) == -3*x^2*sin(y)\n"
        "expect diff(f, x, x) == 5*x*sin(y)\n",
    )
    rows = [r for r in check_file(path, points=8) if r.kind == "claim"]
    assert [(r.line, r.wrt, r.status) for r in rows] == [
        (3, "x, y", "pass"), (4, "x, x", "pass"), (5, "y, y, x", "pass"), (6, "x, x", "fail"),
    ]  # fmt: skip
    assert rows[0].proof == "proved"


def test_planted_wrong_rule_is_caught_and_located(tmp_path, wrong_sin):
    path = write(tmp_path, "u = x^2 + y\nv = exp(u) * 0.5\nf = v + sin(u) * y\n")
    rows = check_file(path, points=5)
    assert all(r.status == "fail" for r in rows)
    assert f"culprit: n8 (sin) at {path}:3:9: sin(u)" in rows[0].detail
    ev = evaluate(parse_file(path), {"x": np.array(0.3), "y": np.array(1.1)})
    point = check_point(ev, Tolerances(), 10.0)
    assert point[0].status == "fail" and "(sin) at" in point[0].detail


def test_check_ops_catches_a_wrong_rule(wrong_sin):
    rows = {r.output: r for r in check_ops(points=50)}
    assert rows["sin"].status == "fail"
    assert rows["cos"].status == "pass"


def test_every_op_rule_and_convention_passes():
    rows = check_ops(points=200)
    assert {r.output for r in rows if r.kind == "rule"} == set(REGISTRY)
    assert all(r.points >= 150 for r in rows if r.kind == "rule")
    bad = [(r.output, r.detail) for r in rows if r.status != "pass" and r.kind != "second"]
    assert bad == []
    assert any(r.kind == "convention" and r.output == "abs(0)" for r in rows)
    second = {r.output: r.status for r in rows if r.kind == "second"}
    assert set(second) == {f"{name}''" for name in REGISTRY}
    assert {k: v for k, v in second.items() if v != "pass"} == {}  # prod'' included


def test_check_ops_cli():
    result = agrad("check", "--ops", "-f", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"pass": len(doc["results"])}


def test_junit_counts(tmp_path):
    good = write(tmp_path, "f = x*y\nexpect diff(f, x) == y\n", "good.txt")
    bad = write(tmp_path, "f = x*y\nexpect diff(f, x) == 2*y\n", "bad.txt")
    report = tmp_path / "report.xml"
    result = agrad("check", good, bad, "--junit", str(report))
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites[good].get("tests") == "3" and suites[good].get("failures") == "0"
    assert suites[bad].get("failures") == "1"
    failure = next(suites[bad].iter("failure"))
    assert "at x=" in failure.get("message") and "y=" in failure.get("message")
    assert len(list(root.iter("testcase"))) == 6


def test_github_annotations(tmp_path, monkeypatch):
    bad = write(tmp_path, "f = x*y\n\nexpect diff(f, x) == 2*y\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = agrad("check", bad)
    assert f"::error file={bad},line=3::" in result.stdout


def test_exit_codes(tmp_path):
    assert agrad("check", write(tmp_path, "f = x^2\n", "a.txt")).exit_code == 0
    assert agrad("check", write(tmp_path, "f = x^2\nexpect f == x^3\n", "b.txt")).exit_code == 1
    broken = agrad("check", write(tmp_path, "f = x^\n", "c.txt"))
    assert broken.exit_code == 2
    assert "c.txt:1:6: error" in broken.stderr
    assert agrad("check", str(tmp_path / "missing.txt")).exit_code == 2
    assert agrad("check", "--range", "x=5:1", str(tmp_path / "a.txt")).exit_code == 2


def test_range_option_and_directive(tmp_path):
    path = write(tmp_path, "# range: x in [0.5, 2]\nf = log(x) + sqrt(x - 0.4)\n")
    rows = check_file(path, points=10)
    assert rows[0].status == "pass" and rows[0].redrawn == 0
    narrow = check_file(path, points=10, ranges={"x": (-2.0, 2.0)})
    assert narrow[0].redrawn > 0 and narrow[0].status == "pass"


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("f = x\n# range: x in [3, 1]\n", "empty range for 'x'", "2:16"),
        ("f = x\n# range: x from 1 to 2\n", "malformed range directive", "2:10"),
        ("f = x\n# range: z in [0, 1]\n", "not an input", "2:10"),
        ("f = x\nexpect f = x\n", "needs '=='", "2:1"),
        ("f = x\nexpect g == x\n", "'g' is not defined above", "2:8"),
        ("f = x\nexpect diff(f, q) == 1\n", "'q' is not an input", "2:16"),
        ("f = x\nexpect diff(f) == 1\n", "left side of expect", "2:8"),
        ("f = x\nexpect diff(f, x, q) == 1\n", "'q' is not an input", "2:19"),
        ("f = x\nexpect diff(f, x, ) == 1\n", "left side of expect", "2:8"),
        ("f = x\nexpect f == x + w\n", "'w' is not an input", "2:17"),
        ("f = x == 1\n", "unexpected '=='", "1:7"),
        ("f = sum(x)\n# shape: x [2]\n", "malformed shape directive", "2:10"),
        ("f = sum(x)\n# shape: q (2)\n", "shape for 'q', which is not an input", "2:10"),
    ],
)
def test_claim_and_directive_errors(text, message, where):
    with pytest.raises(AgradError) as info:
        parse(text, "t.txt")
    assert message in info.value.message
    assert info.value.span.where() == f"t.txt:{where}"


def test_kinks_are_never_passes(tmp_path):
    result = agrad(
        "eval",
        write(tmp_path, "f = relu(x) + abs(y)\n"),
        "--at",
        "x=0",
        "y=1",
        "--check",
        "-f",
        "json",
    )
    doc = json.loads(result.stdout)
    status = {r["wrt"]: r["status"] for r in doc["check"]}
    assert status == {"x": "not differentiable here", "y": "pass"}
    rows = check_file(write(tmp_path, "# range: x in [-1, 1]\nf = abs(x)\n", "k.txt"), points=20)
    assert rows[0].status == "pass" and rows[0].points == 20


def test_eval_check_json_fields():
    result = agrad(
        "eval",
        str(ROOT / "samples" / "seed.txt"),
        "--at",
        "a=1",
        "b=2",
        "c=3",
        "d=4",
        "--check",
        "-f",
        "json",
    )
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["check"]
    assert [(r["wrt"], r["engine"], r["sympy"], r["status"]) for r in rows] == [
        ("a", 4.0, 4.0, "pass"),
        ("b", 16.0, 16.0, "pass"),
        ("c", 16.0, 16.0, "pass"),
        ("d", -24.0, -24.0, "pass"),
    ]
    assert all(abs(r["fd"] - r["engine"]) < 1e-6 for r in rows)


def test_heavy_sharing_finishes_within_the_sympy_budget(tmp_path):
    lines = ["v0 = x", "v1 = y"]
    for i in range(2, 2000):
        lines.append(
            f"v{i} = v{i - 1} * v{i - 2} + sin(v{i - 1})"
            if i % 2
            else f"v{i} = tanh(v{i - 1} + v{i - 2})"
        )
    path = write(tmp_path, "\n".join(lines) + "\n")
    result = agrad("check", path, "--points", "3", "--sympy-timeout", "2", "-f", "json")
    assert result.exit_code == 0
    statuses = {r["status"] for r in json.loads(result.stdout)["results"]}
    too_deep = "skipped: too deep for SymPy (depth 3,996 > 250)"
    assert statuses <= {"pass", "skipped: SymPy too slow (over 2 s)", too_deep}


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("f = (1 - x)^2 + 100 * (y - x^2)^2", {"x": -1.2, "y": 1.0}),
        (
            "f = sigmoid(x) * tanh(y) + softplus(x*y) + atan2(y, x) + hypot(x, y)",
            {"x": 0.7, "y": -0.3},
        ),
        ("f = exp(sin(x)) / (1 + y^2) + log1p(x^2) + cbrt(y) + e^x + pi*y", {"x": 0.4, "y": 1.7}),
        ("f = relu(x) * abs(y) + max(x, y) - min(x, 2*y)", {"x": 0.4, "y": -1.7}),
    ],
)
def test_diff_agrad_format_round_trips_through_eval(tmp_path, text, at):
    src = write(tmp_path, text + "\n")
    simplify = "--simplify" if "100" in text else "--no-simplify"  # simplify is slow
    result = agrad("diff", src, "--format", "agrad", simplify)
    assert result.exit_code == 0, result.output
    derivative = write(tmp_path, result.stdout, "d.txt")
    values = [f"{k}={v}" for k, v in at.items()]
    back = json.loads(agrad("eval", derivative, "--at", *values, "-f", "json").stdout)
    engine = json.loads(agrad("eval", src, "--at", *values, "-f", "json").stdout)
    for name, g in engine["outputs"]["f"]["gradient"].items():
        assert back["outputs"][f"df_d{name}"]["value"] == pytest.approx(g, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("f = (1 - x)^2 + 100 * (y - x^2)^2", {"x": -1.2, "y": 1.0}),
        ("f = exp(sin(x)) / (1 + y^2) + log1p(x^2) * y", {"x": 0.4, "y": 1.7}),
    ],
)
def test_diff_order_2_round_trips_to_the_engines_hessian(tmp_path, text, at):
    src = write(tmp_path, text + "\n")
    result = agrad("diff", src, "--order", "2", "--format", "agrad", "--no-simplify")
    assert result.exit_code == 0, result.output
    hessian = write(tmp_path, result.stdout, "h.txt")
    values = [f"{k}={v}" for k, v in at.items()]
    back = json.loads(agrad("eval", hessian, "--at", *values, "-f", "json").stdout)["outputs"]
    engine = json.loads(agrad("eval", src, "--at", *values, "--hessian", "-f", "json").stdout)
    h = engine["outputs"]["f"]["hessian"]
    assert set(back) == {"d2f_dx_dx", "d2f_dx_dy", "d2f_dy_dy"}
    for (x, y), name in [(("x", "x"), "d2f_dx_dx"), (("x", "y"), "d2f_dx_dy"),
                         (("y", "y"), "d2f_dy_dy")]:  # fmt: skip
        assert back[name]["value"] == pytest.approx(h[x][y], rel=1e-12)


def test_diff_order_2_text_and_latex():
    seed = str(ROOT / "samples" / "seed.txt")
    text = agrad("diff", seed, "--order", "2", "--wrt", "a,b")
    assert [line for line in text.stdout.splitlines() if line] == [
        "∂²f/∂a² = 0", "∂²f/∂a∂b = 2⋅b", "∂²f/∂b² = 2⋅a + 6⋅b",
    ]  # fmt: skip
    latex = agrad("diff", seed, "--order", "2", "--wrt", "c,d", "--latex")
    assert r"\frac{\partial^{2} f}{\partial c \partial d} = 2 d" in latex.stdout


def test_diff_text_and_latex():
    seed = str(ROOT / "samples" / "seed.txt")
    text = agrad("diff", seed, "--wrt", "a")
    assert text.exit_code == 0
    assert "∂f/∂a" in text.stdout and "b" in text.stdout
    latex = agrad("diff", seed, "--wrt", "d", "--latex")
    assert latex.stdout.strip() == r"\frac{\partial f}{\partial d} = d \left(2 c - 3 d\right)"


def test_shape_directive_samples_arrays(tmp_path):
    path = write(
        tmp_path, "# shape: W (2, 3), v (3)\n# range: W in [-1, 1]\nf = sum(tanh(W @ v))\n"
    )
    graph = parse_file(path)
    assert graph.shapes == {"W": (2, 3), "v": (3,)}
    rows = check_file(path, points=5)
    assert [(r.wrt, r.status) for r in rows] == [("W", "pass"), ("v", "pass")]


def test_every_sample_checks():
    result = agrad("check", str(ROOT / "samples"), "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {r["status"] for r in doc["results"]} == {"pass"}
    assert {Path(r["file"]).name for r in doc["results"]} >= {"mlp.txt", "logistic.txt", "seed.txt"}


def test_unsteady_finite_differences_judge_nothing(tmp_path):
    path = write(tmp_path, "f = sqrt(x - 0.4)\n")
    result = agrad("eval", path, "--at", "x=0.40000001", "--check", "-f", "json")
    row = json.loads(result.stdout)["check"][0]
    assert row["fd"] == "nan" and row["status"] == "pass"
    assert row["engine"] == pytest.approx(row["sympy"], rel=1e-9)


def test_check_samples_both_sides_of_each_comparison(tmp_path):
    from autogradcli.verify.oracle import sample

    path = write(tmp_path, "# range: r in [0, 20]\nf = where(r <= 1, 0.5 * r^2, r - 0.5)\n")
    graph = parse_file(path)
    drawn = sample(graph, {"r": (0.0, 20.0)}, points=3, seed=0)  # r <= 1 one draw in 20
    node = next(i for i, op in enumerate(graph.ops) if op == "le")
    assert {float(ev.values[node]) for ev in drawn.evals} == {0.0, 1.0}
    rows = check_file(path, points=3)
    assert rows[0].status == "pass" and rows[0].points >= 3


def test_a_matrix_in_a_failure_detail_is_one_line():
    from autogradcli.verify.files import _fmt

    assert _fmt(np.arange(6.0).reshape(2, 3)) == "[[0., 1., 2.], [3., 4., 5.]]"


def test_a_time_budget_that_runs_out_inside_a_gc_callback_still_stops_the_work():
    import gc
    import time

    from autogradcli.verify.symbolic import SympyTimeout, time_budget

    def slow_callback(phase, info):  # a callback where the timer happens to ring
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            pass

    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(SympyTimeout), time_budget(0.02):
            end = time.monotonic() + 5
            while time.monotonic() < end:
                gc.collect()  # the timer rings inside the callback first
                busy = time.monotonic() + 0.05
                while time.monotonic() < busy:  # then work outside it, as SymPy would
                    pass
    finally:
        gc.callbacks.remove(slow_callback)
