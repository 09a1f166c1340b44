"""Numbers as the tables and drawings show them: compact, with a given number of digits."""

from __future__ import annotations

import numpy as np


def fmt(x, digits: int = 6) -> str:
    """A number or array, compactly, with `digits` significant digits. In an array, an element
    smaller than the largest by more than `digits + 6` orders of magnitude (1e-16 beside 0.3,
    rounding noise) shows as 0; JSON keeps every digit."""
    a = np.asarray(x, dtype=float) + 0.0  # shows -0.0 as 0
    if a.ndim == 0:
        v = float(a)
        return str(v) if not np.isfinite(v) else f"{v:.{digits}g}"
    finite = np.abs(a[np.isfinite(a)])
    if finite.size:  # rounding noise next to much larger neighbours shows as 0
        a = np.where(np.abs(a) < finite.max() * 10.0 ** -(digits + 6), 0.0, a)
    return np.array2string(
        a,
        separator=", ",
        threshold=24,
        edgeitems=3,
        max_line_width=60,
        formatter={"float_kind": lambda v: fmt(v, digits)},
    )
