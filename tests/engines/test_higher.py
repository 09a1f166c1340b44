"""Second and higher derivatives from the recorded backward graph, against hand-computed values,
SymPy, central differences of agrad's own gradient, and each other (forward = reverse)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import EXPRESSIONS

from autogradcli.engines import higher
from autogradcli.engines.evaluate import evaluate
from autogradcli.errors import AgradError
from autogradcli.graph.derivative import NotDifferentiable, derivative
from autogradcli.language.parser import parse
from autogradcli.verify.oracle import kinks_at
from autogradcli.verify.symbolic import sympy, to_sympy

SEED = "u = (a + b) * b^2\nv = (c - d) * d^2\nf = u + v\n"


def point(text: str, **values):
    graph = parse(text, "t.txt")
    inputs = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    return graph, higher.at(graph, inputs), graph.outputs[0][1]


def test_the_seeds_hessian_by_hand():
    _graph, p, out = point(SEED, a=1, b=2, c=3, d=4)
    h = higher.hessian(p, out, list("abcd"))
    # f = (a+b) b^2 + (c-d) d^2: f_ab = 2b, f_bb = 6b + 2a, f_cd = 2d, f_dd = 2c - 6d
    want = [[0, 4, 0, 0], [4, 14, 0, 0], [0, 0, 0, 8], [0, 0, 8, -18]]
    assert [[float(h[x][y]) for y in "abcd"] for x in "abcd"] == want


def test_the_gradient_graph_is_an_ordinary_graph():
    graph, p, out = point("f = x^3 * y\n", x=2, y=5)
    d = derivative(graph, p.values, out, ["x", "y"])
    assert [name for name, _ in d.graph.outputs] == ["df/dx", "df/dy"]
    again = evaluate(d.graph, {"x": np.array(2.0), "y": np.array(5.0)})
    assert [float(r.value) for r in again.outputs] == [60.0, 8.0]  # 3x^2 y, x^3
    assert again.outputs[0].gradient == {"x": 60.0, "y": 12.0}  # 6xy, 3x^2


def _sympy_hessian(graph, out, names, at):
    sp = sympy()
    sym = to_sympy(graph)
    f = sym.exprs[out]
    xs = [sym.symbols[n] for n in names]
    subs = {sym.symbols[n]: at[n] for n in names}
    return [[float(sp.diff(f, x, y).subs(subs).evalf()) for y in xs] for x in xs]


PROGRAMS = [
    ("f = x^2 * sin(y) + exp(x * y)", {"x": 0.7, "y": -0.3}),
    ("f = log(1 + x^2) / (2 + cos(y))", {"x": 1.3, "y": 0.4}),
    ("f = tanh(x * y) + sigmoid(x - y) + softplus(y)", {"x": 0.2, "y": -1.1}),
    ("f = atan2(y, x) + hypot(x, y) + sqrt(x) * cbrt(y)", {"x": 1.5, "y": 0.8}),
    ("f = max(x, y)^2 + min(x, y)^3 + abs(x - 2 * y)", {"x": 0.3, "y": -0.9}),
    ("f = x^y + asinh(x) * acosh(1 + y^2) + atanh(x / 2)", {"x": 0.6, "y": 1.7}),
    ("f = where(x > y, x^3, y^2 * x)", {"x": 0.5, "y": 0.2}),
    ("f = where(x > y, x^3, y^2 * x)", {"x": 0.1, "y": 0.2}),
    ("f = log2(x) * log10(y) + expm1(x) * log1p(y) + erf(x * y)", {"x": 1.2, "y": 0.5}),
]


@pytest.mark.parametrize(("text", "at"), PROGRAMS)
def test_hessians_agree_with_sympy(text, at):
    graph, p, out = point(text + "\n", **at)
    names = list(at)
    h = higher.hessian(p, out, names)
    got = [[float(h[x][y]) for y in names] for x in names]
    np.testing.assert_allclose(got, _sympy_hessian(graph, out, names, at), rtol=1e-9, atol=1e-12)


def _gradient(graph, at):
    ev = evaluate(graph, {k: np.asarray(v, dtype=float) for k, v in at.items()})
    return ev.outputs[0].gradient


def _central(graph, at, a, names, eps):
    hi, lo = dict(at), dict(at)
    hi[a] += eps
    lo[a] -= eps
    with np.errstate(all="ignore"):
        gp, gm = _gradient(graph, hi), _gradient(graph, lo)
    return np.array([(float(gp[b]) - float(gm[b])) / (2 * eps) for b in names])


@settings(max_examples=60, deadline=None)
@given(EXPRESSIONS, st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2))
def test_hessians_of_random_expressions_match_differences_of_the_gradient(text, x, y, z):
    """Central differences of agrad's gradient; symmetric; away from kinks and overflow."""
    graph = parse(f"f = {text}\n", "t.txt")
    at = {k: v for k, v in {"x": x, "y": y, "z": z}.items() if k in graph.input_ids}
    assume(at)
    try:
        p = higher.at(graph, {k: np.array(v) for k, v in at.items()})
    except NotDifferentiable:
        return
    assume(not kinks_at(graph, p.values))  # at a kink the convention decides, not the limit
    # x^y at y == 0 exactly: d/dx is 0 there by convention (PyTorch masks it the same way),
    # so its derivative in y is 0 too, where the limit is x^-1.
    assume(not any(op == "pow" and np.any(np.asarray(p.values[graph.inputs[i][1]]) == 0)
                   for i, op in enumerate(graph.ops)))  # fmt: skip
    out = graph.outputs[0][1]
    names = list(at)
    with np.errstate(all="ignore"):
        h = higher.hessian(p, out, names)
    got = np.array([[float(h[a][b]) for b in names] for a in names])
    assume(np.isfinite(got).all() and np.abs(got).max(initial=0) < 1e6)
    for k, a in enumerate(names):
        fd = [_central(graph, at, a, names, eps) for eps in (1e-5, 2e-5)]
        assume(np.isfinite(fd).all())
        # A kink within the step shows as differences that change with the step: skip those.
        assume(np.allclose(fd[0], fd[1], rtol=1e-3, atol=1e-4))
        np.testing.assert_allclose(got[k], fd[0], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(got, got.T, rtol=1e-9, atol=1e-12)


def test_array_inputs_hessian_matches_differences_of_the_gradient():
    text = (Path(__file__).parents[2] / "samples" / "mlp.txt").read_text(encoding="utf-8")
    graph = parse(text, "mlp.txt")
    rng = np.random.default_rng(0)
    at = {
        "x": np.array([0.5, -1.0]), "W1": rng.normal(size=(3, 2)), "b1": np.array([0, 0.1, -0.1]),
        "W2": np.array([0.7, -0.8, 0.9]), "b2": np.array(0.05), "t": np.array(1.0),
    }  # fmt: skip
    p = higher.at(graph, at)
    wrt = ["W1", "b1", "W2"]
    h = higher.hessian(p, graph.outputs[0][1], wrt)
    assert h["W1"]["b1"].shape == (3, 2, 3)
    eps = 1e-6
    for x in wrt:
        for e in np.ndindex(at[x].shape):
            hi = {k: v.copy() for k, v in at.items()}
            lo = {k: v.copy() for k, v in at.items()}
            hi[x][e] += eps
            lo[x][e] -= eps
            gp, gm = _gradient(graph, hi), _gradient(graph, lo)
            for y in wrt:
                fd = (np.asarray(gp[y]) - np.asarray(gm[y])) / (2 * eps)
                np.testing.assert_allclose(h[x][y][e], fd, atol=1e-8)


def test_forward_mode_equals_reverse_mode_on_a_jacobian():
    text = "x = [1, 2, 3]\nf = sin(x * a) * b + x * b^2\n"
    graph, p, out = point(text, a=0.4, b=-1.3)
    ev = evaluate(graph, {"a": np.array(0.4), "b": np.array(-1.3)}, jacobian=True)
    jac = ev.outputs[0].jacobian
    v = {"a": np.array(0.25), "b": np.array(-2.0)}
    want = jac["a"] * 0.25 + jac["b"] * -2.0
    np.testing.assert_allclose(higher.jvp(p, out, v), want, rtol=1e-12)


def test_hvp_is_the_hessian_times_the_vector():
    _graph, p, out = point(PROGRAMS[1][0] + "\n", **PROGRAMS[1][1])
    h = higher.hessian(p, out, ["x", "y"])
    v = {"x": np.array(0.3), "y": np.array(-1.7)}
    got = higher.hvp(p, out, ["x", "y"], v)
    for x in "xy":
        assert math.isclose(float(got[x]), sum(float(h[x][y]) * v[y] for y in "xy"), rel_tol=1e-12)


def test_derivatives_of_any_order_agree_with_sympy():
    text, at = PROGRAMS[0]
    graph, p, out = point(text + "\n", **at)
    sp = sympy()
    sym = to_sympy(graph)
    x = sym.symbols["x"]
    subs = {sym.symbols[k]: v for k, v in at.items()}
    want = [float(sp.diff(sym.exprs[out], x, k).subs(subs)) for k in range(1, 6)]
    np.testing.assert_allclose(higher.derivatives(p, out, "x", 5), want, rtol=1e-10)


def test_kinks_follow_pytorchs_conventions():
    for text in ("f = relu(x)\n", "f = abs(x)\n", "f = max(x, 0)\n"):
        _graph, p, out = point(text, x=0.0)
        assert float(higher.hessian(p, out, ["x"])["x"]["x"]) == 0.0


def test_prod_has_a_hessian_with_zeros_among_its_elements():
    # d2/dxi dxj prod(x) = the product of the elements but i and j (hand values)
    for values, expected in (
        ([2.0, 3.0, 4.0], [[0, 4, 3], [4, 0, 2], [3, 2, 0]]),
        ([0.0, 3.0, 4.0], [[0, 4, 3], [4, 0, 0], [3, 0, 0]]),
        ([0.0, 0.0, 4.0], [[0, 4, 0], [4, 0, 0], [0, 0, 0]]),
        ([0.0, 0.0, 0.0], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]),
    ):
        graph = parse("f = prod(x)\n", "t.txt")
        p = higher.at(graph, {"x": np.array(values)})
        out = graph.outputs[0][1]
        np.testing.assert_array_equal(higher.hessian(p, out, ["x"])["x"]["x"], expected)


