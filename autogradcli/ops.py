"""The op registry: every primitive is one record, and everything else reads it.

A VJP has the signature ``vjp(g, out, *inputs, **attrs)`` and returns one entry per input
(``None`` for "no gradient"). It multiplies the incoming gradient ``g`` by its own local
partial and nothing more; the engine applies the chain rule and undoes broadcasting.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# Arithmetic uses Python's operators: identical to the ufuncs on arrays, and about ten times
# faster on the NumPy scalars that a graph of scalars passes around.

# Binding strength, loosest to tightest.
ADD, MUL, UNARY, POW, ATOM = 1, 2, 3, 4, 5

CONSTANTS = {"pi": math.pi, "e": math.e}


@dataclass(frozen=True)
class Op:
    """Everything about one primitive, side by side."""

    name: str
    arity: int
    forward: Callable[..., Any]
    vjp: Callable[..., tuple]
    sympy: Callable[..., Any]
    derivative: str
    domain: tuple[tuple[float, float], ...]
    doc: str
    symbol: str | None = None
    precedence: int = ATOM
    kink: str = ""
    kind: str = "elementwise"
    shapes: tuple[tuple[int, ...], ...] | None = None

    @property
    def syntax(self) -> str:
        """How the op is written in an expression file."""
        args = "xyz"[: self.arity] if self.arity <= 3 else "..."
        if self.symbol and self.arity == 2:
            return f"x {self.symbol} y"
        if self.symbol:
            return f"{self.symbol}x"
        return f"{self.name}({', '.join(args)})"


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry."""
    REGISTRY[op.name] = op
    return op


R = (-3.0, 3.0)
POS = (0.1, 4.0)
UNIT = (-0.9, 0.9)


def _unary(name, forward, vjp, sympy, derivative, domain=R, doc="", kink="") -> None:
    register(Op(name, 1, forward, vjp, sympy, derivative, (domain,), doc, kink=kink))


def _binary(name, forward, vjp, sympy, derivative, domain=(R, R), doc="", **kw) -> None:
    register(Op(name, 2, forward, vjp, sympy, derivative, domain, doc, **kw))


# --- arithmetic -------------------------------------------------------------------------


def _add_vjp(g, out, x, y):
    return g, g


def _sub_vjp(g, out, x, y):
    return g, -g


def _mul_vjp(g, out, x, y):
    return g * y, g * x


def _div_vjp(g, out, x, y):
    return g / y, -g * out / y


def _pow_vjp(g, out, x, y):
    dx = np.where(y == 0, 0.0, y * np.power(x, y - 1.0))
    dy = np.where((x == 0) & (y > 0), 0.0, out * np.log(x))
    return g * dx, g * dy


def _neg_vjp(g, out, x):
    return (-g,)


def _matmul_vjp(g, out, x, y):
    if x.ndim == 1 and y.ndim == 1:
        return g * y, g * x
    if x.ndim == 1:
        g2 = np.expand_dims(g, -2)
        return (g2 @ np.swapaxes(y, -1, -2))[..., 0, :], np.expand_dims(x, -1) * g2
    if y.ndim == 1:
        g2 = np.expand_dims(g, -1)
        return g2 * y, (np.swapaxes(x, -1, -2) @ g2)[..., 0]
    return g @ np.swapaxes(y, -1, -2), np.swapaxes(x, -1, -2) @ g


def _matmul_sympy(sp, x, y):
    return x @ y


