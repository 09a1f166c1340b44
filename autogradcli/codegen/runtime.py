"""The runtime of a generated plan module: real functions, copied verbatim into each module.

`plan_source` writes a module's constants (the names in capitals below), its `_rows` (the
straight-line steps) and its `_point` (the same steps on Python floats), then appends these
functions' own source. The values here are placeholders so this file is ordinary, importable
and testable Python; a generated module defines its own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..ops.numeric import unbroadcast

INPUTS: tuple[str, ...] = ()
OUTPUTS: tuple[str, ...] = ()
CHUNK = 1
DTYPES: tuple = ()
CONSTANT_RESULTS: dict[int, float] = {}
RESULTS = 0
THREADS = 1
POINT = False
NUMBERS = (float, int, np.float64)


def _rows(x, t, r, lo, hi):
    """Rows lo:hi of the inputs x into the results r, with scratch buffers t (per module)."""
    raise NotImplementedError


def _point(*args):
    """One point on Python floats (per module); None when a step has no float counterpart."""
    return None


def _where(out, cond, yes, no):
    np.copyto(out, no)
    np.copyto(out, yes, where=cond)


def _part(x, r, lo, hi):
    size = max(1, min(CHUNK, hi - lo))
    t = [None if dt is None else np.empty(size, dtype=dt) for dt in DTYPES]
    with np.errstate(all="ignore"):
        for start in range(lo, hi, size):
            _rows(x, t, r, start, min(start + size, hi))


def _points(cols):
    """Arrays: every point at once, in blocks of rows."""
    cols = [np.asarray(c, dtype=np.float64) for c in cols]
    shape = np.broadcast_shapes(*[c.shape for c in cols]) if cols else ()
    x = [np.ascontiguousarray(np.broadcast_to(c, shape)).reshape(-1) for c in cols]
    n = int(np.prod(shape, dtype=int))
    r = [np.empty(n) for _ in range(RESULTS)]
    for k, value in CONSTANT_RESULTS.items():
        r[k].fill(value)
    parts = max(1, min(THREADS, -(-n // CHUNK)))
    bounds = [n * p // parts for p in range(parts + 1)]
    if parts == 1:
        _part(x, r, 0, n)
    else:
        with ThreadPoolExecutor(parts) as pool:
            jobs = [(x, r, bounds[p], bounds[p + 1]) for p in range(parts)]
            list(pool.map(lambda job: _part(*job), jobs))
    r = [a.reshape(shape) for a in r]
    step = len(INPUTS) + 1
    for p in range(len(r)):  # an input broadcast over the others: sum its gradient
        if p % step and cols[p % step - 1].shape != shape:
            r[p] = np.asarray(unbroadcast(r[p], cols[p % step - 1].shape))
    return r


def value_and_grad(**inputs):
    """Values of the outputs and the gradient of each with respect to every input.

    One point of plain numbers gives floats; arrays give arrays (broadcast shape).
    """
    cols = [inputs[name] for name in INPUTS]
    r = None
    if POINT and all(type(c) in NUMBERS or np.ndim(c) == 0 for c in cols):
        try:
            r = _point(*[float(c) for c in cols])
        except (ArithmeticError, ValueError):  # NumPy's nan or inf instead
            r = None
    if r is None:
        r = _points(cols)
    step = len(INPUTS) + 1
    values = {name: r[k * step] for k, name in enumerate(OUTPUTS)}
    grads = {
        name: dict(zip(INPUTS, r[k * step + 1 : (k + 1) * step], strict=True))
        for k, name in enumerate(OUTPUTS)
    }
    return values, grads


# What plan_source copies into every module, after its own `_rows` and `_point`.
SHARED = (_where, _part, _points, value_and_grad)