def test_prod_has_second_derivatives_also_through_zeros():
    _graph, p, out = point("x = [1, 2, 3]\nf = prod(x * a)\n", a=2.0)  # 6 a^3: f'' = 36 a
    assert float(higher.hessian(p, out, ["a"])["a"]["a"]) == pytest.approx(72.0)
    _graph, p, out = point("f = prod(x)\n", x=[0.0, 2.0, 0.0])  # d2/dx0 dx2 = x1, 0 elsewhere
    h = np.asarray(higher.hessian(p, out, ["x"])["x"]["x"])
    np.testing.assert_allclose(h, [[0, 0, 2], [0, 0, 0], [2, 0, 0]])


def test_eval_hessian_table_and_json(tmp_path):
    path = write(tmp_path, SEED, "seed.txt")
    result = agrad("eval", path, "--at", "a=1", "b=2", "c=3", "d=4", "--hessian")
    assert result.exit_code == 0, result.output
    assert "Hessian of f" in result.stdout and "-18" in result.stdout
    result = agrad("eval", path, "--at", "a=1", "b=2", "c=3", "d=4", "--hessian", "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["outputs"]["f"]["hessian"]["b"]["b"] == 14.0
    assert doc["outputs"]["f"]["hessian"]["d"]["c"] == 8.0


def test_eval_hvp_jvp_and_order_from_the_command_line(tmp_path):
    path = write(tmp_path, SEED, "seed.txt")
    args = ["eval", path, "--at", "a=1", "b=2", "c=3", "d=4", "--format", "json"]
    result = agrad(*args, "--hvp", "a=1", "d=1", "--jvp", "a=1", "b=1")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["outputs"]["f"]
    assert entry["hvp"] == {"a": 0.0, "b": 4.0, "c": 8.0, "d": -18.0}
    assert entry["jvp"] == 20.0
    result = agrad(*args, "--wrt", "b", "--order", "4", "--taylor")
    entry = json.loads(result.stdout)["outputs"]["f"]
    assert entry["derivatives"] == [16.0, 14.0, 6.0, 0.0]  # b^3 + a b^2: 3b^2+2ab, 6b+2a, 6
    assert entry["taylor"] == [16.0, 7.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--taylor"], "--taylor gives the coefficients of --order N"),
        (["--order", "2"], "--order differentiates with respect to one input"),
        (["--hvp", "q=1"], "--hvp q=...: 'q' is not an input of the file"),
        (["--jvp", "a=[1,2]"], "--jvp a: the direction has shape (2,), the input ()"),
        (["--at-file", "p.csv", "--hvp", "a=1"], "--hvp cannot be used here"),
    ],
)
def test_second_order_flags_that_cannot_be_honoured_are_errors(tmp_path, extra, message):
    path = write(tmp_path, SEED, "seed.txt")
    (tmp_path / "p.csv").write_text("a,b,c,d\n1,2,3,4\n")
    result = agrad("eval", path, "--at", "a=1", "b=2", "c=3", "d=4", *extra)
    assert result.exit_code == 2
    assert message in result.stderr