_binary(
    "add",
    operator.add,
    _add_vjp,
    lambda sp, x, y: x + y,
    "1, 1",
    doc="sum",
    symbol="+",
    precedence=ADD,
)
_binary(
    "sub",
    operator.sub,
    _sub_vjp,
    lambda sp, x, y: x - y,
    "1, -1",
    doc="difference",
    symbol="-",
    precedence=ADD,
)
_binary(
    "mul",
    operator.mul,
    _mul_vjp,
    lambda sp, x, y: x * y,
    "y, x",
    doc="product",
    symbol="*",
    precedence=MUL,
)
_binary(
    "div",
    operator.truediv,
    _div_vjp,
    lambda sp, x, y: x / y,
    "1/y, -x/y^2",
    doc="quotient",
    domain=(R, (0.5, 3.0)),
    symbol="/",
    precedence=MUL,
)
_binary(
    "pow",
    operator.pow,
    _pow_vjp,
    lambda sp, x, y: x**y,
    "y*x^(y-1), x^y*log(x)",
    domain=(POS, R),
    doc="power (also written pow(x, y) or x ** y)",
    symbol="^",
    precedence=POW,
    kink="0^0 = 1; d/dx x^0 = 0; d/dy x^y = 0 at x = 0, y > 0",
)
_binary(
    "matmul",
    np.matmul,
    _matmul_vjp,
    _matmul_sympy,
    "g @ y^T, x^T @ g",
    doc="matrix product",
    symbol="@",
    precedence=MUL,
    kind="linalg",
    shapes=((2, 3), (3, 2)),
)
register(
    Op(
        "neg",
        1,
        operator.neg,
        _neg_vjp,
        lambda sp, x: -x,
        "-1",
        (R,),
        "negation",
        symbol="-",
        precedence=UNARY,
    )
)

# --- elementwise functions --------------------------------------------------------------


def _sin_vjp(g, out, x):
    return (g * np.cos(x),)


def _cos_vjp(g, out, x):
    return (-g * np.sin(x),)


def _tan_vjp(g, out, x):
    return (g * (1.0 + out * out),)


def _asin_vjp(g, out, x):
    return (g / np.sqrt(1.0 - x * x),)


def _acos_vjp(g, out, x):
    return (-g / np.sqrt(1.0 - x * x),)


def _atan_vjp(g, out, x):
    return (g / (1.0 + x * x),)


def _sinh_vjp(g, out, x):
    return (g * np.cosh(x),)


def _cosh_vjp(g, out, x):
    return (g * np.sinh(x),)


def _tanh_vjp(g, out, x):
    return (g * (1.0 - out * out),)


def _asinh_vjp(g, out, x):
    return (g / np.sqrt(x * x + 1.0),)


def _acosh_vjp(g, out, x):
    return (g / np.sqrt(x * x - 1.0),)


def _atanh_vjp(g, out, x):
    return (g / (1.0 - x * x),)


def _exp_vjp(g, out, x):
    return (g * out,)


def _log_vjp(g, out, x):
    return (g / x,)


def _log2_vjp(g, out, x):
    return (g / (x * math.log(2.0)),)


def _log10_vjp(g, out, x):
    return (g / (x * math.log(10.0)),)


def _log1p_vjp(g, out, x):
    return (g / (1.0 + x),)


def _expm1_vjp(g, out, x):
    return (g * (out + 1.0),)


def _sqrt_vjp(g, out, x):
    return (g * 0.5 / out,)


def _cbrt_vjp(g, out, x):
    return (g / (3.0 * out * out),)


def _abs_vjp(g, out, x):
    return (g * np.sign(x),)


def _sign_vjp(g, out, x):
    return (np.zeros_like(g),)


def _relu_vjp(g, out, x):
    return (g * (x > 0),)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _sigmoid_vjp(g, out, x):
    return (g * out * (1.0 - out),)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _softplus_vjp(g, out, x):
    return (g * _sigmoid(x),)


def _relu(x):
    return np.maximum(x, 0.0)


def _cbrt_sympy(sp, x):
    return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)


