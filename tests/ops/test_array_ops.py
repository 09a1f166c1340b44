"""The array ops beyond their registry examples: forward against NumPy (and SciPy's/torch's
definitions), first and second derivatives against finite differences and SymPy for many
attribute combinations, variadic inputs, and the errors that name shapes."""

from __future__ import annotations

import numpy as np
import pytest

from autogradcli.ops import FORWARD, REGISTRY, call
from autogradcli.ops.attrs import ShapeError, attrs_text, freeze, jsonable, key_text
from autogradcli.ops.axes import _near_tie
from autogradcli.ops.layout import _diagonal_key
from autogradcli.verify.op_rules import check_rule
from autogradcli.verify.second_rules import check_second

X = np.arange(1.0, 7.0).reshape(2, 3) * np.array([1.0, -0.5, 0.25])
SQ = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0], [2.0, 1.5, -0.75]])

# (op, inputs, attrs, what NumPy computes)
FORWARDS = [
    ("sum", [X], {"axis": 1, "keepdims": True}, np.sum(X, axis=1, keepdims=True)),
    ("sum", [X], {"axis": (0, 1)}, np.sum(X)),
    ("mean", [X], {"axis": -1}, np.mean(X, axis=-1)),
    ("prod", [X], {"axis": 0}, np.prod(X, axis=0)),
    ("prod", [X], {}, np.prod(X)),
    ("amax", [X], {"axis": 1}, np.max(X, axis=1)),
    ("amin", [X], {"axis": 0, "keepdims": True}, np.min(X, axis=0, keepdims=True)),
    ("var", [X], {"axis": 1, "ddof": 1}, np.var(X, axis=1, ddof=1)),
    ("std", [X], {}, np.std(X)),
    ("logsumexp", [X], {"axis": 0}, np.log(np.sum(np.exp(X), axis=0))),
    ("logsumexp", [np.array([1000.0, 1000.0])], {}, 1000.0 + np.log(2.0)),
    ("softmax", [X], {}, np.exp(X) / np.exp(X).sum(axis=-1, keepdims=True)),
    ("softmax", [X], {"axis": 0}, np.exp(X) / np.exp(X).sum(axis=0, keepdims=True)),
    ("log_softmax", [X], {}, X - np.log(np.exp(X).sum(axis=-1, keepdims=True))),
    ("cumsum", [X], {}, np.cumsum(X)),
    ("cumsum", [X], {"axis": 0}, np.cumsum(X, axis=0)),
    ("reshape", [X], {"shape": (3, -1)}, X.reshape(3, 2)),
    ("transpose", [X], {}, X.T),
    ("flatten", [X], {}, X.ravel()),
    ("expand_dims", [X], {"axis": -1}, X[..., None]),
    ("squeeze", [X[:, None]], {}, X),
    ("stack", [X, 2 * X, 3 * X], {"axis": -1}, np.stack([X, 2 * X, 3 * X], axis=-1)),
    ("concat", [X, X[:, :1]], {"axis": 1}, np.concatenate([X, X[:, :1]], axis=1)),
    ("outer", [X[0], X[1]], {}, np.outer(X[0], X[1])),
    ("diag", [X], {"k": 1}, np.diag(X, 1)),
    ("diag", [X[0]], {"k": -1}, np.diag(X[0], -1)),
    ("trace", [SQ], {"offset": 1}, np.trace(SQ, 1)),
    ("tril", [SQ], {}, np.tril(SQ)),
    ("triu", [SQ], {"k": 1}, np.triu(SQ, 1)),
    ("flip", [X], {}, X[::-1, ::-1]),
    ("repeat", [X], {"repeats": 2}, np.repeat(X, 2)),
    ("index", [X], {"key": (slice(None), -1)}, X[:, -1]),
]


@pytest.mark.parametrize(("name", "xs", "attrs", "want"), FORWARDS)
def test_forward_matches_numpy(name, xs, attrs, want):
    np.testing.assert_allclose(FORWARD[name](*xs, **attrs), want, rtol=1e-13)


# (op, input shapes, attrs): first and second derivatives beyond the registry's example
RULES = [
    ("sum", [(2, 3)], {"axis": (0, 1), "keepdims": True}),
    ("mean", [(2, 3, 2)], {"axis": (0, 2)}),
    ("prod", [(4,)], {}),
    ("prod", [(2, 3)], {"axis": 0, "keepdims": True}),
    ("prod", [()], {}),
    ("amax", [(3,)], {}),
    ("amin", [(2, 3)], {"axis": 1}),
    ("var", [(2, 3)], {}),
    ("std", [(2, 3)], {"axis": 1, "keepdims": True, "ddof": 1}),
    ("logsumexp", [(2, 3)], {}),
    ("softmax", [(2, 3)], {}),
    ("softmax", [()], {}),
    ("log_softmax", [(2, 3)], {"axis": 0}),
    ("cumsum", [(2, 3)], {}),
    ("transpose", [(2, 3)], {}),
    ("stack", [(2,), (2,), (2,)], {"axis": 0}),
    ("stack", [(), ()], {}),
    ("concat", [(1, 3), (2, 3), (1, 3)], {"axis": 0}),
    ("diag", [(3,)], {"k": 1}),
    ("diag", [(3, 3)], {"k": -1}),
    ("repeat", [(2, 3)], {"repeats": 3}),
    ("repeat", [(2, 3)], {"repeats": 2, "axis": 1}),
    ("flip", [(2, 3)], {"axis": (0, 1)}),
    ("index", [(3, 4)], {"key": (slice(None, None, 2), -1)}),
    ("index", [(4,)], {"key": (slice(3, 0, -2),)}),
]


