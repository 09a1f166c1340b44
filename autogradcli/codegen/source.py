"""How generated modules are assembled from real functions: a reference to NumPy, operator,
math or a builtin, or a copy of the function's own source; and file names made safe for a
docstring."""

from __future__ import annotations

from ..engines.point import copy_function, reference

__all__ = ["copy_function", "docstring_name", "reference"]


def docstring_name(origin: str) -> str:
    """A file name as it may appear in a generated docstring: printable ASCII with no quote,
    backslash or line break (anything else becomes '?'), so no name can end the docstring."""
    if not origin:
        return "a graph"
    return "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in "\"'\\" else "?" for ch in origin
    )
