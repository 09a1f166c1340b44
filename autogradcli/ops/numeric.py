"""Numeric helpers every layer shares: watching NumPy's floating-point events, and summing a
gradient back to its input's shape (broadcasting undone in one place)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np


@contextmanager
def fp_watch():
    """Silence NumPy's floating-point warnings but record that one happened."""
    events: list[str] = []
    with np.errstate(all="call", under="ignore", call=lambda kind, flag: events.append(kind)):
        yield events


def unbroadcast(g, shape: tuple[int, ...]):
    """Sum a gradient down to `shape`, undoing NumPy broadcasting."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(k for k, size in enumerate(shape) if size == 1 and g.shape[k] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        g = np.broadcast_to(g, shape)
    return g