@pytest.mark.parametrize(("name", "shapes", "attrs"), RULES)
def test_first_and_second_derivatives(name, shapes, attrs):
    rng = np.random.default_rng(len(shapes) + len(attrs))
    xs = [rng.uniform(-2.0, 2.0, size=(12, *s)) for s in shapes]
    op = REGISTRY[name]
    first = check_rule(op, xs, attrs=attrs, timeout=60.0)
    assert first.passed, first.worst
    assert first.sympy_error is not None  # SymPy answered, so it was compared
    second = check_second(op, [x[:4] for x in xs], attrs=attrs, timeout=60.0)
    assert second.passed and second.points > 0, second.worst


def test_variadic_vjp_gives_one_entry_per_input():
    xs = [np.ones(2), 2 * np.ones(2), 3 * np.ones(2), 4 * np.ones(2)]
    out = FORWARD["stack"](*xs, axis=1)
    grads = REGISTRY["stack"].vjp(np.arange(8.0).reshape(2, 4), out, *xs, axis=1)
    assert len(grads) == 4
    np.testing.assert_array_equal(grads[2], [2.0, 6.0])


def test_amax_tie_splits_evenly_and_prod_with_zeros_is_exact():
    x = np.array([[2.0, 5.0, 5.0], [1.0, 0.0, 1.0]])
    (g,) = REGISTRY["amax"].vjp(np.ones(2), np.max(x, axis=1), x, axis=1)
    np.testing.assert_array_equal(g, [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    z = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0]])
    (g,) = REGISTRY["prod"].vjp(np.ones(2), np.prod(z, axis=1), z, axis=1)
    np.testing.assert_array_equal(g, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    assert _near_tie(1e-4, np.array([[1.0, 3.0, 3.0]])).all()


@pytest.mark.parametrize(
    ("name", "xs", "attrs", "message"),
    [
        ("sum", [X], {"axis": 2}, "axis 2 is out of range for an array of shape (2, 3)"),
        ("mean", [np.array(1.0)], {"axis": 0}, "out of range for a scalar"),
        ("sum", [X], {"axis": (1, -1)}, "repeats an axis"),
        ("index", [X], {"key": (5,)}, "does not fit an array of shape (2, 3)"),
        ("reshape", [X], {"shape": (4,)}, "cannot reshape an array of shape (2, 3)"),
        ("concat", [X, X[0]], {"axis": 0}, "the shapes (2, 3), (3,) do not fit"),
        ("stack", [X, X[0]], {}, "the shapes (2, 3), (3,) do not fit"),
        ("var", [X], {"axis": 0, "ddof": 2}, "no degrees of freedom"),
        ("trace", [X[0]], {}, "trace takes a matrix, got shape (3,)"),
        ("squeeze", [X], {"axis": 0}, "has length != 1"),
        ("transpose", [X], {"axes": (0, 0)}, "not a permutation"),
        ("repeat", [X], {"repeats": -1}, "at least 0"),
        ("prod", [X], {"axis": (0, 1)}, "prod takes one axis"),
        ("diag", [np.ones((2, 2, 2))], {}, "a vector or a matrix"),
        ("repeat", [X], {"repeats": 1, "axis": ()}, "repeat takes one axis"),
        ("transpose", [X], {"axes": -3}, "axes= takes a tuple"),
        ("expand_dims", [X], {"axis": None}, "expand_dims needs an axis"),
        ("mean", [X[:, 3:]], {}, "mean of an empty array"),
        ("stack", [X, X], {"axis": None}, "stack takes one axis"),
        ("cumsum", [X], {"axis": (0, 1)}, "cumsum takes one axis"),
    ],
)
def test_shape_errors_name_the_shapes(name, xs, attrs, message):
    with pytest.raises(ShapeError, match=None) as info:
        FORWARD[name](*xs, **attrs)
    assert message in str(info.value)


def test_attribute_helpers():
    key = (slice(None), 0, slice(1, None, 2), slice(None, -1))
    assert key_text(key) == ":, 0, 1::2, :-1"
    assert attrs_text({"axis": (0, 1), "keepdims": True, "ddof": 1}) == (
        "axis=(0, 1), keepdims=true, ddof=1"
    )
    assert attrs_text({"axis": None, "shape": (3,)}) == "axis=none, shape=(3,)"
    hash(freeze({"key": key}))
    hash(freeze({"key": (np.array([0, 2]),)}))
    assert freeze({"key": (slice(1, 2),)}) != freeze({"key": (slice(1, 3),)})
    assert jsonable((1, 2)) == [1, 2] and jsonable(key) == "[:, 0, 1::2, :-1]"
    assert _diagonal_key((2, 3), 1) == ((0, 1), (1, 2))


def test_call_runs_ops_on_arrays():
    np.testing.assert_array_equal(call("flip", np.arange(3.0), axis=0), [2.0, 1.0, 0.0])
