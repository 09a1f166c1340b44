"""The Tensor API's array methods under PyTorch's names and keywords (`dim`, `keepdim`,
`correction`), each one registry op: reductions along dims, softmax, cumsum, and shape ops.

`Tensor` inherits `ArrayMethods`; each method hands its op and attributes to `Tensor._op`
(`apply`), so the recorded graph, `backward`, `create_graph` and the drawings are those of
every other op. `std`/`var` follow torch (unbiased by default: `correction=1`), while the
language follows NumPy (`ddof=0`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _dims(dim: Any) -> Any:
    """torch's dim (an int, a list or tuple of ints, or None) as a NumPy axis."""
    if isinstance(dim, list | tuple):
        return tuple(int(d) for d in dim)
    return None if dim is None else int(dim)


def _shape(args: tuple) -> tuple[int, ...]:
    one = len(args) == 1 and isinstance(args[0], tuple | list)
    return tuple(int(s) for s in (args[0] if one else args))


class ArrayMethods:
    """Reductions and shape methods shared by every Tensor."""

    data: np.ndarray

    def _axis(self, dim: Any) -> Any:
        """torch's dim as a NumPy axis; a 0-d tensor takes dim 0 or -1 as all (none) of its
        dims, as torch does."""
        axis = _dims(dim)
        if self.data.ndim == 0 and axis is not None:
            for d in axis if isinstance(axis, tuple) else (axis,):
                if d not in (0, -1):
                    raise IndexError(
                        f"Dimension out of range (expected to be in range of [-1, 0], but got {d})"
                    )
            return None
        return axis

    def _op(self, op: str, *others: Any, attrs: dict | None = None, name: str | None = None):
        raise NotImplementedError  # Tensor defines it (registry op `op` through `apply`)

    # --- reductions ----------------------------------------------------------------------
    def prod(self, dim: int | None = None, keepdim: bool = False):
        """Product of all elements, or along `dim`."""
        if dim is None and not keepdim:
            return self._op("prod")
        return self._op("prod", attrs={"axis": self._axis(dim), "keepdims": keepdim},
                        name="ProdBackward1")  # fmt: skip

    def amax(self, dim: Any = None, keepdim: bool = False):
        """Largest element, or along `dim` (a tie splits the gradient evenly)."""
        return self._op("amax", attrs={"axis": self._axis(dim), "keepdims": keepdim})

    def amin(self, dim: Any = None, keepdim: bool = False):
        """Smallest element, or along `dim` (a tie splits the gradient evenly)."""
        return self._op("amin", attrs={"axis": self._axis(dim), "keepdims": keepdim})

    def _moment(self, op: str, dim, correction, keepdim, unbiased):
        ddof = (1 if unbiased else 0) if unbiased is not None else correction
        if isinstance(dim, bool):  # torch's old x.std(False): the unbiased flag
            dim, ddof = None, int(dim)
        return self._op(op, attrs={"axis": self._axis(dim), "keepdims": keepdim, "ddof": ddof})

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float = 1):  # fmt: skip
        """Standard deviation with torch's default correction=1 (the sample one)."""
        return self._moment("std", dim, correction, keepdim, unbiased)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float = 1):  # fmt: skip
        """Variance with torch's default correction=1 (the sample one)."""
        return self._moment("var", dim, correction, keepdim, unbiased)

    def logsumexp(self, dim: Any, keepdim: bool = False):
        """log(sum(exp(x))) along `dim`, without overflow."""
        return self._op("logsumexp", attrs={"axis": self._axis(dim), "keepdims": keepdim})

    def softmax(self, dim: int):
        """exp(x) / sum(exp(x)) along `dim`."""
        return self._op("softmax", attrs={"axis": int(dim)})

    def log_softmax(self, dim: int):
        """x - logsumexp(x) along `dim`."""
        return self._op("log_softmax", attrs={"axis": int(dim)})

    def cumsum(self, dim: int):
        """Running sum along `dim`."""
        if self._axis(dim) is None:  # a 0-d tensor is its own running sum
            return self._op("reshape", attrs={"shape": ()}, name="CumsumBackward0")
        return self._op("cumsum", attrs={"axis": int(dim)})

    def trace(self):
        """Sum of a matrix's diagonal."""
        return self._op("trace")

    # --- shape ---------------------------------------------------------------------------
    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """The elements in one dim (or dims start_dim..end_dim merged)."""
        nd = self.data.ndim
        if nd == 0 or (start_dim % nd == 0 and end_dim % nd == nd - 1):
            return self._op("flatten")
        a, b = start_dim % nd, end_dim % nd
        s = self.data.shape
        return self._op("reshape", attrs={"shape": (*s[:a], -1, *s[b + 1 :])})

    def ravel(self):
        """The elements in one dim."""
        return self._op("flatten")

    def transpose(self, dim0: int, dim1: int):
        """Dims dim0 and dim1 swapped."""
        axes = list(range(self.data.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self._op("transpose", attrs={"axes": tuple(axes)}, name="TransposeBackward0")

    def permute(self, *dims):
        """Dims in the order given."""
        return self._op("transpose", attrs={"axes": _shape(dims)}, name="PermuteBackward0")

    def squeeze(self, dim: Any = None):
        """Dims of length 1 removed (all, or `dim` if it has length 1, as torch)."""
        if dim is not None:
            dims = _dims(dim)
            dims = dims if isinstance(dims, tuple) else (dims,)
            kept = tuple(d for d in dims if self.data.shape[d] == 1)
            if not kept:
                return self._op("reshape", attrs={"shape": self.data.shape})
            return self._op("squeeze", attrs={"axis": kept})
        return self._op("squeeze")

    def unsqueeze(self, dim: int):
        """A new dim of length 1 at `dim`."""
        return self._op("expand_dims", attrs={"axis": int(dim)})

    def flip(self, dims: Any):
        """Elements in reverse order along `dims`."""
        return self._op("flip", attrs={"axis": _dims(dims)})

    def tril(self, diagonal: int = 0):
        """Zeros above diagonal `diagonal`."""
        return self._op("tril", attrs={"k": int(diagonal)})

    def triu(self, diagonal: int = 0):
        """Zeros below diagonal `diagonal`."""
        return self._op("triu", attrs={"k": int(diagonal)})

    def outer(self, other):
        """Every product self[i] other[j]."""
        return self._op("outer", other)

    def diag(self, diagonal: int = 0):
        """A vector on a matrix's diagonal, or a matrix's diagonal as a vector."""
        return self._op("diag", attrs={"k": int(diagonal)})

    def repeat_interleave(self, repeats: int, dim: int | None = None):
        """Each element repeated `repeats` times (flattened, or along `dim`)."""
        return self._op("repeat", attrs={"repeats": int(repeats), "axis": dim})
