"""Elementwise functions of one and two arguments."""

from __future__ import annotations

import math

import numpy as np

from . import POS, UNIT, Op, R, register

INF = float("inf")
LN2 = math.log(2.0)
DEGREES = 180.0 / math.pi  # as np.degrees multiplies
RADIANS = math.pi / 180.0  # as np.radians multiplies
# sinc'(x) = SINC_1 x + SINC_3 x^3 + SINC_5 x^5 + O(x^7)
SINC_1, SINC_3, SINC_5 = -(math.pi**2) / 3, math.pi**4 / 30, -(math.pi**6) / 840


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


def _exp2_vjp(g, out, x):
    return (g * out * LN2,)


def _degrees(x):
    return x * DEGREES


def _degrees_vjp(g, out, x):
    return (g * DEGREES,)


def _radians(x):
    return x * RADIANS


def _radians_vjp(g, out, x):
    return (g * RADIANS,)


def _flat_vjp(g, out, x):
    return (np.zeros_like(g),)


def _at_whole(tol, x):
    return np.abs(x - np.rint(x)) <= tol


def _at_half(tol, x):
    return np.abs(np.abs(x - np.floor(x)) - 0.5) <= tol


def _sinc(x):
    """sin(pi x)/(pi x), 1 at 0: NumPy's np.sinc, written in ufuncs so the plan can run it."""
    y = np.pi * np.where(x == 0, 1.0e-20, x)
    return np.sin(y) / y


def _sinc_vjp(g, out, x):
    """(cos(pi x) - sinc(x))/x, and its Taylor series within 1e-3 of 0 (where the difference
    cancels), so the recorded graph's derivatives at 0 are the true ones."""
    x2 = x * x
    series = x * (SINC_1 + x2 * (SINC_3 + x2 * SINC_5))
    near = np.abs(x) < 1e-3
    far = (np.cos(np.pi * x) - out) / np.where(near, 1.0, x)
    return (g * np.where(near, series, far),)


def _logaddexp_vjp(g, out, x, y):
    return g * np.exp(x - out), g * np.exp(y - out)


def _clip(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _clip_vjp(g, out, x, lo, hi):
    """PyTorch's clamp: x gets the gradient inside [lo, hi], bounds included; lo where x is
    below it (and lo < hi); hi where x is above it, or everywhere when hi < lo."""
    inside = (x >= lo) & (x <= hi)
    below = (x < lo) & (lo < hi)
    return (np.where(inside, g, 0.0), np.where(below, g, 0.0),
            np.where(x > hi, g, np.where(hi < lo, g, 0.0)))  # fmt: skip


def _at_bounds(tol, x, lo, hi):
    return (np.abs(x - lo) <= tol) | (np.abs(x - hi) <= tol) | (np.abs(lo - hi) <= tol)


def _flat_sympy(sp, base: str, name: str, numeric=None):
    """SymPy's `base` function with derivative 0 (agrad's convention, as PyTorch's)."""
    key = (base, name)
    if key not in _FLAT:
        _FLAT[key] = type(name, (getattr(sp, base),), {"fdiff": _zero_fdiff})
    return _FLAT[key]


def _zero_fdiff(self, argindex=1):
    from sympy import S

    return S.Zero


_FLAT: dict = {}


def _round_sympy(sp, x):
    return _flat_sympy(sp, "Function", "round")(x)


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

_unary("exp2", np.exp2, _exp2_vjp, lambda sp, x: 2**x, "2^x*log(2)", doc="2^x")
_unary("degrees", _degrees, _degrees_vjp, lambda sp, x: x * 180 / sp.pi, "180/pi",
       doc="radians to degrees", torch_name="Rad2DegBackward0")
_unary("radians", _radians, _radians_vjp, lambda sp, x: x * sp.pi / 180, "pi/180",
       doc="degrees to radians", torch_name="Deg2RadBackward0")
_unary("floor", np.floor, _flat_vjp, lambda sp, x: _flat_sympy(sp, "floor", "floor")(x), "0",
       doc="largest whole number <= x", kink="floor' = 0 everywhere, jumps included (PyTorch)",
       near_kink=_at_whole, conventions=(((2.0,), 2.0, (0.0,)), ((-0.5,), -1.0, (0.0,))))
_unary("ceil", np.ceil, _flat_vjp, lambda sp, x: _flat_sympy(sp, "ceiling", "ceil")(x), "0",
       doc="smallest whole number >= x", kink="ceil' = 0 everywhere, jumps included (PyTorch)",
       near_kink=_at_whole, conventions=(((2.0,), 2.0, (0.0,)), ((-0.5,), -0.0, (0.0,))))
_unary("round", np.rint, _flat_vjp, _round_sympy, "0",
       doc="nearest whole number, halves to even (NumPy's and PyTorch's round)",
       kink="round' = 0 everywhere, jumps included (PyTorch)", near_kink=_at_half,
       conventions=(((0.5,), 0.0, (0.0,)), ((1.5,), 2.0, (0.0,)), ((-2.5,), -2.0, (0.0,))),
       sympy_numeric={"round": np.rint})
_unary("sinc", _sinc, _sinc_vjp, lambda sp, x: sp.sin(sp.pi * x) / (sp.pi * x),
       "(cos(pi x) - sinc(x))/x", doc="sin(pi x)/(pi x), 1 at 0 (normalised, as NumPy's)",
       kink="none: sinc'(0) = 0 and sinc''(0) = -pi^2/3, by a series near 0",
       conventions=(((0.0,), 1.0, (0.0,)),))
_binary("logaddexp", np.logaddexp, _logaddexp_vjp,
        lambda sp, x, y: sp.log(sp.exp(x) + sp.exp(y)), "exp(x - out), exp(y - out)",
        "log(e^x + e^y) without overflow", commutative=True)
register(Op("clip", 3, _clip, _clip_vjp, lambda sp, x, lo, hi: sp.Min(sp.Max(x, lo), hi),
            "[lo <= x <= hi], [x < lo < hi], [x > hi or hi < lo]",
            (R, (-2.0, -0.5), (0.5, 2.0)), "x limited to [lo, hi] (hi wins when lo > hi)",
            params=("x", "lo", "hi"), near_kink=_at_bounds, torch_name="ClampBackward0",
            kink="at a bound x gets the gradient, the bound none (PyTorch's clamp)",
            conventions=(((0.0, 0.0, 1.0), 0.0, (1.0, 0.0, 0.0)),
                         ((1.0, 0.0, 1.0), 1.0, (1.0, 0.0, 0.0)),
                         ((-1.0, 0.0, 1.0), 0.0, (0.0, 1.0, 0.0)),
                         ((0.5, 2.0, 1.0), 1.0, (0.0, 0.0, 1.0)))))
# fmt: on
