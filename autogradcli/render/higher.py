"""Second and higher derivatives as tables and JSON: Hessians, H·v, J·v, d^k f/dx^k."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table

from ..engines.higher import Higher
from .jsondoc import jsonable
from .numfmt import fmt
from .table import _t, keep_numbers_whole


def _labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """`x` for a scalar, `x[0,1]` for each element of an array, in C order."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, e))}]" for e in np.ndindex(shape)]


def hessian_table(r: Higher, digits: int) -> Table:
    """Rows and columns labelled by input (array inputs element by element)."""
    h = r.hessian or {}
    names = list(h)
    shapes = {x: h[x][x].shape[: h[x][x].ndim // 2] for x in names}
    table = Table(title=_t(f"Hessian of {r.name}"), title_style="bold")
    table.add_column("")
    for y in names:
        for label in _labels(y, shapes[y]):
            table.add_column(_t(label), justify="right")
    for x in names:
        for e, label in zip(np.ndindex(shapes[x]), _labels(x, shapes[x]), strict=True):
            cells = [fmt(v, digits) for y in names for v in np.ravel(h[x][y][e])]
            table.add_row(_t(label, "bold"), *[_t(c) for c in cells])
    return keep_numbers_whole(table)


def _vector_table(title: str, entries: dict[str, np.ndarray], digits: int) -> Table:
    table = Table(title=_t(title), title_style="bold")
    table.add_column("input")
    table.add_column("value", justify="right")
    for name, v in entries.items():
        table.add_row(_t(name), _t(fmt(v, digits)))
    return keep_numbers_whole(table)


def derivatives_table(r: Higher, x: str, taylor: bool, digits: int) -> Table:
    """d^k f/dx^k for k = 1..n, and with `taylor` the coefficients f^(k)(x)/k!."""
    table = Table(title=_t(f"derivatives of {r.name} in {x}"), title_style="bold")
    table.add_column("k", justify="right")
    table.add_column(_t(f"d^k {r.name}/d{x}^k"), justify="right")
    if taylor:
        table.add_column("Taylor coefficient", justify="right")
    for k, d in enumerate(r.derivatives or [], start=1):
        row = [str(k), fmt(d, digits)] + ([fmt(d / math.factorial(k), digits)] if taylor else [])
        table.add_row(*[_t(c) for c in row])
    return keep_numbers_whole(table)


def higher_tables(results: list[Higher], wrt: list[str], taylor: bool, digits: int) -> Group:
    """Every table the second-order flags asked for, output by output."""
    parts: list = []
    for r in results:
        if r.hessian is not None:
            parts.append(hessian_table(r, digits))
        if r.hvp is not None:
            parts.append(_vector_table(f"H·v of {r.name}", r.hvp, digits))
        if r.jvp is not None:
            parts.append(_vector_table(f"J·v of {r.name}", {r.name: r.jvp}, digits))
        if r.derivatives is not None:
            parts.append(derivatives_table(r, wrt[0], taylor, digits))
    return Group(*parts)


def higher_json(results: list[Higher], taylor: bool) -> dict[str, dict[str, Any]]:
    """Per output, the keys to add to `outputs.<name>` of the eval JSON document."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        entry: dict[str, Any] = {}
        if r.hessian is not None:
            entry["hessian"] = {
                x: {y: jsonable(v) for y, v in row.items()} for x, row in r.hessian.items()
            }
        if r.hvp is not None:
            entry["hvp"] = {x: jsonable(v) for x, v in r.hvp.items()}
        if r.jvp is not None:
            entry["jvp"] = jsonable(r.jvp)
        if r.derivatives is not None:
            entry["derivatives"] = jsonable(r.derivatives)
            if taylor:
                entry["taylor"] = jsonable(
                    [d / math.factorial(k) for k, d in enumerate(r.derivatives, start=1)]
                )
        out[r.name] = entry
    return out
