"""Elementwise functions of one and two arguments."""

from __future__ import annotations

import math

import numpy as np

from . import POS, UNIT, Op, R, register

INF = float("inf")


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


def _relu(x):
    return np.maximum(x, 0.0)


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


def _cbrt_sympy(sp, x):
    return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)


def _at_zero(tol, x):
    return np.abs(x) <= tol


def _at_tie(tol, x, y):
    return np.abs(x - y) <= tol


def _at_origin(tol, x, y):
    return np.hypot(x, y) <= tol


def _atan2_cut(tol, y, x):
    return (np.hypot(x, y) <= tol) | ((np.abs(y) <= tol) & (x < 0))


def _erf(x):
    return np.asarray(np.vectorize(math.erf, otypes=[float])(x), dtype=float)


def _erf_vjp(g, out, x):
    return (g * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x),)


def _unary(name, fwd, vjp, sympy, derivative, domain=R, doc="", **kw) -> None:
    register(Op(name, 1, fwd, vjp, sympy, derivative, (domain,), doc, **kw))


def _binary(name, fwd, vjp, sympy, derivative, doc="", **kw) -> None:
    register(Op(name, 2, fwd, vjp, sympy, derivative, (R, R), doc, **kw))


# fmt: off
_unary("sin", np.sin, _sin_vjp, lambda sp, x: sp.sin(x), "cos(x)", doc="sine")
_unary("cos", np.cos, _cos_vjp, lambda sp, x: sp.cos(x), "-sin(x)", doc="cosine")
_unary("tan", np.tan, _tan_vjp, lambda sp, x: sp.tan(x), "1 + tan(x)^2", (-1.2, 1.2), "tangent")
_unary("asin", np.arcsin, _asin_vjp, lambda sp, x: sp.asin(x), "1/sqrt(1 - x^2)", UNIT,
       "inverse sine")
_unary("acos", np.arccos, _acos_vjp, lambda sp, x: sp.acos(x), "-1/sqrt(1 - x^2)", UNIT,
       "inverse cosine")
_unary("atan", np.arctan, _atan_vjp, lambda sp, x: sp.atan(x), "1/(1 + x^2)",
       doc="inverse tangent")
_unary("erf", _erf, _erf_vjp, lambda sp, x: sp.erf(x), "2/sqrt(pi) exp(-x^2)",
       doc="error function (math.erf: no NumPy ufunc, so the interpreter runs it)",
       traceable=False, sympy_numeric={"erf": np.vectorize(math.erf, otypes=[float])})
_unary("sinh", np.sinh, _sinh_vjp, lambda sp, x: sp.sinh(x), "cosh(x)", doc="hyperbolic sine")
_unary("cosh", np.cosh, _cosh_vjp, lambda sp, x: sp.cosh(x), "sinh(x)", doc="hyperbolic cosine")
_unary("tanh", np.tanh, _tanh_vjp, lambda sp, x: sp.tanh(x), "1 - tanh(x)^2",
       doc="hyperbolic tangent")
_unary("asinh", np.arcsinh, _asinh_vjp, lambda sp, x: sp.asinh(x), "1/sqrt(x^2 + 1)",
       doc="inverse hyperbolic sine")
_unary("acosh", np.arccosh, _acosh_vjp, lambda sp, x: sp.acosh(x), "1/sqrt(x^2 - 1)",
       (1.1, 4.0), "inverse hyperbolic cosine")
_unary("atanh", np.arctanh, _atanh_vjp, lambda sp, x: sp.atanh(x), "1/(1 - x^2)", UNIT,
       "inverse hyperbolic tangent")
_unary("exp", np.exp, _exp_vjp, lambda sp, x: sp.exp(x), "exp(x)", doc="e^x")
_unary("log", np.log, _log_vjp, lambda sp, x: sp.log(x), "1/x", POS, "natural logarithm")
_unary("log2", np.log2, _log2_vjp, lambda sp, x: sp.log(x, 2), "1/(x*log(2))", POS,
       "base-2 logarithm")
