"""Reductions over all elements or along axes, and the inner product over the last axis.

`sum`, `mean` and `prod` take NumPy's `axis` (None, an int or a tuple of ints; `prod` one
axis at most) and `keepdims` attributes: `sum(x, axis=1, keepdims=true)`. Their VJPs are
written in registry ops (`call`), so their derivatives are graphs too. SymPy counterparts
receive NumPy object arrays of SymPy expressions.
"""

from __future__ import annotations

import numpy as np

from . import Kind, Op, R, call, register
from .attrs import ShapeError, axes_of, empty_check, kept_shape

AXIS_KEYWORDS = ("axis", "keepdims")


def kept(g, x, axis, keepdims, what: str = "reduction"):
    """A reduction's result (or its adjoint) with the reduced axes kept as length 1."""
    shape = np.shape(x)
    want = kept_shape(shape, axes_of(axis, len(shape), what, shape))
    return g if keepdims or np.shape(g) == want else call("reshape", g, shape=want)


def unreduce(g, x, axis, keepdims):
    """A reduction's adjoint spread back over the elements it summed (registry ops)."""
    g = kept(g, x, axis, keepdims)
    shape = np.shape(x)
    return g if np.shape(g) == shape else call("broadcast_to", g, shape=shape)


def _sum(x, axis=None, keepdims=False):
    axes_of(axis, np.ndim(x), "sum", np.shape(x))
    return np.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g, out, x, axis=None, keepdims=False):
    return (unreduce(g, x, axis, keepdims),)


def _mean(x, axis=None, keepdims=False):
    axes_of(axis, np.ndim(x), "mean", np.shape(x))
    empty_check(x, "mean")
    return np.mean(x, axis=axis, keepdims=keepdims)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    count = np.size(x) / max(np.size(out), 1)
    return (call("div", unreduce(g, x, axis, keepdims), float(count)),)


def _prod_axis(x, axis) -> int | None:
    if isinstance(axis, tuple | list):
        if len(axis) > 1:
            raise ShapeError(f"prod takes one axis or none, got axis={tuple(axis)}")
        axis = axis[0] if axis else None
    if axis is None:
        return None
    return axes_of(axis, np.ndim(x), "prod", np.shape(x))[0]


def _prod(x, axis=None, keepdims=False):
    return np.prod(x, axis=_prod_axis(x, axis), keepdims=keepdims)


def _prod_vjp(g, out, x, axis=None, keepdims=False):
    """The product of the other elements, in registry ops (so it has a derivative graph).

    Without zeros it is prod/x; with one zero, the product of the nonzero elements at the
    zero and the zero itself times prod/x elsewhere (0, with the right derivative); with two,
    the other zero times that product at each zero; with more, 0. Exact to second order at
    zeros, as PyTorch's prod backward is.
    """
    k = _prod_axis(x, axis)
    attrs = {} if k is None else {"axis": k, "keepdims": True}
    zero = x == 0.0
    safe = np.where(zero, 1.0, x)
    p = call("prod", safe, **attrs)
    count = call("sum", np.where(zero, 1.0, 0.0), **attrs)
    zeros = call("sum", np.where(zero, x, 0.0), **attrs)  # the zero elements: 0 in value
    one = np.where(zero, p, zeros * p / safe)
    two = np.where(zero, (zeros - x) * p, 0.0)
    many = np.where(count == 1, one, np.where(count == 2, two, 0.0))
    others = np.where(count == 0, p / safe, many)
    return (call("mul", unreduce(g, x, k, keepdims), others),)


def _prod_sympy(sp, x, axis=None, keepdims=False):
    if axis is None and not keepdims:
        return sp.Mul(*_elements(x))
    return np.prod(np.asarray(x, dtype=object), axis=_prod_axis(x, axis), keepdims=keepdims)


def _dot(x, y):
    p = x * y
    return np.sum(p, axis=-1) if np.ndim(p) else p


def _dot_vjp(g, out, x, y):
    if np.ndim(x) or np.ndim(y):
        g = np.expand_dims(g, -1)
    return g * y, g * x


def _norm(x):
    """sqrt(sum(x^2)) without overflow or underflow in the squares (as hypot avoids them).

    The elements are scaled by a power of two near the largest magnitude, which is exact, so
    the result is bit for bit sqrt(sum(x^2)) wherever that does not overflow or underflow.
    """
    big = np.max(np.abs(x), initial=0.0)
    if big == 0 or not np.isfinite(big):
        return np.sqrt(np.sum(x * x))
    e = int(np.frexp(big)[1])  # 2^e itself overflows when big >= 2^1023: scale by ldexp
    y = np.ldexp(x, -e)
    return np.ldexp(np.sqrt(np.sum(y * y)), e)


def _norm_vjp(g, out, x):
    return (g * np.where(out == 0, 0.0, x / out),)


def _norm_near_zero(tol, x):
    return np.sqrt(np.sum(np.square(x), axis=tuple(range(1, np.ndim(x))) or None)) <= tol


def _elements(x) -> list:
    return list(np.ravel(x)) if isinstance(x, np.ndarray) else [x]


def _sum_sympy(sp, x, axis=None, keepdims=False):
    if axis is None and not keepdims:
        return sp.Add(*_elements(x))
    return np.sum(np.asarray(x, dtype=object), axis=axis, keepdims=keepdims)


def _mean_sympy(sp, x, axis=None, keepdims=False):
    total = _sum_sympy(sp, x, axis, keepdims)
    return total / (np.size(x) // max(np.size(total), 1))


def _dot_sympy(sp, x, y):
    p = x * y
    return np.sum(p, axis=-1) if np.ndim(p) else p


V3 = ((3,),)
# fmt: off
M23 = ((2, 3),)
register(Op("sum", 1, _sum, _sum_vjp, _sum_sympy, "1 for each element", (R,),
            "sum of all elements, or along axis", kind=Kind.REDUCTION, shapes=M23,
            example_attrs={"axis": 1, "keepdims": True}, keywords=AXIS_KEYWORDS,
            saves_nothing=True))
register(Op("mean", 1, _mean, _mean_vjp, _mean_sympy, "1/n for each element", (R,),
            "mean of all elements, or along axis", kind=Kind.REDUCTION, shapes=M23,
            example_attrs={"axis": 0}, keywords=AXIS_KEYWORDS, saves_nothing=True))
register(Op("prod", 1, _prod, _prod_vjp, _prod_sympy,
            "product of the other elements", (R,), "product of all elements, or along axis",
            kind=Kind.REDUCTION, shapes=M23, example_attrs={"axis": 1},
            keywords=AXIS_KEYWORDS))
register(Op("dot", 2, _dot, _dot_vjp, _dot_sympy, "y, x", (R, R),
            "inner product over the last axis", kind=Kind.REDUCTION, shapes=((3,), (3,))))
register(Op("norm", 1, _norm, _norm_vjp,
            lambda sp, x: sp.sqrt(sp.Add(*[v**2 for v in _elements(x)])), "x/norm(x)", (R,),
            "Euclidean norm of all elements", kink="norm'(0) = 0", kind=Kind.REDUCTION,
            torch_name="LinalgVectorNormBackward0",
            near_kink=_norm_near_zero,
            shapes=V3, conventions=(((0.0,), 0.0, (0.0,)),)))
# fmt: on
