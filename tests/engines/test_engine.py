"""The engine: hand-computed values, fan-out, scale, broadcasting, kinks and non-finite values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import grad, run, value

from autogradcli.engines import interpreter as engine
from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse
from autogradcli.ops import Op, register, unregister

SEED = "u = (a + b) * b^2\nv = (c - d) * d**2\nf = u + v\n"


def fd_grad(text: str, at: dict, h: float = 1e-6) -> dict:
    """Central finite differences of the sum of the first output, element by element."""
    g = parse(text, "t.txt")
    base = {k: np.asarray(v, dtype=float) for k, v in at.items()}

    def f(vals):
        with engine.fp_watch():
            out = engine.forward(g, vals)[g.outputs[0][1]]
        return float(np.sum(out))

    result = {}
    for name, x in base.items():
        d = np.zeros(x.shape)
        for k in range(x.size):
            plus, minus = dict(base), dict(base)
            e = np.zeros(x.size)
            e[k] = h
            plus[name] = x + e.reshape(x.shape)
            minus[name] = x - e.reshape(x.shape)
            d.flat[k] = (f(plus) - f(minus)) / (2 * h)
        result[name] = d
    return result


def test_seed_hand_computed():
    ev = run(SEED, a=1, b=2, c=3, d=4)
    assert float(ev.outputs[0].value) == -4.0
    assert {k: float(v) for k, v in ev.outputs[0].gradient.items()} == {
        "a": 4.0,
        "b": 16.0,
        "c": 16.0,
        "d": -24.0,
    }


def test_seed_edges_partials_and_contributions():
    ev = evaluate(
        parse(SEED, "t.txt"),
        {k: np.array(v) for k, v in {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}.items()},
        edges=True,
    )
    g = ev.graph
    u = g.symbols["u"]
    _, pw = g.inputs[u]
    assert float(ev.partials[(u, 0)]) == 4.0  # d(u)/d(a+b) = b^2
    assert float(ev.partials[(u, 1)]) == 3.0  # d(u)/d(b^2) = a+b
    assert float(ev.outputs[0].contributions[(pw, 0)]) == 12.0  # adjoint 3 x partial 2b
    assert g.edge_count() == 14  # seven binary ops


def test_fan_out_is_summed_not_recursed():
    assert float(grad("b = a + a\nc = b + b", a=1)["a"]) == 4.0
    assert float(grad("b = a * a\nc = b * b", a=3)["a"]) == 4 * 27


def test_x_times_x_has_two_edges():
    ev = evaluate(parse("f = x * x", "t.txt"), {"x": np.array(3.0)}, edges=True)
    assert float(ev.outputs[0].gradient["x"]) == 6.0
    node = ev.graph.outputs[0][1]
    assert set(ev.outputs[0].contributions) == {(node, 0), (node, 1)}


def test_hundred_thousand_node_chain():
    n = 100_000
    lines = ["v0 = x"] + [f"v{i} = v{i - 1} * 1.00001" for i in range(1, n)]
    ev = run("\n".join(lines), x=1.0)
    assert float(ev.outputs[0].gradient["x"]) == pytest.approx(1.00001 ** (n - 1), rel=1e-9)


def test_deep_nested_unary_chain():
    text = "f = " + "-" * 50_000 + "x"
    assert value(text, x=2.0) == 2.0


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("f = sum(s + v)", {"s": 1.5, "v": [1.0, 2.0, 3.0]}),
        ("f = sum(s * v)", {"s": 1.5, "v": [1.0, -2.0, 3.0]}),
        ("f = sum(W @ v)", {"W": [[1.0, 2.0], [3.0, 4.0], [5.0, -6.0]], "v": [0.5, -1.0]}),
        ("f = sum(v @ W)", {"W": [[1.0, 2.0], [3.0, 4.0]], "v": [0.5, -1.0]}),
        (
            "f = sum(tanh(W @ v + b))",
            {"W": [[1.0, 2.0], [-3.0, 0.4]], "v": [0.5, -1.0], "b": [0.1, 0.2]},
        ),
        ("f = sum(r * M)", {"r": [[1.0], [2.0]], "M": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}),
        (
            "f = dot(v, w) + norm(v) + prod(w) + mean(v * w)",
            {"v": [1.0, 2.0, 3.0], "w": [0.5, -1.0, 2.0]},
        ),
        ("f = sum(max(v, s) + min(v, 2*s))", {"v": [1.0, 2.0, 3.0], "s": 1.5}),
    ],
)
def test_broadcasting_gradients_match_finite_differences(text, at):
    ev = run(text, **at)
    fd = fd_grad(text, at)
    for name, g in ev.outputs[0].gradient.items():
        assert g.shape == np.shape(at[name])
        np.testing.assert_allclose(g, fd[name], rtol=1e-6, atol=1e-8)


def test_array_output_gradient_is_of_the_sum_and_jacobian_is_full():
    g = parse("y = W @ x", "t.txt")
    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = np.array([1.0, -1.0])
    ev = evaluate(g, {"W": W, "x": x}, jacobian=True)
    out = ev.outputs[0]
    np.testing.assert_allclose(out.gradient["x"], W.sum(axis=0))
    np.testing.assert_allclose(out.jacobian["x"], W)
    assert out.jacobian["W"].shape == (3, 3, 2)
    np.testing.assert_allclose(out.jacobian["W"][1, 1], x)
    np.testing.assert_allclose(out.jacobian["W"][1, 0], 0.0)


def test_several_outputs_give_a_jacobian():
    g = parse("r = hypot(x, y)\nt = atan2(y, x)\nr\nt", "t.txt")
    ev = evaluate(g, {"x": np.array(3.0), "y": np.array(4.0)})
    r, t = ev.outputs
    assert (r.name, t.name) == ("r", "t")
    assert float(r.gradient["x"]) == pytest.approx(0.6)
    assert float(t.gradient["x"]) == pytest.approx(-4 / 25)


def test_wrt_restricts_and_accepts_intermediates():
    g = parse(SEED, "t.txt")
    vals = {k: np.array(v) for k, v in {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}.items()}
    ev = evaluate(g, vals, wrt=["b", "u"])
    assert {k: float(v) for k, v in ev.outputs[0].gradient.items()} == {"b": 16.0, "u": 1.0}


@pytest.mark.parametrize(
    ("text", "x", "expected_value", "expected_grad"),
    [
        ("abs(x)", 0.0, 0.0, 0.0),
        ("relu(x)", 0.0, 0.0, 0.0),
        ("sign(x)", 0.0, 0.0, 0.0),
        ("sign(x)", -2.0, -1.0, 0.0),
        ("max(x, 1)", 1.0, 1.0, 0.5),
        ("min(x, 1)", 1.0, 1.0, 0.5),
        ("max(x, x)", 2.0, 2.0, 1.0),
        ("sqrt(x)", 0.0, 0.0, math.inf),
        ("x^0", 0.0, 1.0, 0.0),
        ("0^x", 2.0, 0.0, 0.0),
        ("x^3", -2.0, -8.0, 12.0),
        ("x^2.0", -3.0, 9.0, -6.0),
        ("x^2", 0.0, 0.0, 0.0),
        ("x^1", 0.0, 0.0, 1.0),
        ("norm(x)", 0.0, 0.0, 0.0),
    ],
)
def test_conventions_at_kinks(text, x, expected_value, expected_grad):
    ev = run(text, x=x)
    assert float(ev.outputs[0].value) == expected_value
    assert float(ev.outputs[0].gradient["x"]) == expected_grad


def test_zero_to_the_zero_is_one():
    assert value("0^0") == 1.0


@pytest.mark.parametrize(
    ("text", "at", "kind", "col", "bad"),
    [
        ("f = log(x) + 1", {"x": 0.0}, "value", 5, "-inf"),
        ("f = 1 / x", {"x": 0.0}, "value", 5, "inf"),
        ("f = exp(x) * 2", {"x": 1000.0}, "value", 5, "inf"),
        ("f = y + (x)^(1/3)", {"x": -8.0, "y": 1.0}, "value", 9, "nan"),
        ("f = sqrt(x) + 1", {"x": 0.0}, "gradient", 5, "inf"),
    ],
)
def test_non_finite_values_are_named_with_their_source(text, at, kind, col, bad):
    ev = run(text, **at)
    notice = next(n for n in ev.notices if n.kind == kind)
    assert notice.where == f"t.txt:1:{col}"
    assert bad in notice.message
    assert not ev.finite


def test_finite_results_have_no_notices():
    assert run(SEED, a=1, b=2, c=3, d=4).notices == []


def test_a_rule_with_the_wrong_entry_count_is_named():
    def _bad_vjp(g, out, x):
        return g, g

    register(Op("bad", 1, np.sin, _bad_vjp, lambda sp, x: sp.sin(x), "cos", ((0, 1),), "broken"))
    try:
        g = parse("f = x * 2", "t.txt")
        node = g.add_op("bad", (g.input_ids["x"],))
        g.outputs = [("f", node)]
        with pytest.raises(engine.RuleError, match="rule of 'bad' returned 2 entries for 1"):
            evaluate(g, {"x": np.array(1.0)})
    finally:
        unregister("bad")


def test_shape_mismatch_is_a_user_error_with_position():
    from autogradcli.errors import AgradError

    with pytest.raises(AgradError) as info:
        run("f = sum(W @ v)", W=[[1.0, 2.0]], v=[1.0, 2.0, 3.0])
    assert "matmul cannot combine shapes (1, 2) and (3,)" in info.value.message
    assert info.value.span.where() == "t.txt:1:9"


def test_unbroadcast():
    g = np.ones((4, 2, 3))
    assert engine.unbroadcast(g, (2, 3)).tolist() == (4 * np.ones((2, 3))).tolist()
    assert engine.unbroadcast(g, (2, 1)).tolist() == [[12.0], [12.0]]
    assert float(engine.unbroadcast(g, ())) == 24.0


def test_eval_runs_only_the_nodes_the_outputs_need(tmp_path):
    from conftest import agrad, write

    path = write(tmp_path, "u = log(-1 - x^2)\nw = sum([1, 2, 3] * x)\nf = x * 2\n# output: f\n")
    result = agrad("eval", path, "--at", "x=3", "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""  # u's nan is never computed
    assert json.loads(result.stdout)["outputs"]["f"]["gradient"] == {"x": 2.0}
    every = agrad("eval", path, "--at", "x=3", "--nodes")
    assert "u" in every.stdout and "nan" in every.stderr  # --nodes shows every node
