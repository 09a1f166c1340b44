"""Random expressions from the grammar: engine, SymPy and finite differences agree."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autogradcli.check import Tolerances, check_point, kinks_at
from autogradcli.evaluate import evaluate
from autogradcli.ops import REGISTRY
from autogradcli.parser import parse

# Every op but the matrix product, which needs array inputs (tested in test_ops and test_engine).
# Shape ops belong to the Tensor API, not the language.
UNARY = sorted(
    n for n, op in REGISTRY.items() if op.arity == 1 and op.symbol is None and op.kind != "shape"
)
BINARY = sorted(
    n for n, op in REGISTRY.items() if op.arity == 2 and op.symbol is None and op.kind != "shape"
)
INFIX = ["+", "-", "*", "/", "^"]
LEAVES = st.sampled_from(["x", "y", "z", "2", "0.5", "3", "pi", "e"])


def _expr(children):
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})")
    binary = st.tuples(st.sampled_from(BINARY), children, children).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})"
    )
    infix = st.tuples(children, st.sampled_from(INFIX), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    neg = children.map(lambda c: f"-{c}")
    return st.one_of(unary, binary, infix, neg)


EXPRESSIONS = st.recursive(LEAVES, _expr, max_leaves=12)


def _depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        best = max(best, depth)
    return best


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(EXPRESSIONS, st.floats(-2, 2), st.floats(-2, 2), st.floats(0.1, 2))
def test_engine_sympy_and_finite_differences_agree(text, x, y, z):
    assume(_depth(text) <= 6)
    graph = parse(f"f = {text} + 0*x + 0*y + 0*z\n", "t.txt")
    ev = evaluate(graph, {"x": np.array(x), "y": np.array(y), "z": np.array(z)})
    assume(ev.finite)
    assume(not kinks_at(graph, ev.values))
    values = [ev.outputs[0].value, *ev.outputs[0].gradient.values()]
    assume(all(abs(float(v)) < 1e6 for v in values))
    results = check_point(ev, Tolerances(fd_rtol=1e-4, fd_atol=1e-5), timeout=5.0)
    for r in results:
        assume(not r.status.startswith("skipped"))
        assert r.status == "pass", (text, x, y, z, r.wrt, r.values, r.detail)
