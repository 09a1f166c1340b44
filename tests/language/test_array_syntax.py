"""Indexing, slicing, `.T`, keyword arguments and expression lists: what each form builds,
its value against NumPy, its errors with positions, and the printer writing it back."""

from __future__ import annotations

import numpy as np
import pytest

from autogradcli.engines.interpreter import forward
from autogradcli.errors import AgradError
from autogradcli.graph.passes import eliminate_common, optimize
from autogradcli.language.array_syntax import function_for, numbers_only
from autogradcli.language.parser import parse
from autogradcli.language.printer import graph_text

W = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
X = np.array([3.0, 1.0, 4.0, 1.5, 9.0])
A, B = 2.0, -3.0
ENV = {"W": W, "x": X, "a": np.array(A), "b": np.array(B)}

# (formula, what NumPy computes)
FORMS = [
    ("x[0]", X[0]),
    ("x[-1]", X[-1]),
    ("x[1:3]", X[1:3]),
    ("x[::2]", X[::2]),
    ("x[:-2]", X[:-2]),
    ("x[4:0:-2]", X[4:0:-2]),
    ("W[:, 0]", W[:, 0]),
    ("W[1, 2]", W[1, 2]),
    ("W[0][1]", W[0][1]),
    ("W[-1, ::-1]", W[-1, ::-1]),
    ("W.T", W.T),
    ("W.T[0]", W.T[0]),
    ("(W * 2)[1]", (W * 2)[1]),
    ("-W[0, 0]^2", -(W[0, 0] ** 2)),
    ("sum(W, axis=1, keepdims=true)", np.sum(W, axis=1, keepdims=True)),
    ("sum(W, axis=(0, 1))", np.sum(W)),
    ("sum(W, axis=-1)", np.sum(W, axis=-1)),
    ("mean(W, axis=0)", np.mean(W, axis=0)),
    ("prod(W, axis=1)", np.prod(W, axis=1)),
    ("max(x)", np.max(X)),
    ("min(W, axis=0)", np.min(W, axis=0)),
    ("max(a, b)", max(A, B)),
    ("std(x)", np.std(X)),
    ("std(x, ddof=1)", np.std(X, ddof=1)),
    ("var(W, axis=1, ddof=1)", np.var(W, axis=1, ddof=1)),
    ("logsumexp(W, axis=0)", np.log(np.exp(W).sum(axis=0))),
    ("softmax(W)", np.exp(W) / np.exp(W).sum(axis=-1, keepdims=True)),
    ("log_softmax(W, axis=0)", W - np.log(np.exp(W).sum(axis=0, keepdims=True))),
    ("cumsum(x)", np.cumsum(X)),
    ("reshape(W, shape=(3, 2))", W.reshape(3, 2)),
    ("reshape(W, shape=6)", W.reshape(6)),
    ("transpose(W, axes=(1, 0))", W.T),
    ("stack(x, x, axis=1)", np.stack([X, X], axis=1)),
    ("concat(W, W, W, axis=1)", np.concatenate([W, W, W], axis=1)),
    ("flatten(W)", W.ravel()),
    ("expand_dims(x, axis=0)", X[None]),
    ("squeeze(expand_dims(x, axis=1))", X),
    ("outer(x, W[0])", np.outer(X, W[0])),
    ("diag(x, k=1)", np.diag(X, 1)),
    ("trace(outer(x, x))", np.trace(np.outer(X, X))),
    ("tril(outer(x, x), k=-1)", np.tril(np.outer(X, X), -1)),
    ("triu(outer(x, x))", np.triu(np.outer(X, X))),
    ("flip(x)", X[::-1]),
    ("repeat(x, repeats=2)", np.repeat(X, 2)),
    ("[a, 2*b]", np.array([A, 2 * B])),
    ("[[a, b], [b, a * b]]", np.array([[A, B], [B, A * B]])),
    ("[[1, 2], [a, b]]", np.array([[1, 2], [A, B]])),
    ("[a]", np.array([A])),
    ("sum([x[0], x[1]] * 2)", 2 * (X[0] + X[1])),
]


@pytest.mark.parametrize(("text", "want"), FORMS)
def test_form_value_and_round_trip(text, want):
    g = parse(f"f = {text}", "t.txt")
    vals = forward(g, ENV)
    np.testing.assert_allclose(vals[g.outputs[0][1]], want, rtol=1e-13)
    again = parse(graph_text(g), "t.txt")  # the printer writes attributes as syntax
    np.testing.assert_allclose(forward(again, ENV)[again.outputs[0][1]], want, rtol=1e-13)
    optimized, _ = optimize(g)  # the passes carry attributes (slices are hashed)
    np.testing.assert_allclose(forward(optimized, ENV)[optimized.outputs[0][1]], want)


