"""The fused CPU backend: one numba loop over points, every step in registers, only outputs
written (`pip install 'agrad[fast]'`).

The kernel's source is written from the program alone (slots `s<k>`, numbers as their repr),
to a file in the cache folder named by a hash of that source, and compiled with numba's
`cache=True`: a second process loads the machine code instead of compiling. Arithmetic,
comparisons and `sqrt` give NumPy's bits; transcendental steps call numba's implementations
of the same ufuncs, which may differ from NumPy's SIMD kernels in the last bit (the parity
suite's tolerance, `TOLERANCE`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import tempfile

import numpy as np

from .choose import cache_dir
from .tracer import Program

TOLERANCE = 1e-13  # relative, on transcendental steps; exact on the others
MAX_STEPS = 4000  # numba's compile time grows with the function; longer programs decline

# Steps written as an expression of their arguments; any other step calls np.<name>.
STEPS = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
    "divide": "{0} / {1}", "power": "{0} ** {1}", "negative": "-{0}",
    "square": "{0} * {0}", "reciprocal": "1.0 / {0}", "absolute": "abs({0})",
    "less": "{0} < {1}", "less_equal": "{0} <= {1}", "greater": "{0} > {1}",
    "greater_equal": "{0} >= {1}", "equal": "{0} == {1}", "not_equal": "{0} != {1}",
    "bitwise_and": "{0} & {1}", "bitwise_or": "{0} | {1}", "invert": "not {0}",
    "where": "{1} if {0} else {2}",
    "maximum": "{0} if {0} != {0} or {0} > {1} else {1}",
    "minimum": "{0} if {0} != {0} or {0} < {1} else {1}",
}  # fmt: skip

# NumPy's ufunc names as C's (and CUDA's) math functions, for the backends without NumPy.
MATH = {
    "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin",
    "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "exp": "exp",
    "expm1": "expm1", "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p",
    "hypot": "hypot", "arctan2": "atan2", "floor": "floor",
}  # fmt: skip
HEADER = '''"""A fused kernel of agrad (generated; the name is a hash of this text)."""
import math
import numpy as np
import numba

'''


def literal(value) -> str:
    """A constant as kernel source: repr for finite numbers, np.nan and np.inf otherwise."""
    if type(value) is bool or math.isfinite(value):
        return repr(value)
    if value != value:
        return "np.nan"
    return "np.inf" if value > 0 else "-np.inf"


def body(program: Program, steps: dict[str, str], call: str = "np.{name}", point=False):
    """The loop body: inputs read at row k, one line per step, outputs written at row k (with
    `point`: inputs from the array x, slot outputs written in order into the array out)."""

    def ref(r) -> str:
        return f"s{r}" if type(r) is int else literal(r)

    read = "s{k} = x[{k}]" if point else "s{k} = i{k}[k]"
    lines = [read.format(k=k) for k in range(len(program.inputs))]
    for name, out, args in program.code:
        if name in steps:
            lines.append(f"s{out} = " + steps[name].format(*map(ref, args)))
        else:
            lines.append(f"s{out} = {call.format(name=name)}({', '.join(map(ref, args))})")
    slots = [(p, r) for p, r in enumerate(program.outputs) if type(r) is int]
    for j, (p, r) in enumerate(slots):
        lines.append(f"out[{j}] = s{r}" if point else f"o{p}[k] = s{r}")
    return lines


def signature(program: Program) -> str:
    """The kernel's parameters: rows, input columns, output columns (slot outputs only)."""
    ins = [f"i{k}" for k in range(len(program.inputs))]
    outs = [f"o{p}" for p, r in enumerate(program.outputs) if type(r) is int]
    return ", ".join(["start", "stop", *ins, *outs])


def source(program: Program) -> str:
    """The kernel module's text."""
    lines = [
        HEADER,
        '@numba.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)',
        f"def kernel({signature(program)}):",
        "    for k in range(start, stop):",
        *[f"        {line}" for line in body(program, STEPS)],
        "",
    ]
    return "\n".join(lines)


def point_source(program: Program) -> str:
    """A one-point kernel module: `point(x, out)` fills `out` with the slot outputs."""
    lines = [
        HEADER,
        '@numba.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)',
        "def point(x, out):",
        *[f"    {line}" for line in body(program, STEPS, point=True)],
        "",
    ]
    return "\n".join(lines)


def point_name(program: Program) -> str:
    """The cache name of a program's one-point kernel."""
    return "p" + hashlib.sha256(point_source(program).encode()).hexdigest()[:24]


def point_kernel(program: Program):
    """`point(x, out)` compiled (or loaded from the disk cache)."""
    return load(point_name(program), point_source(program)).point


def key(program: Program) -> str:
    """The cache key of a program: a hash of its kernel's source and the compiler."""
    from importlib.metadata import version  # not numba itself: importing it takes 0.5 s

    text = f"{source(program)}\n{version('numba')} {np.__version__} {sys.version}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def declines(program: Program) -> str | None:
    """Why this backend cannot run the program (one line), or None."""
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed (pip install 'agrad[fast]')"
    if len(program.code) > MAX_STEPS:
        return f"{len(program.code):,} steps > MAX_STEPS = {MAX_STEPS:,} (compile time)"
    unknown = [n for n, _, _ in program.code if n not in STEPS and not hasattr(np, n)]
    return f"no implementation of step {unknown[0]!r}" if unknown else None


_LOADED: dict[str, object] = {}


def compiled(program: Program):
    """The kernel function: from this process, from the disk cache, or compiled now."""
    return load(f"k{key(program)}", source(program)).kernel


def load(name: str, text: str):
    """Import generated kernel source `text` as module `name`, written to the cache folder
    first (numba's `cache=True` keeps the machine code beside it)."""
    if name in _LOADED:
        return _LOADED[name]
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    if not path.exists() or path.read_text() != text:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"agrad_{name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  # numba's cache looks it up
    spec.loader.exec_module(module)  # type: ignore[union-attr]  # agrad's own generated file
    _LOADED[name] = module
    return module


class Runner:
    """`Plan.run_batch` on the fused kernel: rows split across the plan's threads."""

    def __init__(self, program: Program):
        self.kernel = compiled(program)
        self.slots = [p for p, r in enumerate(program.outputs) if type(r) is int]

    def __call__(self, columns: list[np.ndarray], results: list[np.ndarray], start, stop):
        """Fill rows start:stop of `results` (constants are already filled)."""
        ins = [c if plain(c) else np.array(c, dtype=np.float64) for c in columns]
        self.kernel(start, stop, *ins, *[results[p] for p in self.slots])

    def warm(self, n_inputs: int) -> None:
        """Compile (or load) now, on one row, so the first block's timing is the run's."""
        ones = [np.ones(1) for _ in range(n_inputs)]
        self.kernel(0, 1, *ones, *[np.empty(1) for _ in self.slots])


def plain(c: np.ndarray) -> bool:
    """One kernel signature: contiguous, writable float64 columns (others are copied)."""
    return c.dtype == np.float64 and c.flags.c_contiguous and c.flags.writeable


def runner(program: Program) -> Runner:
    """The backend's entry: a callable filling a plan's results."""
    run = Runner(program)
    run.warm(len(program.inputs))
    return run
