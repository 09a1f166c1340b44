"""Reductions and normalisations along axes: amax, amin, std, var, logsumexp, softmax,
log_softmax and cumsum, each with NumPy's keywords (`axis`, `keepdims`, `ddof`).

`max(x)` and `min(x)` with one argument are `amax`/`amin` (two arguments stay elementwise);
at a tie the gradient is split evenly among the tied elements, as `torch.amax` does.
`softmax` and `log_softmax` work along the last axis unless `axis` says otherwise (as
PyTorch's functions do). Every VJP is written in registry ops.
"""

from __future__ import annotations

import numpy as np

from . import Kind, Op, R, call, register
from .attrs import ShapeError, axes_of, empty_check, kept_shape, one_axis
from .reductions import AXIS_KEYWORDS, kept

M23 = ((2, 3),)


def _extreme_check(x, axis, name: str) -> None:
    axes_of(axis, np.ndim(x), name, np.shape(x))
    if np.size(x) == 0:
        raise ShapeError(f"{name} of an empty array (shape {np.shape(x)})")


def _amax(x, axis=None, keepdims=False):
    _extreme_check(x, axis, "amax")
    return np.max(x, axis=axis, keepdims=keepdims)


def _amin(x, axis=None, keepdims=False):
    _extreme_check(x, axis, "amin")
    return np.min(x, axis=axis, keepdims=keepdims)


def _extreme_vjp(g, out, x, axis=None, keepdims=False):
    """The gradient goes to the elements equal to the result, split evenly at a tie."""
    hit = call("eq", x, kept(out, x, axis, keepdims))
    count = call("sum", hit, axis=axis, keepdims=True)
    return (call("mul", hit, call("div", kept(g, x, axis, keepdims), count)),)


def _extreme_sympy(pick):
    def sympy(sp, x, axis=None, keepdims=False):
        arr = np.asarray(x, dtype=object)
        axes = axes_of(axis, arr.ndim, "amax", arr.shape)
        last = tuple(range(arr.ndim - len(axes), arr.ndim))
        moved = np.moveaxis(arr, axes, last).reshape((*np.delete(arr.shape, axes), -1))
        out = np.empty(moved.shape[:-1], dtype=object)
        for idx in np.ndindex(out.shape):
            out[idx] = pick(sp)(*moved[idx])
        return out.reshape(kept_shape(arr.shape, axes)) if keepdims else out

    return sympy


def _count(x, axis) -> int:
    shape = np.shape(x)
    return int(np.prod([shape[k] for k in axes_of(axis, len(shape), "var", shape)], dtype=int))


def _var(x, axis=None, keepdims=False, ddof=0):
    n = _count(x, axis)
    if n - ddof <= 0:
        raise ShapeError(
            f"var/std with ddof={ddof} over {n} element(s) of shape {np.shape(x)}: "
            "no degrees of freedom left"
        )
    return np.var(x, axis=axis, keepdims=keepdims, ddof=ddof)


def _centred(x, axis, ddof):
    """(x - mean) / (n - ddof): the part of var's derivative shared with std's."""
    d = call("sub", x, call("mean", x, axis=axis, keepdims=True))
    return call("div", d, float(_count(x, axis) - ddof))


def _var_vjp(g, out, x, axis=None, keepdims=False, ddof=0):
    return (call("mul", call("mul", kept(g, x, axis, keepdims), 2.0), _centred(x, axis, ddof)),)


def _std(x, axis=None, keepdims=False, ddof=0):
    return np.sqrt(_var(x, axis, keepdims, ddof))


def _std_vjp(g, out, x, axis=None, keepdims=False, ddof=0):
    scale = call("div", kept(g, x, axis, keepdims), kept(out, x, axis, keepdims))
    return (call("mul", scale, _centred(x, axis, ddof)),)


def _var_sympy(sp, x, axis=None, keepdims=False, ddof=0):
    arr = np.asarray(x, dtype=object)
    mean = np.sum(arr, axis=axis, keepdims=True) / _count(arr, axis)
    total = np.sum((arr - mean) ** 2, axis=axis, keepdims=keepdims)
    return total / (_count(arr, axis) - ddof)


def _std_sympy(sp, x, axis=None, keepdims=False, ddof=0):
    v = _var_sympy(sp, x, axis, keepdims, ddof)
    return np.vectorize(sp.sqrt, otypes=[object])(v) if isinstance(v, np.ndarray) else sp.sqrt(v)