def test_nodes_and_attributes():
    g = parse("f = sum(W[:, 0], axis=0, keepdims=true) + max(x) + W.T[1, 1]", "t.txt")
    made = [(op, g.attrs[i]) for i, op in enumerate(g.ops) if op not in ("input", "const")]
    assert made == [
        ("index", {"key": (slice(None), 0)}),
        ("sum", {"axis": 0, "keepdims": True}),
        ("amax", None),
        ("add", None),
        ("transpose", None),
        ("index", {"key": (1, 1)}),
        ("add", None),
    ]
    assert g.where(1) == "t.txt:1:9"  # an index spans from its operand to ']'


def test_common_subexpressions_with_slices():
    g = eliminate_common(parse("f = sum(x[1:3]) + sum(x[1:3]) + sum(x[1:4])", "t.txt"))
    assert g.ops.count("index") == 2


def test_keyword_order_does_not_matter_to_cse():
    g = eliminate_common(parse("f = sum(W, axis=1, keepdims=true) + sum(W, keepdims=true, axis=1)"))
    assert g.ops.count("sum") == 1


def test_helpers():
    assert function_for("max", 1) == "amax" and function_for("max", 2) == "max"
    toks = [("op", "[", 0, 1), ("num", "1", 1, 2), ("op", "]", 2, 3)]
    assert numbers_only(toks, 0)
    assert not numbers_only([("op", "[", 0, 1), ("name", "a", 1, 2), ("op", "]", 2, 3)], 0)


ERRORS = [
    ("f = x[i]", "an index must be a literal, found 'i'", 7, "indices are literal"),
    ("f = x[1.5]", "indices are integers", 7, None),
    ("f = x[]", "an empty index", 7, None),
    ("f = x[1,]", "an empty index", 9, None),
    ("f = x[1:2:3:4]", "a slice has at most two ':'", 12, None),
    ("f = x[1 2]", "unexpected '2' in the index", 9, None),
    ("f = x[1", "'[' is never closed", 6, None),
    ("f = x.y", "only .T (the transpose) may follow", 6, "transpose(x, axes=(1, 0))"),
    (
        "f = sum(x, axes=1)",
        "sum() has no keyword 'axes'; its keywords are axis, keepdims",
        12,
        "did you mean 'axis'?",
    ),
    ("f = sin(x, axis=1)", "sin() has no keyword 'axis'", 12, "sin() takes no keywords"),
    ("f = sum(x, axis=n)", "the value of axis= must be a literal, found 'n'", 17, "literals"),
    ("f = sum(x, axis=1+1)", "the value of axis= must be a literal, found '+' after it", 18, None),
    ("f = sum(x, axis=1.5)", "axis= takes an integer, a tuple of integers", 17, None),
    ("f = sum(x, keepdims=1)", "keepdims= takes true or false", 21, None),
    ("f = reshape(x, shape=(2, a))", "the value of shape= must be a literal, found 'a'", 26, None),
    ("f = sum(x, axis=0, axis=1)", "keyword 'axis' is given twice", 20, None),
    ("f = sum(axis=0, x)", "a positional argument follows a keyword argument", 17, None),
    ("f = sum(x, axis=)", "the value of axis= must be a literal, found ')'", 17, None),
    ("f = sin(x, y)", "sin() takes 1 argument, got 2", 5, None),
    ("f = reshape(x)", "reshape() needs the keyword shape=", 5, "reshape(x, shape=(2, 3))"),
    ("f = [a, b", "'[' is never closed", 5, None),
    ("f = [a, b)", "')' has no matching '('", 10, "it closes t.txt:1:5"),
    ("f = (a + b]", "']' has no matching '['", 11, "it closes t.txt:1:5"),
    ("f = [a, ]", "expected an expression after ','", 9, None),
]


@pytest.mark.parametrize(("text", "message", "col", "hint"), ERRORS)
def test_errors_point_at_the_token(text, message, col, hint):
    with pytest.raises(AgradError) as info:
        parse(text, "t.txt")
    err = info.value
    assert message in err.message
    assert err.span.where() == f"t.txt:1:{col}"
    if hint:
        assert hint in err.hint


@pytest.mark.parametrize(
    ("text", "env", "message", "col"),
    [
        ("f = x[7]", {"x": X}, "the index [7] does not fit an array of shape (5,)", 5),
        ("f = W[0, 0, 0]", {"W": W}, "does not fit an array of shape (2, 3)", 5),
        ("f = sum(W, axis=2)", {"W": W}, "axis 2 is out of range for an array of shape (2, 3)", 5),
        ("f = 1 + concat(W, x)", {"W": W, "x": X}, "the shapes (2, 3), (5,) do not fit", 9),
        ("f = [W, x]", {"W": W, "x": X}, "stack along axis 0: the shapes (2, 3), (5,)", 5),
        ("f = reshape(x, shape=(2, 2))", {"x": X}, "cannot reshape an array of shape (5,)", 5),
    ],
)
def test_shape_errors_at_evaluation_name_shapes_and_position(text, env, message, col):
    g = parse(text, "t.txt")
    with pytest.raises(AgradError) as info:
        forward(g, env)
    assert message in info.value.message
    assert info.value.span.where() == f"t.txt:1:{col}"
    assert "^" in info.value.render()
