"""The native backend: the fused loop written as C, compiled by the system's C compiler into
a shared library in the cache folder and called through ctypes (no package to install; a
second process loads the library in about a millisecond).

The source is written from the program alone (slots `s<k>`, numbers as C literals), so no text
from a formula file reaches the compiler. Compiled with `-ffp-contract=off` and without
`-ffast-math`: arithmetic, comparisons and `sqrt` give NumPy's bits; transcendental steps call
the C library, within `fused.TOLERANCE` of NumPy's kernels.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .choose import cache_dir
from .fused import MATH, plain
from .tracer import Program

COMPILER = os.environ.get("CC", "cc")
FLAGS = ["-O2", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno"]
MAX_STEPS = 20_000  # the compiler's time grows with the function; longer programs decline

STEPS = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
    "divide": "{0} / {1}", "power": "pow({0}, {1})", "negative": "-{0}",
    "square": "{0} * {0}", "reciprocal": "1.0 / {0}", "absolute": "fabs({0})",
    "less": "{0} < {1}", "less_equal": "{0} <= {1}", "greater": "{0} > {1}",
    "greater_equal": "{0} >= {1}", "equal": "{0} == {1}", "not_equal": "{0} != {1}",
    "bitwise_and": "(double)((int){0} & (int){1})", "bitwise_or": "(double)((int){0} | (int){1})",
    "invert": "!{0}", "where": "{0} ? {1} : {2}",
    "maximum": "({0} != {0} || {0} > {1}) ? {0} : {1}",
    "minimum": "({0} != {0} || {0} < {1}) ? {0} : {1}",
    "sign": "agrad_sign({0})", "logaddexp": "agrad_logaddexp({0}, {1})", "cbrt": "cbrt({0})",
    "floor": "floor({0})", "ceil": "ceil({0})", "rint": "rint({0})", "exp2": "exp2({0})",
    "remainder": "agrad_remainder({0}, {1})",
}  # fmt: skip
for _name, _f in MATH.items():
    _binary = _name in ("hypot", "arctan2")
    STEPS.setdefault(_name, f"{_f}({{0}}, {{1}})" if _binary else f"{_f}({{0}})")

HEADER = """/* A fused kernel of agrad (generated; the name is a hash of this text). */
#include <math.h>

static double agrad_sign(double x) { return x != x ? x : (double)((x > 0) - (x < 0)); }

static double agrad_remainder(double a, double b) {  /* NumPy's npy_divmod, the modulus */
    double mod = fmod(a, b);
    if (!b) return mod;
    if (mod) { if ((b < 0) != (mod < 0)) mod += b; }
    else mod = copysign(0.0, b);
    return mod;
}

static double agrad_logaddexp(double x, double y) {  /* NumPy's npy_logaddexp */
    if (x == y) return x + 0.693147180559945309417232121458176568;
    double t = x - y;
    if (t > 0) return x + log1p(exp(-t));
    if (t <= 0) return y + log1p(exp(t));
    return t;
}
"""


def literal(value) -> str:
    """A constant as C source."""
    if type(value) is bool:
        return "1.0" if value else "0.0"
    if math.isfinite(value):
        return repr(float(value))
    if value != value:
        return "NAN"
    return "INFINITY" if value > 0 else "(-INFINITY)"


def source(program: Program) -> str:
    """The C text: `kernel(start, stop, in, out)` over columns of doubles, and `point(x, out)`
    for one point (the slot outputs written in order)."""
    body = _steps(program)
    slots = [r for r in program.outputs if type(r) is int]
    lines = [HEADER, "void kernel(long start, long stop, double **in, double **out) {",
             "    for (long k = start; k < stop; k++) {"]  # fmt: skip
    lines += [f"        double s{k} = in[{k}][k];" for k in range(len(program.inputs))]
    lines += [f"        {line}" for line in body]
    lines += [f"        out[{j}][k] = s{r};" for j, r in enumerate(slots)]
    lines += ["    }", "}", "", "void point(const double *x, double *out) {"]
    lines += [f"    double s{k} = x[{k}];" for k in range(len(program.inputs))]
    lines += [f"    {line}" for line in body]
    lines += [f"    out[{j}] = s{r};" for j, r in enumerate(slots)]
    return "\n".join([*lines, "}", ""])


def _steps(program: Program) -> list[str]:
    """One C statement per step."""

    def ref(r) -> str:
        return f"s{r}" if type(r) is int else literal(r)

    return [
        f"double s{out} = " + STEPS[name].format(*map(ref, args)) + ";"
        for name, out, args in program.code
    ]


def declines(program: Program) -> str | None:
    """Why this backend cannot run the program (one line), or None."""
    unknown = [n for n, _, _ in program.code if n not in STEPS]
    if unknown:
        return f"no C function for step {unknown[0]!r}"
    if len(program.code) > MAX_STEPS:
        return f"{len(program.code):,} steps > MAX_STEPS = {MAX_STEPS:,} (compile time)"
    if shutil.which(COMPILER) is None and not library_path(program).exists():
        return f"no C compiler ({COMPILER}) found"
    return None


_LOADED: dict[str, ctypes.CDLL] = {}


def library_path(program: Program) -> Path:
    """Where the program's compiled library is (or will be) kept."""
    text = source(program)
    return cache_dir() / f"n{hashlib.sha256(f'{text}{sys.platform}'.encode()).hexdigest()[:24]}.so"


def library(program: Program) -> ctypes.CDLL:
    """The compiled library: from this process, from the disk cache, or compiled now."""
    text = source(program)
    path = library_path(program)
    name, folder = path.stem, path.parent
    if name in _LOADED:
        return _LOADED[name]
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as work:
            c_file, so_file = os.path.join(work, "k.c"), os.path.join(work, "k.so")
            with open(c_file, "w") as f:
                f.write(text)
            subprocess.run([COMPILER, *FLAGS, c_file, "-o", so_file, "-lm"], check=True,
                           capture_output=True)  # fmt: skip
            os.replace(so_file, path)
    lib = ctypes.CDLL(str(path))
    lib.kernel.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    lib.kernel.restype = None
    lib.point.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.point.restype = None
    _LOADED[name] = lib
    return lib


class Runner:
    """`Plan.run_batch` on the native kernel: rows split across the plan's threads (ctypes
    releases the GIL during the call)."""

    def __init__(self, program: Program):
        self.kernel = library(program).kernel
        self.slots = [p for p, r in enumerate(program.outputs) if type(r) is int]

    def __call__(self, columns: list[np.ndarray], results: list[np.ndarray], start, stop):
        """Fill rows start:stop of `results` (constants are already filled)."""
        ins = [c if plain(c) else np.array(c, dtype=np.float64) for c in columns]
        outs = [results[p] for p in self.slots]
        pin = np.array([c.ctypes.data for c in ins] or [0], dtype=np.uintp)
        pout = np.array([o.ctypes.data for o in outs] or [0], dtype=np.uintp)
        self.kernel(start, stop, pin.ctypes.data, pout.ctypes.data)


def point_kernel(program: Program):
    """`point(x, out)` on float64 arrays: x the inputs, out the slot outputs in order."""
    point = library(program).point

    def call(x: np.ndarray, out: np.ndarray) -> None:
        point(x.ctypes.data, out.ctypes.data)

    return call


def runner(program: Program) -> Runner:
    """The backend's entry: a callable filling a plan's results."""
    return Runner(program)
