"""Uncertainties of outputs (`agrad eval --sigma`) as a table and as JSON keys."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.table import Table

from ..engines.uncertainty import OutputSpread
from .jsondoc import jsonable
from .numfmt import fmt
from .table import _t, keep_numbers_whole


def spread_table(results: list[OutputSpread], values: dict[str, np.ndarray], digits: int) -> Table:
    """Each output's value ± sigma and each input's share of the variance."""
    second = any(r.order == 2 for r in results)
    names = list(results[0].shares) if results else []
    title = "uncertainty (second order)" if second else "uncertainty (first order)"
    table = Table(title=_t(title), title_style="bold")
    table.add_column("output")
    table.add_column("value", justify="right")
    if second:
        table.add_column("mean shift", justify="right")
        table.add_column("σ (first order)", justify="right")  # noqa: RUF001
    table.add_column("σ", justify="right")  # noqa: RUF001
    for n in names:
        table.add_column(_t(f"share {n}"), justify="right")
    for r in results:
        cells = [r.name, fmt(values[r.name], digits)]
        if second:
            cells += [fmt(r.shift, digits), fmt(r.sigma1, digits)]
        cells.append(fmt(r.sigma, digits))
        cells += [_percent(r.shares[n]) for n in names]
        table.add_row(*[_t(c) for c in cells])
    return keep_numbers_whole(table)


def _percent(share: np.ndarray) -> str:
    """A fraction as a percentage with one decimal (arrays element by element)."""
    if np.ndim(share):
        return "[" + ", ".join(_percent(s) for s in np.ravel(share)) + "]"
    return f"{100 * float(share):.1f}%"


def spread_json(results: list[OutputSpread]) -> dict[str, dict[str, Any]]:
    """Per output, the keys to add to `outputs.<name>` of the eval JSON document."""
    out = {}
    for r in results:
        entry: dict[str, Any] = {
            "sigma": jsonable(r.sigma),
            "sigma_order": r.order,
            "variance_share": {n: jsonable(s) for n, s in r.shares.items()},
        }
        if r.order == 2:
            entry["sigma_first_order"] = jsonable(r.sigma1)
            entry["mean_shift"] = jsonable(r.shift)
        out[r.name] = entry
    return out