_unary("sin", np.sin, _sin_vjp, lambda sp, x: sp.sin(x), "cos(x)", doc="sine")
_unary("cos", np.cos, _cos_vjp, lambda sp, x: sp.cos(x), "-sin(x)", doc="cosine")
_unary("tan", np.tan, _tan_vjp, lambda sp, x: sp.tan(x), "1 + tan(x)^2", (-1.2, 1.2), "tangent")
_unary(
    "asin", np.arcsin, _asin_vjp, lambda sp, x: sp.asin(x), "1/sqrt(1 - x^2)", UNIT, "inverse sine"
)
_unary(
    "acos",
    np.arccos,
    _acos_vjp,
    lambda sp, x: sp.acos(x),
    "-1/sqrt(1 - x^2)",
    UNIT,
    "inverse cosine",
)
_unary("atan", np.arctan, _atan_vjp, lambda sp, x: sp.atan(x), "1/(1 + x^2)", doc="inverse tangent")
_unary("sinh", np.sinh, _sinh_vjp, lambda sp, x: sp.sinh(x), "cosh(x)", doc="hyperbolic sine")
_unary("cosh", np.cosh, _cosh_vjp, lambda sp, x: sp.cosh(x), "sinh(x)", doc="hyperbolic cosine")
_unary(
    "tanh", np.tanh, _tanh_vjp, lambda sp, x: sp.tanh(x), "1 - tanh(x)^2", doc="hyperbolic tangent"
)
_unary(
    "asinh",
    np.arcsinh,
    _asinh_vjp,
    lambda sp, x: sp.asinh(x),
    "1/sqrt(x^2 + 1)",
    doc="inverse hyperbolic sine",
)
_unary(
    "acosh",
    np.arccosh,
    _acosh_vjp,
    lambda sp, x: sp.acosh(x),
    "1/sqrt(x^2 - 1)",
    (1.1, 4.0),
    "inverse hyperbolic cosine",
)
_unary(
    "atanh",
    np.arctanh,
    _atanh_vjp,
    lambda sp, x: sp.atanh(x),
    "1/(1 - x^2)",
    UNIT,
    "inverse hyperbolic tangent",
)
_unary("exp", np.exp, _exp_vjp, lambda sp, x: sp.exp(x), "exp(x)", doc="e^x")
_unary("log", np.log, _log_vjp, lambda sp, x: sp.log(x), "1/x", POS, "natural logarithm")
_unary(
    "log2", np.log2, _log2_vjp, lambda sp, x: sp.log(x, 2), "1/(x*log(2))", POS, "base-2 logarithm"
)
_unary(
    "log10",
    np.log10,
    _log10_vjp,
    lambda sp, x: sp.log(x, 10),
    "1/(x*log(10))",
    POS,
    "base-10 logarithm",
)
_unary(
    "log1p",
    np.log1p,
    _log1p_vjp,
    lambda sp, x: sp.log(1 + x),
    "1/(1 + x)",
    (-0.9, 3.0),
    "log(1 + x), accurate near 0",
)
_unary(
    "expm1",
    np.expm1,
    _expm1_vjp,
    lambda sp, x: sp.exp(x) - 1,
    "exp(x)",
    doc="exp(x) - 1, accurate near 0",
)
_unary(
    "sqrt",
    np.sqrt,
    _sqrt_vjp,
    lambda sp, x: sp.sqrt(x),
    "1/(2*sqrt(x))",
    POS,
    "square root",
    kink="sqrt'(0) = inf",
)
_unary(
    "cbrt",
    np.cbrt,
    _cbrt_vjp,
    _cbrt_sympy,
    "1/(3*cbrt(x)^2)",
    (0.1, 4.0),
    "real cube root",
    kink="cbrt'(0) = inf",
)
_unary(
    "abs",
    np.abs,
    _abs_vjp,
    lambda sp, x: sp.Abs(x),
    "sign(x)",
    doc="absolute value",
    kink="abs'(0) = 0",
)
_unary(
    "sign",
    np.sign,
    _sign_vjp,
    lambda sp, x: sp.sign(x),
    "0",
    doc="sign: -1, 0 or 1",
    kink="sign' = 0 everywhere, 0 included",
)
_unary(
    "relu",
    _relu,
    _relu_vjp,
    lambda sp, x: sp.Max(0, x),
    "1 if x > 0 else 0",
    doc="max(x, 0)",
    kink="relu'(0) = 0",
)
_unary(
    "sigmoid",
    _sigmoid,
    _sigmoid_vjp,
    lambda sp, x: 1 / (1 + sp.exp(-x)),
    "sigmoid(x)*(1 - sigmoid(x))",
    doc="logistic function 1/(1 + e^-x)",
)
_unary(
    "softplus",
    _softplus,
    _softplus_vjp,
    lambda sp, x: sp.log(1 + sp.exp(x)),
    "sigmoid(x)",
    doc="log(1 + e^x), computed stably",
)

# --- two-argument functions -------------------------------------------------------------


def _atan2_vjp(g, out, y, x):
    r2 = x * x + y * y
    return g * x / r2, -g * y / r2


def _hypot_vjp(g, out, x, y):
    return g * x / out, g * y / out


def _max_vjp(g, out, x, y):
    wx = np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0))
    return g * wx, g * (1.0 - wx)


