"""Indexing (a scatter-add VJP), reshape and transpose, and the two ops broadcasting needs.

`index` is written `x[0]`, `x[1:3]`, `W[:, 0]` in a formula file (attribute `key`: an int, a
slice or a tuple of them; the Tensor API may pass int arrays too); `reshape(x, shape=(2, 3))`
and `transpose(x, axes=(1, 0))` (or `x.T`) are calls. `broadcast_to`, `sum_to` and `scatter`
appear in derivative graphs only. `example_attrs` gives the attributes their rule checks use.
"""

from __future__ import annotations

import numpy as np

from . import Kind, Op, R, call, register
from .attrs import ShapeError, key_text
from .numeric import unbroadcast


def _index(x, key):
    try:
        return np.asarray(x)[key]
    except IndexError as exc:
        raise ShapeError(
            f"the index [{key_text(key)}] does not fit an array of shape {np.shape(x)} ({exc})"
        ) from None


def _index_vjp(g, out, x, key):
    return (call("scatter", g, key=key, shape=np.shape(x)),)


def _scatter(g, key, shape):
    grad = np.zeros(shape)
    np.add.at(grad, key, g)  # scatter-add: repeated indices accumulate
    return grad


def _scatter_vjp(gg, out, g, key, shape):
    return (call("index", gg, key=key),)


def _scatter_sympy(sp, g, key, shape):
    grad = np.full(shape, sp.Integer(0), dtype=object)
    np.add.at(grad, key, np.asarray(g, dtype=object))
    return grad


def _index_sympy(sp, x, key):
    return np.asarray(x, dtype=object)[key]


def _reshape(x, shape):
    try:
        return np.reshape(x, shape)
    except ValueError:
        raise ShapeError(
            f"cannot reshape an array of shape {np.shape(x)} ({np.size(x)} elements) "
            f"to shape {tuple(np.atleast_1d(shape).tolist())}"
        ) from None


def _reshape_vjp(g, out, x, shape):
    return (call("reshape", g, shape=np.shape(x)),)


def _reshape_sympy(sp, x, shape):
    return np.reshape(np.asarray(x, dtype=object), shape)


def _transpose(x, axes=None):
    if axes is not None and not isinstance(axes, tuple | list):
        raise ShapeError(f"transpose: axes= takes a tuple such as (1, 0), got {axes}")
    if axes is not None and sorted(int(a) % max(np.ndim(x), 1) for a in axes) != list(
        range(np.ndim(x))
    ):
        raise ShapeError(
            f"transpose: axes {tuple(axes)} are not a permutation of the {np.ndim(x)} axes "
            f"of shape {np.shape(x)}"
        )
    return np.transpose(x, axes)


def _transpose_vjp(g, out, x, axes=None):
    if axes is None:
        return (call("transpose", g),)
    back = tuple(int(k) for k in np.argsort([int(a) % np.ndim(x) for a in axes]))
    return (call("transpose", g, axes=back),)


def _transpose_sympy(sp, x, axes=None):
    return np.transpose(np.asarray(x, dtype=object), axes)


def _broadcast_to(x, shape):
    return np.broadcast_to(x, shape)


def _broadcast_to_vjp(g, out, x, shape):
    return (call("sum_to", g, shape=np.shape(x)),)


def _broadcast_to_sympy(sp, x, shape):
    return np.broadcast_to(np.asarray(x, dtype=object), shape)


def _sum_to(x, shape):
    return unbroadcast(x, shape)


def _sum_to_vjp(g, out, x, shape):
    return (call("broadcast_to", g, shape=np.shape(x)),)


def _sum_to_sympy(sp, x, shape):
    return unbroadcast(np.asarray(x, dtype=object), shape)


# fmt: off
register(Op("broadcast_to", 1, _broadcast_to, _broadcast_to_vjp, _broadcast_to_sympy,
            "summed back", (R,), "x repeated to a larger shape (in derivative graphs)",
            kind=Kind.SHAPE, internal=True, shapes=((3,),), example_attrs={"shape": (2, 3)},
            torch_name="ExpandBackward0", saves_nothing=True))
register(Op("sum_to", 1, _sum_to, _sum_to_vjp, _sum_to_sympy, "repeated back", (R,),
            "x summed down to a smaller shape: broadcasting undone (in derivative graphs)",
            kind=Kind.SHAPE, internal=True, shapes=((2, 3),), example_attrs={"shape": (3,)},
            torch_name="SumBackward1", saves_nothing=True))
register(Op("index", 1, _index, _index_vjp, _index_sympy, "1 at the chosen elements", (R,),
            "x[key]: elements chosen by a basic or advanced index", kind=Kind.SHAPE,
            internal=True,
            shapes=((3, 4),), example_attrs={"key": (np.array([0, 2, 0]), slice(1, 3))},
            saves_nothing=True))
register(Op("scatter", 1, _scatter, _scatter_vjp, _scatter_sympy, "picked back", (R,),
            "g added into zeros of a shape at an index (the derivative of indexing)",
            kind=Kind.SHAPE, internal=True, shapes=((3,),),
            example_attrs={"key": np.array([0, 2, 0]), "shape": (4,)},
            torch_name="IndexPutBackward0", saves_nothing=True))
register(Op("reshape", 1, _reshape, _reshape_vjp, _reshape_sympy, "reshaped back", (R,),
            "the same elements in another shape", kind=Kind.SHAPE, shapes=((2, 3),),
            example_attrs={"shape": (3, 2)}, keywords=("shape",), torch_name="ViewBackward0",
            saves_nothing=True))
register(Op("transpose", 1, _transpose, _transpose_vjp, _transpose_sympy, "transposed back",
            (R,), "axes reversed (x.T), or permuted by axes", kind=Kind.SHAPE,
            shapes=((2, 3, 2),), example_attrs={"axes": (1, 2, 0)}, keywords=("axes",),
            torch_name="PermuteBackward0", saves_nothing=True))
# fmt: on
