"""Grad mode: whether operations on tensors are recorded, per thread as in PyTorch."""

from __future__ import annotations

import threading
from contextlib import contextmanager

GRAD_MODE = threading.local()


def is_grad_enabled() -> bool:
    """False inside `no_grad()` (in this thread; other threads are not affected)."""
    return getattr(GRAD_MODE, "enabled", True)


@contextmanager
def no_grad():
    """Record nothing inside the block, in this thread (results do not require grad)."""
    old = is_grad_enabled()
    GRAD_MODE.enabled = False
    try:
        yield
    finally:
        GRAD_MODE.enabled = old
