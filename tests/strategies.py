"""Hypothesis strategies shared by the test folders: random expressions of every registry op."""

from __future__ import annotations

from hypothesis import strategies as st

from autogradcli.ops import REGISTRY

# Every op but the matrix product, which needs array inputs (tested in test_ops and test_engine).
# Shape ops, and array ops that a scalar makes degenerate (the std of one number has no
# derivative, the trace of a number no meaning), are tested on arrays (tests/ops).
ARRAYS_ONLY = {"std", "var", "cumsum", "trace", "outer"}
UNARY = sorted(
    n for n, op in REGISTRY.items() if op.arity == 1 and op.symbol is None and op.kind != "shape"
    and n not in ARRAYS_ONLY
)  # fmt: skip
BINARY = sorted(
    n for n, op in REGISTRY.items() if op.arity == 2 and op.symbol is None and op.kind != "shape"
    and n not in ARRAYS_ONLY
)  # fmt: skip
INFIX = ["+", "-", "*", "/", "%", "^", ">", "<=", "!="]
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


def depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        best = max(best, depth)
    return best


RELATIONS = [">", ">=", "<", "<=", "!="]


def _piecewise(children):
    """Expressions that also branch: `where` on comparisons, and comparisons as numbers."""
    cond = st.tuples(children, st.sampled_from(RELATIONS), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    where = st.tuples(cond, children, children).map(lambda t: f"where({t[0]}, {t[1]}, {t[2]})")
    scaled = st.tuples(cond, children).map(lambda t: f"({t[0]} * {t[1]})")
    return st.one_of(_expr(children), where, scaled)


# Formulas of x and y with `where`, comparisons and every scalar op (the fuzzer's higher orders).
PIECEWISE = st.recursive(st.sampled_from(["x", "y", "2", "0.5", "3", "pi"]), _piecewise,
                         max_leaves=8)  # fmt: skip
