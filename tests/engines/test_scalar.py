"""One point on Python floats (scalar.py) against the NumPy engine: values, gradients, notices."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from conftest import agrad, write
from hypothesis import given, settings
from hypothesis import strategies as st
from test_plan import ELEMENTWISE_EXPRESSIONS, assert_same

from autogradcli.engines import choose as choose_mod
from autogradcli.engines import floats as scalar
from autogradcli.engines.evaluate import evaluate
from autogradcli.engines.pyfloat import _KERNEL_DOMAIN, SCALAR
from autogradcli.graph import Graph
from autogradcli.language.parser import parse
from autogradcli.ops import REGISTRY

ELEMENTWISE = sorted(n for n, op in REGISTRY.items() if op.kind == "elementwise" and op.traceable)
SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e300, -1e300, np.inf, -np.inf, np.nan]


def both(graph: Graph, point: dict, **kw):
    """The evaluation on NumPy and on Python floats (any size of graph)."""
    inputs = {n: np.asarray(v, dtype=float) for n, v in point.items()}
    want = evaluate(graph, inputs, **kw)
    old = choose_mod.FLOAT_NODES
    choose_mod.FLOAT_NODES = 0
    try:
        got = evaluate(graph, inputs, floats=True, **kw)
    finally:
        choose_mod.FLOAT_NODES = old
    return got, want


def flat(ev) -> list:
    out = []
    for r in ev.outputs:
        out += [r.value, *r.gradient.values()]
    return out


def assert_agree(got, want, rtol=1e-12, atol=1e-14):
    assert_same(flat(got), flat(want), rtol=rtol, atol=atol)
    for g, w in zip(flat(got), flat(want), strict=True):  # inf and -inf, 0 and -0 alike
        assert np.array_equal(np.isposinf(g), np.isposinf(w))
        assert np.array_equal(np.signbit(g) & (g == 0), np.signbit(w) & (w == 0))
    assert [n.render() for n in got.notices] == [n.render() for n in want.notices]


def one_op(name: str) -> Graph:
    """`f = name(x, y, ...)` built directly, so infix ops are covered too."""
    g = Graph()
    args = tuple(g.add_input(n) for n in "xyz"[: REGISTRY[name].arity])
    g.add_output("f", g.add_op(name, args))
    return g


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_elementwise_op_matches_the_engine(name):
    op = REGISTRY[name]
    graph = one_op(name)
    assert scalar.rules(name) is not None, f"{name} has no Python-float rules"
    rng = np.random.default_rng(2)
    points = [[rng.uniform(lo, hi) for lo, hi in op.domain] for _ in range(40)]
    points += [list(inputs) for inputs, _, _ in op.conventions]
    points += [[s] * op.arity for s in SPECIAL]
    points += [[s, 2.0, 1.0][: op.arity] for s in SPECIAL]
    points += [[2.0, s, 1.0][: op.arity] for s in SPECIAL]
    for p in points:
        got, want = both(graph, dict(zip("xyz", p, strict=False)))
        assert_agree(got, want)


@settings(max_examples=200, deadline=None)
@given(
    ELEMENTWISE_EXPRESSIONS,
    st.lists(st.one_of(st.floats(-3, 3), st.sampled_from(SPECIAL)), min_size=3, max_size=3),
)
def test_random_expressions_match_the_engine(text, point):
    graph = parse(f"f = {text}\ng = f * x + y\n", "t.txt")
    values = dict(zip("xyz", point, strict=True))
    got, want = both(graph, {n: values[n] for n in graph.input_ids}, outputs=["f", "g"])
    assert_agree(got, want, rtol=1e-9, atol=1e-12)
    on_floats = all(type(v) is float for v in got.values)
    everything = [
        np.asarray(v, dtype=float)
        for r in want.outputs
        for v in [*want.values, *(a for a in r.adjoints if a is not None)]
    ]
    if all(np.abs(v).max() < 1e300 for v in everything):
        assert on_floats  # finite and far from overflow: the float path answered
    if on_floats:
        assert all(np.isfinite(v).all() for v in everything)


@settings(max_examples=100, deadline=None)
@given(ELEMENTWISE_EXPRESSIONS, st.sampled_from([["x"], ["y", "z"], ["f"], ["u"], ["x", "u"]]))
def test_forward_marks_what_needs_a_gradient_like_the_engine(text, wrt):
    from autogradcli.engines import interpreter as engine

    graph = parse(f"u = 2 * 3\nf = {text}\ng = f * x + u\n", "t.txt")
    nodes = [graph.lookup(w) for w in wrt if graph.lookup(w) is not None]
    done = scalar.forward(graph, {n: 0.5 for n in graph.input_ids}, nodes, graph.columns())
    if done is not None:
        assert done[1] == engine.needs_grad(graph, nodes)


def test_non_finite_values_are_named_like_the_engine():
    graph = parse("u = log(x)\nv = u * 0\nf = v + 1/y\n", "t.txt")
    got, want = both(graph, {"x": 0.0, "y": 0.0})
    assert_agree(got, want)
    assert got.notices[0].render().startswith("t.txt:1:5: warning: n1 'u' (log)")


def test_arrays_and_reductions_stay_on_numpy():
    g = parse("f = sum(x * 2)\n", "t.txt")
    assert not scalar.eligible(g, {"x": np.ones(3)})
    g = parse("f = x * 2\n", "t.txt")
    assert not scalar.eligible(g, {"x": np.ones(3)})
    assert scalar.eligible(g, {"x": np.array(1.0)})
    got, want = both(g, {"x": np.ones(3)})
    assert got.values[-1].shape == (3,)
    assert_agree(got, want)


def chain(n: int) -> str:
    """A file of n assignments, each using the previous two."""
    lines = ["v0 = x * 0.5", "v1 = y - 0.25"]
    fns = ["sin", "tanh", "cos"]
    for i in range(2, n):
        if i % 3:
            lines.append(f"v{i} = {fns[i % 3]}(v{i - 1} * v{i - 2} + 0.5)")
        else:
            lines.append(f"v{i} = v{i - 1} / 2 - v{i - 2}")
    return "\n".join(lines) + "\n"


def test_eval_of_a_large_file_runs_on_floats_and_matches_the_engine(tmp_path):
    path = write(tmp_path, chain(1500))
    graph = parse(chain(1500), path)
    assert len(graph) >= choose_mod.FLOAT_NODES
    result = agrad("eval", path, "--at", "x=0.3", "y=-1.2", "--format", "json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["outputs"]["v1499"]
    want = evaluate(graph, {"x": np.array(0.3), "y": np.array(-1.2)}).outputs[0]
    np.testing.assert_allclose(got["value"], want.value, rtol=1e-12)
    for w in ("x", "y"):
        np.testing.assert_allclose(got["gradient"][w], want.gradient[w], rtol=1e-10)
    got_ev, want_ev = both(graph, {"x": 0.3, "y": -1.2})
    assert type(got_ev.values[-1]) is float  # the float path ran
    assert_agree(got_ev, want_ev, rtol=1e-10)


def test_eval_of_a_large_file_names_a_non_finite_node(tmp_path):
    path = write(tmp_path, chain(1200) + "w = log(v1199 - v1199)\n")
    result = agrad("eval", path, "--at", "x=0.3", "y=-1.2")
    assert result.exit_code == 0
    assert ":1201:5: warning: " in result.stderr
    assert "is -inf; first produced here" in result.stderr


@pytest.mark.parametrize("name", sorted(_KERNEL_DOMAIN))
def test_kernels_give_numpys_bits_inside_their_domain_and_raise_outside(name):
    """Inside the guard NumPy gives a finite value without a warning; outside, Python raises."""
    lo, hi = _KERNEL_DOMAIN[name]
    ufunc = getattr(np, name)
    other = (0.5,) * (ufunc.nin - 1)  # the second argument of a binary kernel
    for x in (lo, hi, min(max(0.5, lo), hi)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            expected = float(ufunc(x, *other))
        if math.isfinite(expected):
            assert SCALAR[name](x, *other) == expected
    for x in (math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf), math.nan, -math.inf):
        with pytest.raises((ArithmeticError, ValueError)):
            SCALAR[name](x, *other)  # the NumPy rule decides there
