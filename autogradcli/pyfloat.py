"""Python-float counterparts of the NumPy ufuncs a traced program uses, and the program as
(function, out, i, j, k) steps over one list of values: one point without NumPy's per-call
overhead (plan.py, scalar.py)."""

from __future__ import annotations

import math
import operator

import numpy as np

from .tracer import Program


def _logaddexp(x: float, y: float) -> float:
    if x == y:
        return x + math.log(2.0)
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return math.nan


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
    """NumPy's power on two floats (the kernel every other engine uses); where Python's
    pow raises (a domain error, overflow) this raises too, so callers fall back as usual."""
    math.pow(x, y)
    return float(np.power(x, y))


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
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "arcsin": math.asin,
    "arccos": math.acos, "arctan": math.atan, "sinh": math.sinh, "cosh": math.cosh,
    "tanh": math.tanh, "arcsinh": math.asinh, "arccosh": math.acosh, "arctanh": math.atanh,
    "exp": math.exp, "expm1": math.expm1, "log": math.log, "log2": math.log2,
    "log10": math.log10, "log1p": math.log1p, "cbrt": math.cbrt, "hypot": math.hypot,
    "arctan2": math.atan2, "logaddexp": _logaddexp,
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
