"""Op attributes (axis, keepdims, index keys, shapes): checks, hashable keys and their text.

Attributes are plain Python values: None, bool, int, float, tuples of ints, and for `index`
a key that is an int, a `slice` or a tuple of them (the Tensor API may also pass int arrays,
None and Ellipsis). `freeze` makes any of them hashable (for common-subexpression keys);
`text` writes one back in agrad syntax; `jsonable` gives plain JSON values.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ShapeError(ValueError, IndexError):
    """An attribute does not fit the shapes it meets (a wrong axis, an index out of range).

    Its message names the shapes; the interpreter adds the node's position. It is an
    IndexError too (as NumPy's AxisError), so iterating a Tensor stops at its end."""


def freeze(value: Any) -> Any:
    """A hashable stand-in for an attribute value (slices and arrays included)."""
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, tuple | list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if value is Ellipsis:
        return ("...",)
    return value


def _bound(v: int | None) -> str:
    return "" if v is None else str(v)


def key_text(key: Any) -> str:
    """An index key as written between brackets: `1:3, 0`."""
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            s = f"{_bound(p.start)}:{_bound(p.stop)}"
            out.append(s if p.step is None else f"{s}:{p.step}")
        elif p is None:
            out.append("None")
        elif p is Ellipsis:
            out.append("...")
        elif isinstance(p, np.ndarray | list | tuple):
            out.append(str(np.asarray(p).tolist()).replace(" ", ""))
        else:
            out.append(str(int(p)))
    return ", ".join(out)


def text(value: Any) -> str:
    """A keyword value in agrad syntax: `1`, `-1`, `(0, 1)`, `true`, `none`."""
    if value is None:
        return "none"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        inner = ", ".join(text(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float):
        return repr(value)
    return str(int(value))


def jsonable(value: Any) -> Any:
    """Plain JSON values for an attribute (an index key becomes its bracket text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.integer | np.floating | np.bool_):
        return value.item()
    if isinstance(value, tuple | list) and all(isinstance(v, int | np.integer) for v in value):
        return [int(v) for v in value]
    return f"[{key_text(value)}]"


def attrs_text(attrs: dict[str, Any] | None) -> str:
    """`axis=1, keepdims=true` for a node's attributes (index keys in brackets)."""
    if not attrs:
        return ""
    return ", ".join(
        f"{k}=[{key_text(v)}]" if k == "key" else f"{k}={text(v)}" for k, v in attrs.items()
    )


def axes_of(axis: Any, ndim: int, what: str, shape: tuple) -> tuple[int, ...]:
    """Normalised, checked axes (all of them for None), or ShapeError naming the shape."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple | list) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int | np.integer) or not -ndim <= a < ndim:
            raise ShapeError(
                f"{what}: axis {a} is out of range for an array of shape {tuple(shape)} "
                f"({ndim} axes: use -{ndim} to {ndim - 1})"
                if ndim
                else f"{what}: axis {a} is out of range for a scalar (shape ()): it has no axes"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{what}: axis {axis} repeats an axis (shape {tuple(shape)})")
    return tuple(sorted(out))


def kept_shape(shape: tuple, axes: tuple[int, ...]) -> tuple[int, ...]:
    """`shape` with the reduced `axes` kept as length 1 (keepdims=True's shape)."""
    return tuple(1 if k in axes else n for k, n in enumerate(shape))


def one_axis(axis: Any, what: str) -> None:
    """Refuse an axis that is not one integer (None allowed: all elements, flattened)."""
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int | np.integer)):
        raise ShapeError(f"{what} takes one axis, an integer, got axis={axis}")


def empty_check(x: Any, what: str) -> None:
    """Refuse a reduction that has no value on no elements (a mean of an empty slice)."""
    if np.size(x) == 0:
        raise ShapeError(f"{what} of an empty array (shape {np.shape(x)})")
