"""`stack`, `cat` and `where` for the Tensor API, as PyTorch's `torch.stack`, `torch.cat`
and `torch.where`: each one registry op (`stack` and `concat` take any number of inputs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, apply, as_tensor


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """The tensors side by side along a new dim."""
    if not len(tensors):
        raise RuntimeError("stack expects a non-empty TensorList")
    return apply("stack", *tensors, attrs={"axis": int(dim)})


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim."""
    if not len(tensors):
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    return apply("concat", *tensors, attrs={"axis": int(dim)})


concat = cat


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """`input` where `condition` holds (is not 0), else `other`; no gradient to the condition."""
    c = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    return apply("where", as_tensor(c.astype(np.float64)), input, other)
