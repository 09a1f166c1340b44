"""How generated modules are assembled from real functions: a reference to NumPy, operator,
math or a builtin, or a copy of the function's own source; and file names made safe for a
docstring."""

from __future__ import annotations

import builtins
import inspect
import math
import operator
import types

import numpy as np


def reference(fn, sources: dict[str, str]) -> str:
    """How generated code names a function: np.x, operator.x, math.x, a builtin, or a copy of
    its source (added to `sources`, with the module-level functions it calls)."""
    if isinstance(fn, np.ufunc) or getattr(np, getattr(fn, "__name__", ""), None) is fn:
        return f"np.{fn.__name__}"
    if getattr(operator, getattr(fn, "__name__", ""), None) is fn:
        return f"operator.{fn.__name__}"
    if getattr(math, getattr(fn, "__name__", ""), None) is fn:
        return f"math.{fn.__name__}"
    if getattr(builtins, getattr(fn, "__name__", ""), None) is fn:
        return fn.__name__
    _copy(fn, sources)
    return fn.__name__


def _copy(fn, sources: dict[str, str]) -> None:
    """Copy a function's source, and the module-level functions it calls, once each."""
    stack = [fn]
    while stack:
        f = stack.pop()
        if f.__name__ in sources:
            continue
        sources[f.__name__] = inspect.getsource(f)
        module = inspect.getmodule(f)
        for name in f.__code__.co_names:
            dep = getattr(module, name, None)
            if isinstance(dep, types.FunctionType) and dep.__module__ == f.__module__:
                stack.append(dep)


def docstring_name(origin: str) -> str:
    """A file name as it may appear in a generated docstring: printable ASCII with no quote,
    backslash or line break (anything else becomes '?'), so no name can end the docstring."""
    if not origin:
        return "a graph"
    return "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in "\"'\\" else "?" for ch in origin
    )