def _min_vjp(g, out, x, y):
    wx = np.where(x < y, 1.0, np.where(x == y, 0.5, 0.0))
    return g * wx, g * (1.0 - wx)


_binary(
    "atan2",
    np.arctan2,
    _atan2_vjp,
    lambda sp, y, x: sp.atan2(y, x),
    "x/(x^2 + y^2), -y/(x^2 + y^2)",
    doc="angle of the point (x, y): atan2(y, x)",
)
_binary(
    "hypot",
    np.hypot,
    _hypot_vjp,
    lambda sp, x, y: sp.sqrt(x**2 + y**2),
    "x/hypot(x, y), y/hypot(x, y)",
    doc="sqrt(x^2 + y^2) without overflow",
)
_binary(
    "max",
    np.maximum,
    _max_vjp,
    lambda sp, x, y: sp.Max(x, y),
    "[x > y], [y > x]",
    doc="larger of x and y",
    kink="at a tie each side gets half the gradient",
)
_binary(
    "min",
    np.minimum,
    _min_vjp,
    lambda sp, x, y: sp.Min(x, y),
    "[x < y], [y < x]",
    doc="smaller of x and y",
    kink="at a tie each side gets half the gradient",
)

# --- reductions -------------------------------------------------------------------------


def _unreduce(g, x, axis, keepdims):
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))


def _sum(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g, out, x, axis=None, keepdims=False):
    return (_unreduce(g, x, axis, keepdims),)


def _mean(x, axis=None, keepdims=False):
    return np.mean(x, axis=axis, keepdims=keepdims)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    count = np.size(x) / max(np.size(out), 1)
    return (_unreduce(g, x, axis, keepdims) / count,)


def _prod_vjp(g, out, x):
    flat = np.ravel(x)
    left = np.concatenate(([1.0], np.cumprod(flat[:-1])))
    right = np.concatenate((np.cumprod(flat[::-1][:-1])[::-1], [1.0]))
    return (g * (left * right).reshape(np.shape(x)),)


def _dot(x, y):
    p = x * y
    return np.sum(p, axis=-1) if np.ndim(p) else p


def _dot_vjp(g, out, x, y):
    if np.ndim(x) or np.ndim(y):
        g = np.expand_dims(g, -1)
    return g * y, g * x


def _norm(x):
    return np.sqrt(np.sum(x * x))


def _norm_vjp(g, out, x):
    return (g * np.where(out == 0, 0.0, x / out),)


def _flat(x):
    return list(np.ravel(x)) if isinstance(x, np.ndarray) else [x]


V3 = ((3,),)
register(
    Op(
        "sum",
        1,
        _sum,
        _sum_vjp,
        lambda sp, x: sp.Add(*_flat(x)),
        "1 for each element",
        (R,),
        "sum of all elements",
        kind="reduction",
        shapes=V3,
    )
)
register(
    Op(
        "mean",
        1,
        _mean,
        _mean_vjp,
        lambda sp, x: sp.Add(*_flat(x)) / len(_flat(x)),
        "1/n for each element",
        (R,),
        "mean of all elements",
        kind="reduction",
        shapes=V3,
    )
)
register(
    Op(
        "prod",
        1,
        np.prod,
        _prod_vjp,
        lambda sp, x: sp.Mul(*_flat(x)),
        "product of the other elements",
        (R,),
        "product of all elements",
        kind="reduction",
        shapes=V3,
    )
)
register(
    Op(
        "dot",
        2,
        _dot,
        _dot_vjp,
        lambda sp, x, y: sp.Add(*_flat(x * y)),
        "y, x",
        (R, R),
        "inner product over the last axis",
        kind="reduction",
        shapes=((3,), (3,)),
    )
)
register(
    Op(
        "norm",
        1,
        _norm,
        _norm_vjp,
        lambda sp, x: sp.sqrt(sp.Add(*[v**2 for v in _flat(x)])),
        "x/norm(x)",
        (R,),
        "Euclidean norm of all elements",
        kink="norm'(0) = 0",
        kind="reduction",
        shapes=V3,
    )
)

# Names a call may use; `pow(x, y)` is the same op as `x ^ y`.
FUNCTIONS = {name: name for name, op in REGISTRY.items() if op.symbol is None}
FUNCTIONS["pow"] = "pow"
INFIX = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "^": "pow", "**": "pow"}
