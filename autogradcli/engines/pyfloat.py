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

import numpy as np

from .tracer import Program


def _checked(r) -> float:
    """A NumPy scalar result as a Python float; nan or inf raises, as Python's math does."""
    r = float(r)
    if r - r != 0.0:
        raise ArithmeticError("not finite")
    return r


def _sin(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.sin(x))


def _cos(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.cos(x))


def _tan(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.tan(x))


def _arcsin(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not -1.0 <= x <= 1.0:
        raise ValueError("math domain error")
    return _checked(np.arcsin(x))


def _arccos(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not -1.0 <= x <= 1.0:
        raise ValueError("math domain error")
    return _checked(np.arccos(x))


def _arctan(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.arctan(x))


def _sinh(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if abs(x) > 709.0:
        raise OverflowError("math range error")
    return _checked(np.sinh(x))


def _cosh(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if abs(x) > 709.0:
        raise OverflowError("math range error")
    return _checked(np.cosh(x))


def _tanh(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.tanh(x))


def _arcsinh(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.arcsinh(x))


def _arccosh(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not x >= 1.0:
        raise ValueError("math domain error")
    return _checked(np.arccosh(x))


def _arctanh(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not -1.0 < x < 1.0:
        raise ValueError("math domain error")
    return _checked(np.arctanh(x))


def _exp(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if x > 709.0:
        raise OverflowError("math range error")
    return _checked(np.exp(x))


def _expm1(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if x > 709.0:
        raise OverflowError("math range error")
    return _checked(np.expm1(x))


def _log(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not x > 0.0:
        raise ValueError("math domain error")
    return _checked(np.log(x))


def _log2(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not x > 0.0:
        raise ValueError("math domain error")
    return _checked(np.log2(x))


def _log10(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not x > 0.0:
        raise ValueError("math domain error")
    return _checked(np.log10(x))


def _log1p(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if not x > -1.0:
        raise ValueError("math domain error")
    return _checked(np.log1p(x))


def _cbrt(x: float) -> float:
    if x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.cbrt(x))


def _hypot(x: float, y: float) -> float:
    if x - x != 0.0 or y - y != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    if abs(x) > 1e300 or abs(y) > 1e300:
        raise OverflowError("math range error")
    return _checked(np.hypot(x, y))


def _arctan2(y: float, x: float) -> float:
    if y - y != 0.0 or x - x != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.arctan2(y, x))


def _logaddexp(x: float, y: float) -> float:
    if x - x != 0.0 or y - y != 0.0:  # nan or inf: the NumPy rule decides
        raise ValueError("not finite")
    return _checked(np.logaddexp(x, y))


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
    return float(math.floor(x))


# Python-float counterparts of the ufuncs a program may use (one point at a time).
SCALAR = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "power": _power, "negative": operator.neg,
    "square": _square, "reciprocal": _reciprocal, "sqrt": math.sqrt,
    "absolute": abs, "sign": _sign, "maximum": _maximum, "minimum": _minimum,
    "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge, "equal": operator.eq, "not_equal": operator.ne,
    "bitwise_and": operator.and_, "bitwise_or": operator.or_, "invert": operator.not_,
    "where": _choose, "floor": _floor,
    "sin": _sin, "cos": _cos, "tan": _tan, "arcsin": _arcsin, "arccos": _arccos,
    "arctan": _arctan, "sinh": _sinh, "cosh": _cosh, "tanh": _tanh, "arcsinh": _arcsinh,
    "arccosh": _arccosh, "arctanh": _arctanh, "exp": _exp, "expm1": _expm1, "log": _log,
    "log2": _log2, "log10": _log10, "log1p": _log1p, "cbrt": _cbrt, "hypot": _hypot,
    "arctan2": _arctan2, "logaddexp": _logaddexp,
}  # fmt: skip


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
