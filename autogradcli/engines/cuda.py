"""The GPU backend: the fused kernel's loop body as a numba CUDA kernel, one thread a point.

Each call copies the input columns to the device, runs the kernel and copies the outputs
back, so a run's time includes the transfers. Steps call `math` (what CUDA kernels offer)
instead of NumPy; a step with no `math` counterpart declines. Tested without a GPU in numba's
CUDA simulator (`NUMBA_ENABLE_CUDASIM=1`).
"""

from __future__ import annotations

import hashlib
import importlib.util

import numpy as np

from .fused import MATH, STEPS, body, load, signature
from .tracer import Program

BLOCK = 256  # threads per block

BINARY = ("hypot", "arctan2")
CUDA_STEPS = dict(STEPS)
for _name, _f in MATH.items():
    CUDA_STEPS[_name] = f"math.{_f}({{0}}, {{1}})" if _name in BINARY else f"math.{_f}({{0}})"
CUDA_STEPS["floor"] = "float(math.floor({0}))"


def declines(program: Program) -> str | None:
    """Why the GPU cannot run the program (one line), or None."""
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed (pip install 'agrad[fast]')"
    from numba import cuda

    if not cuda.is_available():
        return "no CUDA GPU found (numba.cuda.is_available() is False)"
    unknown = [n for n, _, _ in program.code if n not in CUDA_STEPS]
    return f"step {unknown[0]!r} has no CUDA math function" if unknown else None


def source(program: Program) -> str:
    """The CUDA kernel module's text."""
    lines = [
        '"""A CUDA kernel of agrad (generated; the name is a hash of this text)."""',
        "import math",
        "import numpy as np",
        "from numba import cuda",
        "",
        "",
        "@cuda.jit",
        f"def kernel({signature(program)}):",
        "    k = start + cuda.grid(1)",
        "    if k < stop:",
        *[f"        {line}" for line in body(program, CUDA_STEPS)],
        "",
    ]
    return "\n".join(lines)


class Runner:
    """`Plan.run_batch` on the GPU: whole columns in, outputs back (transfers included)."""

    threads = 1

    def __init__(self, program: Program):
        text = source(program)
        name = "c" + hashlib.sha256(text.encode()).hexdigest()[:24]
        self.kernel = load(name, text).kernel
        self.slots = [p for p, r in enumerate(program.outputs) if type(r) is int]

    def __call__(self, columns: list[np.ndarray], results: list[np.ndarray], start, stop):
        """Fill rows start:stop of `results` (constants are already filled)."""
        from numba import cuda

        n = stop - start
        ins = [cuda.to_device(np.ascontiguousarray(c[start:stop], np.float64)) for c in columns]
        outs = [cuda.device_array(n) for _ in self.slots]
        self.kernel[-(-n // BLOCK), BLOCK](0, n, *ins, *outs)
        for p, out in zip(self.slots, outs, strict=True):
            out.copy_to_host(results[p][start:stop])


def runner(program: Program) -> Runner:
    """The backend's entry: a callable filling a plan's results on the GPU."""
    return Runner(program)
