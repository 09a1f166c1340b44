"""Python-float counterparts of the NumPy ufuncs a traced program uses, and the program as
(function, out, i, j, k) steps over one list of values: one point without NumPy's per-call
overhead (plan.py, scalar.py).

Arithmetic, comparisons, sqrt and the like are exact in IEEE arithmetic, so Python's own
operators give NumPy's bits. Transcendental functions are not: NumPy has its own kernels
(SIMD ones, on many CPUs) that can differ from the C library's in the last bit, which an
ill-conditioned formula then amplifies. So they call NumPy's ufunc on the float, and the
answer at one point is the NumPy engine's, bit for bit, whichever path runs. Where Python's
math would raise (a result that is nan or inf), these raise too, so callers fall back to the
NumPy rule for that node exactly as before; a guard on the argument raises before NumPy
would warn (log of zero, exp that overflows), so no np.errstate is needed on this fast path.
"""

from __future__ import annotations

import math
import operator
from functools import partial

import numpy as np

from .tracer import Program


def _checked(r) -> float:
    """A NumPy scalar result as a Python float; nan or inf raises, as Python's math does."""
    r = float(r)
    if r - r != 0.0:
        raise ArithmeticError("not finite")
    return r


# NumPy's kernels called on one float: the closed range of arguments on which each gives a
# finite result without a warning (nan, inf and anything outside raise before NumPy is called).
_MAX = 1.7976931348623157e308
_KERNEL_DOMAIN = {
    "sin": (-_MAX, _MAX), "cos": (-_MAX, _MAX), "tan": (-_MAX, _MAX),
    "arcsin": (-1.0, 1.0), "arccos": (-1.0, 1.0), "arctan": (-_MAX, _MAX),
    "sinh": (-709.0, 709.0), "cosh": (-709.0, 709.0), "tanh": (-_MAX, _MAX),
    "arcsinh": (-_MAX, _MAX), "arccosh": (1.0, 1e308),
    "arctanh": (-0.9999999999999999, 0.9999999999999999),
    "exp": (-_MAX, 709.0), "expm1": (-_MAX, 709.0), "exp2": (-_MAX, 1023.0),
    "log": (5e-324, _MAX), "log2": (5e-324, _MAX), "log10": (5e-324, _MAX),
    "log1p": (-0.9999999999999999, _MAX), "cbrt": (-_MAX, _MAX),
    "hypot": (-1e300, 1e300), "arctan2": (-_MAX, _MAX), "logaddexp": (-_MAX, _MAX),
}  # fmt: skip


def _kernel(f, lo: float, hi: float, x: float) -> float:
    """NumPy's kernel `f` on a float; raises outside [lo, hi], as Python's math does."""
    if not lo <= x <= hi:  # nan, inf or out of range: the NumPy rule decides
        raise ValueError("math domain error")
    return _checked(f(x))


def _kernel2(f, lo: float, hi: float, x: float, y: float) -> float:
    """NumPy's two-argument kernel `f` on floats; raises outside [lo, hi]."""
    if not (lo <= x <= hi and lo <= y <= hi):  # nan, inf or out of range
        raise ValueError("math domain error")
    return _checked(f(x, y))


def _sign(x: float) -> float:
    return math.nan if x != x else float((x > 0) - (x < 0))


def _maximum(x: float, y: float) -> float:
    return x if x != x or x > y else y  # a tie (0 and -0) gives y, as NumPy does


def _minimum(x: float, y: float) -> float:
    return x if x != x or x < y else y


def _square(x: float) -> float:
    return x * x


def _reciprocal(x: float) -> float:
    return 1.0 / x


def _choose(cond, yes: float, no: float) -> float:
    return yes if cond else no


def _power(x: float, y: float) -> float:
    if x - x != 0.0 or y - y != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    math.pow(x, y)  # raises where NumPy would warn (a domain error, overflow)
    return _checked(np.power(x, y))


def _floor(x: float) -> float:
    return math.copysign(float(math.floor(x)), x)  # floor(-0.0) is -0.0, as in NumPy


def _ceil(x: float) -> float:
    return math.copysign(float(math.ceil(x)), x)  # ceil(-0.5) is -0.0


def _rint(x: float) -> float:
    return math.copysign(float(round(x)), x)  # halves to even; rint(-0.4) is -0.0


def _remainder(x: float, y: float) -> float:
    """x % y with the sign of y, by NumPy's kernel; y = 0 raises, as Python's % does."""
    if y == 0.0 or not (math.isfinite(x) and math.isfinite(y)):  # NumPy decides those
        raise ZeroDivisionError("float modulo")
    return _checked(np.remainder(x, y))


# Python-float counterparts of the ufuncs a program may use (one point at a time).
SCALAR = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "power": _power, "negative": operator.neg,
    "square": _square, "reciprocal": _reciprocal, "sqrt": math.sqrt,
    "absolute": abs, "sign": _sign, "maximum": _maximum, "minimum": _minimum,
    "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge, "equal": operator.eq, "not_equal": operator.ne,
    "bitwise_and": operator.and_, "bitwise_or": operator.or_, "invert": operator.not_,
    "where": _choose, "floor": _floor, "ceil": _ceil, "rint": _rint, "remainder": _remainder,
}  # fmt: skip
for _name, (_lo, _hi) in _KERNEL_DOMAIN.items():
    _ufunc = getattr(np, _name)
    SCALAR[_name] = partial(_kernel if _ufunc.nin == 1 else _kernel2, _ufunc, _lo, _hi)


def run_steps(code: list, v: list) -> None:
    """Run `scalar_code` steps over the values list `v`, in place."""
    for fn, o, i, j, k in code:
        if j < 0:
            v[o] = fn(v[i])
        elif k < 0:
            v[o] = fn(v[i], v[j])
        else:
            v[o] = fn(v[i], v[j], v[k])


def scalar_code(program: Program):
    """The steps as (function, out, i, j, k) over one list of Python values, or None."""
    if any(name not in SCALAR for name, _, _ in program.code):
        return None
    env: list = [0.0] * program.slots
    consts: dict[tuple, int] = {}

    def slot_of(ref) -> int:
        if type(ref) is int:
            return ref
        key = (type(ref), repr(ref))
        if key not in consts:
            consts[key] = len(env)
            env.append(ref)
        return consts[key]

    code = []
    for name, out, args in program.code:
        idx = [slot_of(a) for a in args] + [-1, -1]
        code.append((SCALAR[name], out, idx[0], idx[1], idx[2]))
    outs = [slot_of(r) for r in program.outputs]
    return code, env[len(program.inputs) :], outs