_unary("log10", np.log10, _log10_vjp, lambda sp, x: sp.log(x, 10), "1/(x*log(10))", POS,
       "base-10 logarithm")
_unary("log1p", np.log1p, _log1p_vjp, lambda sp, x: sp.log(1 + x), "1/(1 + x)", (-0.9, 3.0),
       "log(1 + x), accurate near 0", torch_name="Log1PBackward0")
_unary("expm1", np.expm1, _expm1_vjp, lambda sp, x: sp.exp(x) - 1, "exp(x)",
       doc="exp(x) - 1, accurate near 0")
_unary("sqrt", np.sqrt, _sqrt_vjp, lambda sp, x: sp.sqrt(x), "1/(2*sqrt(x))", POS,
       "square root", kink="sqrt'(0) = inf", conventions=(((0.0,), 0.0, (INF,)),))
_unary("cbrt", np.cbrt, _cbrt_vjp, _cbrt_sympy, "1/(3*cbrt(x)^2)", (0.1, 4.0),
       "real cube root", kink="cbrt'(0) = inf",
       conventions=(((0.0,), 0.0, (INF,)), ((-8.0,), -2.0, (1 / 12,))))
_unary("abs", np.abs, _abs_vjp, lambda sp, x: sp.Abs(x), "sign(x)", doc="absolute value",
       kink="abs'(0) = 0", near_kink=_at_zero, conventions=(((0.0,), 0.0, (0.0,)),))
_unary("sign", np.sign, _sign_vjp, lambda sp, x: sp.sign(x), "0", doc="sign: -1, 0 or 1",
       kink="sign' = 0 everywhere, 0 included", near_kink=_at_zero,
       conventions=(((0.0,), 0.0, (0.0,)), ((-2.0,), -1.0, (0.0,))))
_unary("relu", _relu, _relu_vjp, lambda sp, x: sp.Max(0, x), "1 if x > 0 else 0",
       doc="max(x, 0)", kink="relu'(0) = 0", near_kink=_at_zero,
       conventions=(((0.0,), 0.0, (0.0,)),))
_unary("sigmoid", _sigmoid, _sigmoid_vjp, lambda sp, x: 1 / (1 + sp.exp(-x)),
       "sigmoid(x)*(1 - sigmoid(x))", doc="logistic function 1/(1 + e^-x)")
_unary("softplus", _softplus, _softplus_vjp, lambda sp, x: sp.log(1 + sp.exp(x)),
       "sigmoid(x)", doc="log(1 + e^x), computed stably")

_binary("atan2", np.arctan2, _atan2_vjp, lambda sp, y, x: sp.atan2(y, x),
        "x/(x^2 + y^2), -y/(x^2 + y^2)", "angle of the point (x, y): atan2(y, x)",
        kink="undefined at (0, 0); jumps across y = 0 for x < 0", near_kink=_atan2_cut,
        params=("y", "x"))
_binary("hypot", np.hypot, _hypot_vjp, lambda sp, x, y: sp.sqrt(x**2 + y**2),
        "x/hypot(x, y), y/hypot(x, y)", "sqrt(x^2 + y^2) without overflow",
        kink="not differentiable at (0, 0)", near_kink=_at_origin, commutative=True)
_binary("max", np.maximum, _max_vjp, lambda sp, x, y: sp.Max(x, y), "[x > y], [y > x]",
        "larger of x and y", kink="at a tie each side gets half the gradient",
        near_kink=_at_tie, conventions=(((1.0, 1.0), 1.0, (0.5, 0.5)),), commutative=True,
        torch_name="MaximumBackward0")
_binary("min", np.minimum, _min_vjp, lambda sp, x, y: sp.Min(x, y), "[x < y], [y < x]",
        "smaller of x and y", kink="at a tie each side gets half the gradient",
        near_kink=_at_tie, conventions=(((1.0, 1.0), 1.0, (0.5, 0.5)),), commutative=True,
        torch_name="MinimumBackward0")
# fmt: on