def test_the_eval_flags_are_checked_before_any_work():
    from autogradcli.cli.second_order import Second

    Second(True, None, None, None, False).validate(None)
    with pytest.raises(AgradError, match="one input"):
        Second(False, None, None, 3, False).validate(["x", "y"])


@pytest.mark.parametrize(("text", "at"), [p for p in PROGRAMS if "erf" not in p[0]])
def test_the_hessian_plan_agrees_with_the_interpreter(text, at):
    graph, p, out = point(text + "\n", **at)
    want = higher.hessian(p, out, list(at))
    grads, rows = higher.hessian_plan(graph).value_and_grad(**at)
    for x in at:
        assert grads[f"df/d{x}"] == pytest.approx(float(_gradient(graph, at)[x]), rel=1e-12)
        for y in at:
            assert rows[f"df/d{x}"][y] == pytest.approx(float(want[x][y]), rel=1e-10, abs=1e-12)
    many = {k: np.full(5, v) for k, v in at.items()}
    _, batch = higher.hessian_plan(graph).value_and_grad(**many)
    np.testing.assert_allclose(batch["df/dx"]["y"], float(want["x"]["y"]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("engine", ["interpreted", "compiled"])
def test_at_file_hessian_matches_each_point(tmp_path, engine):
    path = write(tmp_path, SEED, "seed.txt")
    rng = np.random.default_rng(3)
    rows = rng.uniform(-2, 2, size=(1500, 4))
    points = tmp_path / "p.csv"
    points.write_text("a,b,c,d\n" + "\n".join(",".join(map(repr, r.tolist())) for r in rows) + "\n")
    result = agrad("eval", path, "--at-file", str(points), "--hessian", "--engine", engine,
                   "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["engine"] == engine
    graph = parse(SEED, "seed.txt")
    for k in (0, 700, 1499):
        at = dict(zip("abcd", rows[k], strict=True))
        h = higher.hessian(higher.at(graph, {n: np.array(v) for n, v in at.items()}),
                           graph.outputs[0][1], list("abcd"))  # fmt: skip
        for x in "abcd":
            for y in "abcd":
                got = doc["outputs"]["f"]["hessian"][x][y][k]
                assert got == pytest.approx(float(h[x][y]), rel=1e-12, abs=1e-12)


def test_at_file_hessian_needs_one_output(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("x,y\n1,2\n")
    result = agrad("eval", "samples/polar.txt", "--at-file", str(points), "--hessian")
    assert result.exit_code == 2 and "pick one with --output NAME" in result.stderr


def test_jacobian_mode_follows_the_shapes_and_both_modes_agree():
    from autogradcli.engines import evaluate as ev_mod

    graph = parse("x = [1, 2, 3, 4]\nf = sin(x * a) * b + x * b^2\n", "t.txt")
    inputs = {"a": np.array(0.4), "b": np.array(-1.3)}
    ev = evaluate(graph, inputs, jacobian=True)
    r = ev.outputs[0]
    assert r.mode == "forward"  # 2 input elements, 4 output elements
    targets = [(w, graph.input_ids[w]) for w in "ab"]
    needs = higher.engine.needs_grad(graph, graph.input_ids.values())
    reverse = ev_mod._reverse_jacobian(graph, ev.values, r.node, needs, targets)
    for w in "ab":
        np.testing.assert_allclose(r.jacobian[w], reverse[w], rtol=1e-13, atol=1e-15)
    wide = parse("f = sum(w * w) * w\n", "t.txt")  # 3 inputs elements, 3 output elements
    out = evaluate(wide, {"w": np.array([1.0, 2.0, 3.0])}, jacobian=True).outputs[0]
    assert out.mode == "reverse"


SCALAR_SAMPLES = {
    "seed.txt": {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0},
    "rosenbrock.txt": {"x": -1.2, "y": 1.0},
    "polar.txt": {"x": 1.0, "y": 2.0},
}


@pytest.mark.parametrize("sample", sorted(SCALAR_SAMPLES))
def test_interpreter_plan_and_compiled_module_agree_on_hessians(tmp_path, sample, monkeypatch):
    import importlib

    root = Path(__file__).parents[2] / "samples"
    at = SCALAR_SAMPLES[sample]
    graph = parse((root / sample).read_text(encoding="utf-8"), sample)
    out = graph.outputs[0][1]
    want = higher.hessian(higher.at(graph, {k: np.array(v) for k, v in at.items()}), out, list(at))
    _, planned = higher.hessian_plan(graph).value_and_grad(**at)
    module = "hessian_" + sample.removesuffix(".txt")
    result = agrad("compile", str(root / sample), "--hessian", "-o", str(tmp_path / f"{module}.py"))
    assert result.exit_code == 0, result.output
    monkeypatch.syspath_prepend(str(tmp_path))
    _, compiled = importlib.import_module(module).value_and_grad(**at)
    name = graph.outputs[0][0]
    for x in at:
        for y in at:
            expected = float(want[x][y])
            assert planned[f"d{name}/d{x}"][y] == pytest.approx(expected, rel=1e-12, abs=1e-12)
            assert compiled[f"d{name}/d{x}"][y] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_a_non_finite_second_derivative_is_located(tmp_path):
    path = write(tmp_path, "u = x^2\nf = sqrt(u) + y\n", "k.txt")
    result = agrad("eval", path, "--at", "x=0", "y=1", "--hessian")
    assert result.exit_code == 0
    assert f"{path}:2:5: warning: a second derivative of f is inf" in result.stderr
    assert "sqrt(u)" in result.stderr.splitlines()[-1]
    strict = agrad("eval", path, "--at", "x=0", "y=1", "--hessian", "--strict")
    assert strict.exit_code == 1


def test_notices_render_on_one_line():
    from autogradcli.engines.notice import Notice

    notice = Notice("second", "a second derivative of f is inf", 3, "t.txt:2:5", "sqrt(u)")
    assert notice.render() == "t.txt:2:5: warning: a second derivative of f is inf: sqrt(u)"
