"""Shape ops of the language with NumPy's names and keywords: flatten, expand_dims, squeeze,
stack, concat, outer, diag, trace, tril, triu, flip and repeat.

`stack` and `concat` are variadic: `stack(a, b, c, axis=0)` is one node with three inputs,
and its VJP returns one entry per input. Every VJP is written in registry ops.
"""

from __future__ import annotations

import numpy as np

from . import Kind, Op, R, call, register
from .attrs import ShapeError, axes_of, one_axis


def _obj(x):
    return np.asarray(x, dtype=object)


def _reshaped_back(g, out, x, *args, **attrs):
    return (call("reshape", g, shape=np.shape(x)),)


def _flatten(x):
    return np.reshape(x, (np.size(x),))


def _expand_dims(x, axis=0):
    if axis is None:
        raise ShapeError("expand_dims needs an axis (an integer or a tuple of integers)")
    axes_of(axis, np.ndim(x) + 1, "expand_dims", np.shape(x))
    return np.expand_dims(x, axis)


def _squeeze(x, axis=None):
    if axis is not None:
        for a in axes_of(axis, np.ndim(x), "squeeze", np.shape(x)):
            if np.shape(x)[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {np.shape(x)} has length != 1")
    return np.squeeze(x, axis)


def _joined(xs: tuple, axis: int, what: str, new: bool) -> int:
    """The checked axis of stack (a new axis) or concat (an existing one)."""
    one_axis(axis, what)
    if axis is None:
        raise ShapeError(f"{what} takes one axis, an integer, got axis=none")
    shapes = [np.shape(x) for x in xs]
    ndim = len(shapes[0]) + new
    if not ndim:
        raise ShapeError(f"{what}: scalars have no axis to join along; use stack")
    (k,) = axes_of(axis, ndim, what, shapes[0])
    rest = [s[:k] + s[k + 1 :] if not new else s for s in shapes]
    if any(len(s) != len(shapes[0]) or r != rest[0] for s, r in zip(shapes, rest, strict=True)):
        listed = ", ".join(str(s) for s in shapes)
        raise ShapeError(f"{what} along axis {axis}: the shapes {listed} do not fit together")
    return k


def _stack(*xs, axis=0):
    return np.stack(xs, axis=_joined(xs, axis, "stack", True))


def _stack_vjp(g, out, *xs, axis=0):
    k = _joined(xs, axis, "stack", True)
    lead = (slice(None),) * k
    return tuple(call("index", g, key=(*lead, j)) for j in range(len(xs)))


def _concat(*xs, axis=0):
    return np.concatenate(xs, axis=_joined(xs, axis, "concat", False))


def _concat_vjp(g, out, *xs, axis=0):
    k = _joined(xs, axis, "concat", False)
    lead, grads, at = (slice(None),) * k, [], 0
    for x in xs:
        n = np.shape(x)[k]
        grads.append(call("index", g, key=(*lead, slice(at, at + n))))
        at += n
    return tuple(grads)


def _outer_vjp(g, out, x, y):
    n, m = np.size(x), np.size(y)
    gx = call("sum", call("mul", g, call("reshape", y, shape=(1, m))), axis=1)
    gy = call("sum", call("mul", g, call("reshape", x, shape=(n, 1))), axis=0)
    return call("reshape", gx, shape=np.shape(x)), call("reshape", gy, shape=np.shape(y))


def _diagonal_key(shape: tuple, k: int) -> tuple:
    rows = range(max(-k, 0), min(shape[0], shape[1] - k))
    return tuple(rows), tuple(r + k for r in rows)


def _diag(x, k=0):
    if np.ndim(x) not in (1, 2):
        raise ShapeError(f"diag takes a vector or a matrix, got shape {np.shape(x)}")
    return np.diag(x, k)


def _diag_vjp(g, out, x, k=0):
    if np.ndim(x) == 1:
        return (call("diag", g, k=k),)
    return (call("scatter", g, key=_diagonal_key(np.shape(x), k), shape=np.shape(x)),)


def _trace(x, offset=0):
    if np.ndim(x) != 2:
        raise ShapeError(f"trace takes a matrix, got shape {np.shape(x)}")
    return np.trace(x, offset)


def _trace_vjp(g, out, x, offset=0):
    return (call("mul", g, np.eye(*np.shape(x), k=offset)),)


def _square_check(x, name: str) -> None:
    if np.ndim(x) < 2:
        raise ShapeError(f"{name} takes a matrix, got shape {np.shape(x)}")


def _tril(x, k=0):
    _square_check(x, "tril")
    return np.tril(x, k)


def _tril_vjp(g, out, x, k=0):
    return (call("tril", g, k=k),)


def _triu(x, k=0):
    _square_check(x, "triu")
    return np.triu(x, k)


def _triu_vjp(g, out, x, k=0):
    return (call("triu", g, k=k),)


def _triangle_sympy(fn):
    def sympy(sp, x, k=0):
        return np.where(fn(np.ones(np.shape(x)), k) != 0, _obj(x), sp.Integer(0))

    return sympy


def _flip(x, axis=None):
    if axis is not None:
        axes_of(axis, np.ndim(x), "flip", np.shape(x))
    return np.flip(x, axis)


def _flip_vjp(g, out, x, axis=None):
    return (call("flip", g, axis=axis),)


def _repeat(x, repeats=1, axis=None):
    if isinstance(repeats, bool) or not isinstance(repeats, int | np.integer) or repeats < 0:
        raise ShapeError(f"repeat: repeats={repeats} must be a whole number of at least 0")
    one_axis(axis, "repeat")
    if axis is not None:
        axes_of(axis, np.ndim(x), "repeat", np.shape(x))
    return np.repeat(x, repeats, axis)


def _repeat_vjp(g, out, x, repeats=1, axis=None):
    shape = np.shape(x)
    if axis is None:
        folded = call("reshape", g, shape=(np.size(x), repeats))
        return (call("reshape", call("sum", folded, axis=1), shape=shape),)
    (k,) = axes_of(axis, len(shape), "repeat", shape)
    folded = call("reshape", g, shape=(*shape[:k], shape[k], repeats, *shape[k + 1 :]))
    return (call("sum", folded, axis=k + 1),)


def _sym(fn):
    def sympy(sp, *xs, **attrs):
        return fn(*[_obj(x) for x in xs], **attrs)

    return sympy


V3, M23, M33 = ((3,),), ((2, 3),), ((3, 3),)
# fmt: off
register(Op("flatten", 1, _flatten, _reshaped_back, _sym(_flatten), "reshaped back", (R,),
            "the elements in one axis, row by row (ravel)", kind=Kind.SHAPE, shapes=M23,
            saves_nothing=True, torch_name="ViewBackward0"))
register(Op("expand_dims", 1, _expand_dims, _reshaped_back, _sym(np.expand_dims),
            "reshaped back", (R,), "a new axis of length 1 at axis", kind=Kind.SHAPE,
            shapes=M23, example_attrs={"axis": 1}, keywords=("axis",), saves_nothing=True,
            torch_name="UnsqueezeBackward0"))
register(Op("squeeze", 1, _squeeze, _reshaped_back, _sym(np.squeeze), "reshaped back", (R,),
            "axes of length 1 removed (all, or those in axis)", kind=Kind.SHAPE,
            shapes=((2, 1, 3),), example_attrs={"axis": 1}, keywords=("axis",),
            saves_nothing=True, torch_name="SqueezeBackward1"))
register(Op("stack", 2, _stack, _stack_vjp, _sym(lambda *xs, axis=0: np.stack(xs, axis)),
            "each input's slice", (R, R), "the inputs side by side along a new axis",
            kind=Kind.SHAPE, shapes=(V3[0], V3[0]), example_attrs={"axis": 1},
            keywords=("axis",), variadic=True, saves_nothing=True))
register(Op("concat", 2, _concat, _concat_vjp,
            _sym(lambda *xs, axis=0: np.concatenate(xs, axis)), "each input's slice",
            (R, R), "the inputs joined along an existing axis", kind=Kind.SHAPE,
            shapes=((2, 3), (2, 2)), example_attrs={"axis": 1}, keywords=("axis",),
            variadic=True, saves_nothing=True, torch_name="CatBackward0"))
register(Op("outer", 2, np.outer, _outer_vjp, _sym(np.outer), "g y, g^T x", (R, R),
            "every product x[i] y[j] (inputs flattened)", kind=Kind.LINALG,
            shapes=((3,), (2,)), torch_name="MulBackward0"))
register(Op("diag", 1, _diag, _diag_vjp, _sym(np.diag), "1 on the diagonal", (R,),
            "a vector on a matrix's diagonal k, or a matrix's diagonal k as a vector",
            kind=Kind.SHAPE, shapes=M23, example_attrs={"k": 1}, keywords=("k",),
            saves_nothing=True, torch_name="DiagBackward0"))
register(Op("trace", 1, _trace, _trace_vjp, _sym(np.trace), "the identity matrix", (R,),
            "sum of a matrix's diagonal (offset k above it)", kind=Kind.REDUCTION,
            shapes=M33, keywords=("offset",), saves_nothing=True))
register(Op("tril", 1, _tril, _tril_vjp, _triangle_sympy(np.tril),
            "1 on and below diagonal k", (R,), "zeros above diagonal k", kind=Kind.SHAPE,
            shapes=M33, example_attrs={"k": -1}, keywords=("k",), saves_nothing=True))
register(Op("triu", 1, _triu, _triu_vjp, _triangle_sympy(np.triu),
            "1 on and above diagonal k", (R,), "zeros below diagonal k", kind=Kind.SHAPE,
            shapes=M33, keywords=("k",), saves_nothing=True))
register(Op("flip", 1, _flip, _flip_vjp, _sym(np.flip), "flipped back", (R,),
            "the elements in reverse order along axis (all axes by default)",
            kind=Kind.SHAPE, shapes=M23, example_attrs={"axis": 1}, keywords=("axis",),
            saves_nothing=True))
register(Op("repeat", 1, _repeat, _repeat_vjp, _sym(np.repeat), "summed over the copies",
            (R,), "each element repeated (flattened, or along axis)", kind=Kind.SHAPE,
            shapes=M23, example_attrs={"repeats": 2, "axis": 0},
            keywords=("repeats", "axis"), saves_nothing=True))
# fmt: on