def _logsumexp(x, axis=None, keepdims=False):
    axes = axes_of(axis, np.ndim(x), "logsumexp", np.shape(x))
    empty_check(x, "logsumexp")
    top = np.max(x, axis=axes, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.sum(np.exp(x - top), axis=axes, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axes)


def _logsumexp_vjp(g, out, x, axis=None, keepdims=False):
    share = call("exp", call("sub", x, kept(out, x, axis, keepdims)))
    return (call("mul", kept(g, x, axis, keepdims), share),)


def _exp_all(sp, arr):
    return np.vectorize(sp.exp, otypes=[object])(np.asarray(arr, dtype=object))


def _logsumexp_sympy(sp, x, axis=None, keepdims=False):
    total = np.sum(_exp_all(sp, x), axis=axis, keepdims=keepdims)
    if isinstance(total, np.ndarray):
        return np.vectorize(sp.log, otypes=[object])(total)
    return sp.log(total)


def _last(x, axis):
    """softmax's axes: the given one, the last by default, none for a scalar."""
    return axes_of(axis, np.ndim(x), "softmax", np.shape(x)) if np.ndim(x) else ()


def _softmax(x, axis=-1):
    axes = _last(x, axis)
    e = np.exp(x - np.max(x, axis=axes, keepdims=True))
    return e / np.sum(e, axis=axes, keepdims=True)


def _softmax_vjp(g, out, x, axis=-1):
    axes = _last(x, axis)
    inner = call("sum", call("mul", g, out), axis=axes, keepdims=True)
    return (call("mul", out, call("sub", g, inner)),)


def _softmax_sympy(sp, x, axis=-1):
    e = _exp_all(sp, x)
    return e / np.sum(e, axis=_last(x, axis), keepdims=True)


def _log_softmax(x, axis=-1):
    axes = _last(x, axis)
    return x - _logsumexp(x, axes, keepdims=True)


def _log_softmax_vjp(g, out, x, axis=-1):
    axes = _last(x, axis)
    total = call("sum", g, axis=axes, keepdims=True)
    return (call("sub", g, call("mul", call("exp", out), total)),)


def _log_softmax_sympy(sp, x, axis=-1):
    arr = np.asarray(x, dtype=object)
    return arr - _logsumexp_sympy(sp, arr, _last(arr, axis), keepdims=True)


def _cumsum(x, axis=None):
    one_axis(axis, "cumsum")
    if axis is not None:
        axes_of(axis, np.ndim(x), "cumsum", np.shape(x))
    return np.cumsum(x, axis=axis)


def _cumsum_vjp(g, out, x, axis=None):
    back = call("flip", call("cumsum", call("flip", g, axis=axis), axis=axis), axis=axis)
    return (back if axis is not None else call("reshape", back, shape=np.shape(x)),)


def _cumsum_sympy(sp, x, axis=None):
    return np.cumsum(np.asarray(x, dtype=object), axis=axis)


def _near_tie(tol, x):
    """Two elements within tol of the largest (or smallest) one: where amax has a kink."""
    flat = np.reshape(x, (np.shape(x)[0], -1)) if np.ndim(x) > 1 else np.atleast_2d(x)
    s = np.sort(flat, axis=-1)
    if s.shape[-1] < 2:
        return np.zeros(s.shape[0], dtype=bool)
    return (np.abs(s[:, -1] - s[:, -2]) <= tol) | (np.abs(s[:, 1] - s[:, 0]) <= tol)


SOFT = ("axis",)
# fmt: off
register(Op("amax", 1, _amax, _extreme_vjp,
            _extreme_sympy(lambda sp: sp.Max), "1 at the largest element (split at a tie)",
            (R,), "largest element, or along axis: max(x) with one argument",
            kind=Kind.REDUCTION, shapes=M23, example_attrs={"axis": 1},
            keywords=AXIS_KEYWORDS, kink="a tie splits the gradient evenly (as torch.amax)",
            near_kink=_near_tie, torch_name="AmaxBackward0"))
register(Op("amin", 1, _amin, _extreme_vjp,
            _extreme_sympy(lambda sp: sp.Min), "1 at the smallest element (split at a tie)",
            (R,), "smallest element, or along axis: min(x) with one argument",
            kind=Kind.REDUCTION, shapes=M23, example_attrs={"axis": 0, "keepdims": True},
            keywords=AXIS_KEYWORDS, kink="a tie splits the gradient evenly (as torch.amin)",
            near_kink=_near_tie, torch_name="AminBackward0"))
register(Op("var", 1, _var, _var_vjp, _var_sympy, "2 (x - mean) / (n - ddof)", (R,),
            "variance (ddof=0 as NumPy; ddof=1 for the sample variance)",
            kind=Kind.REDUCTION, shapes=M23, example_attrs={"axis": 1, "ddof": 1},
            keywords=(*AXIS_KEYWORDS, "ddof"), torch_name="VarBackward0"))
register(Op("std", 1, _std, _std_vjp, _std_sympy, "(x - mean) / ((n - ddof) std)", (R,),
            "standard deviation (ddof=0 as NumPy; ddof=1 for the sample one)",
            kind=Kind.REDUCTION, shapes=M23, example_attrs={"axis": 0},
            keywords=(*AXIS_KEYWORDS, "ddof"), kink="std'(x) is nan where all are equal",
            torch_name="StdBackward0"))
register(Op("logsumexp", 1, _logsumexp, _logsumexp_vjp, _logsumexp_sympy,
            "softmax(x)", (R,), "log(sum(exp(x))) without overflow, or along axis",
            kind=Kind.REDUCTION, shapes=M23, example_attrs={"axis": 1},
            keywords=AXIS_KEYWORDS, torch_name="LogsumexpBackward0"))
register(Op("softmax", 1, _softmax, _softmax_vjp, _softmax_sympy, "s * (g - sum(g s))", (R,),
            "exp(x) / sum(exp(x)) along axis (the last by default)", kind=Kind.REDUCTION,
            shapes=M23, example_attrs={"axis": 0}, keywords=SOFT))
register(Op("log_softmax", 1, _log_softmax, _log_softmax_vjp, _log_softmax_sympy,
            "g - softmax(x) sum(g)", (R,), "x - logsumexp(x) along axis (the last by default)",
            kind=Kind.REDUCTION, shapes=M23, keywords=SOFT,
            torch_name="LogSoftmaxBackward0"))
register(Op("cumsum", 1, _cumsum, _cumsum_vjp, _cumsum_sympy, "reversed cumulative sum", (R,),
            "running sum along axis (of all elements, flattened, by default)",
            kind=Kind.REDUCTION, shapes=M23, example_attrs={"axis": 1}, keywords=SOFT,
            saves_nothing=True))
# fmt: on
