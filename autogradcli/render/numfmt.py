"""Numbers as the tables and drawings show them: compact, with a given number of digits."""

from __future__ import annotations

import numpy as np


def fmt(x, digits: int = 6) -> str:
    """A number or array, compactly, with `digits` significant digits."""
    a = np.asarray(x, dtype=float) + 0.0  # shows -0.0 as 0
    if a.ndim == 0:
        v = float(a)
        return str(v) if not np.isfinite(v) else f"{v:.{digits}g}"
    return np.array2string(
        a,
        separator=", ",
        threshold=24,
        edgeitems=3,
        max_line_width=60,
        formatter={"float_kind": lambda v: fmt(v, digits)},
    )
