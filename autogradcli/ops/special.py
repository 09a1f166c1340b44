"""Special functions: gamma, lgamma, digamma, polygamma and erfc.

NumPy has no ufunc for any of them and agrad adds no dependency for them, so:

- `gamma`, `lgamma` and `erfc` map Python's `math.gamma`, `math.lgamma` and `math.erfc` over
  the elements (correctly rounded or nearly so, and slow: a Python call per element);
- `digamma` and `polygamma` are written in NumPy: the recurrence psi(x) = psi(x + 1) - 1/x
  moves every element to 12 + 2n or more, where the asymptotic series with eight Bernoulli
  numbers is good to about 1e-15; the reflection formula handles x < 0.5 for n = 0 and 1.

None of these is a chain of ufunc calls, so all five are `traceable=False`: the interpreter,
the SymPy oracle and compiled modules run them, and the plan and the Python-float path decline
them with the reason. Their derivative rules call registry ops (`call`), so the derivative of
each is a graph that can be differentiated again: lgamma' = digamma, digamma' = polygamma(x)
(n = 1, trigamma), polygamma(x, n)' = polygamma(x, n + 1).
"""

from __future__ import annotations

import math

import numpy as np

from . import POS, Op, R, call, register

# B_2, B_4, ..., B_16: the asymptotic series' coefficients.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_MAX_SHIFT = 100_000  # elements further left than this give nan (n >= 2 only)


def _each(fn, x, failed: float):
    """`fn` of each element as a float array; `failed` where Python's math raises."""

    def one(v: float) -> float:
        try:
            return fn(v)
        except ValueError:  # a pole
            return failed
        except OverflowError:
            return math.inf

    return np.asarray(np.vectorize(one, otypes=[float])(np.asarray(x, dtype=float)))


def _gamma(x):
    return _each(math.gamma, x, math.nan)


def _lgamma(x):
    return _each(math.lgamma, x, math.inf)


def _erfc(x):
    return _each(math.erfc, x, math.nan)


def _series(n: int, z):
    """psi^(n)(z) from its asymptotic series, for z >= 12 + 2n."""
    if n == 0:
        total = np.log(z) - 0.5 / z
        for k, b in enumerate(_BERNOULLI, 1):
            total = total - b / (2 * k * z ** (2 * k))
        return total
    total = math.factorial(n - 1) / z**n + math.factorial(n) / (2 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, 1):
        coef = b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
        total = total + coef / z ** (2 * k + n)
    return (-1) ** (n + 1) * total


def _shifted(n: int, x):
    """psi^(n)(x) by the recurrence up to 12 + 2n, then the series (x not a pole)."""
    z = np.array(x, dtype=float, copy=True)
    acc = np.zeros_like(z)
    scale = (-1) ** (n + 1) * math.factorial(n)
    target = 12.0 + 2 * n
    for _ in range(_MAX_SHIFT):
        low = z < target
        if not low.any():
            break
        acc[low] += -1.0 / z[low] if n == 0 else scale / z[low] ** (n + 1)
        z[low] += 1.0
    z[z < target] = math.nan  # too far left for the recurrence
    return acc + _series(n, z)


def _psi(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n) at each element of a float array; poles give inf (or nan without a sign)."""
    pole = (x <= 0) & (np.floor(x) == x)
    left = (x < 0.5) & ~pole & (n <= 1)  # reflected: psi(1 - x) is on the right
    y = np.where(pole, 1.0, np.where(left, 1.0 - x, x))
    out = _shifted(n, y)
    t = np.where(left, x, 0.25)  # no warning from elements that take the other branch
    if n == 0:
        out = np.where(left, out - np.pi / np.tan(np.pi * t), out)
        at_pole = np.where(x == 0, -math.inf, math.nan)  # PyTorch's values
    else:
        if n == 1:
            out = np.where(left, (np.pi / np.sin(np.pi * t)) ** 2 - out, out)
        at_pole = math.inf if n % 2 else math.nan
    return np.where(pole, at_pole, out)


def _polygamma(x, n=1):
    """psi^(n)(x), the n-th derivative of digamma (n = 1, trigamma, by default)."""
    x = np.asarray(x, dtype=float)
    if int(n) != n or n < 0:
        return np.full(x.shape, math.nan)
    with np.errstate(over="ignore", under="ignore"):
        out = _psi(int(n), np.atleast_1d(x))
    return out.reshape(x.shape)


def _digamma(x):
    return _polygamma(x, 0)


def _gamma_vjp(g, out, x):
    return (g * out * call("digamma", x),)


def _lgamma_vjp(g, out, x):
    return (g * call("digamma", x),)


def _digamma_vjp(g, out, x):
    return (g * call("polygamma", x),)


def _polygamma_vjp(g, out, x, n=1):
    return (g * call("polygamma", x, n=n + 1),)


def _erfc_vjp(g, out, x):
    return (g * (-2.0 / math.sqrt(math.pi)) * np.exp(-x * x),)


def _polygamma_sympy(sp, x, n=1):
    return sp.polygamma(n, x)


def _polygamma_numeric(n, x):
    return _polygamma(x, n)


_NUMERIC = {
    "gamma": _gamma,
    "loggamma": _lgamma,
    "polygamma": _polygamma_numeric,
    "erfc": _erfc,
}

# fmt: off
register(Op("gamma", 1, _gamma, _gamma_vjp, lambda sp, x: sp.gamma(x), "gamma(x)*digamma(x)",
            ((0.2, 5.0),), "gamma function (math.gamma for each element)",
            kink="poles at 0, -1, -2, ... give nan", traceable=False, sympy_numeric=_NUMERIC))
register(Op("lgamma", 1, _lgamma, _lgamma_vjp, lambda sp, x: sp.loggamma(x), "digamma(x)",
            ((0.2, 6.0),), "log|gamma(x)| (math.lgamma for each element)",
            kink="poles at 0, -1, -2, ... give inf", traceable=False, sympy_numeric=_NUMERIC))
register(Op("digamma", 1, _digamma, _digamma_vjp, lambda sp, x: sp.polygamma(0, x),
            "polygamma(x)", (POS,), "psi(x) = lgamma'(x) (series in NumPy)",
            kink="digamma(0) = -inf; nan at -1, -2, ...", traceable=False,
            sympy_numeric=_NUMERIC, conventions=(((0.0,), -math.inf, (math.inf,)),)))
register(Op("polygamma", 1, _polygamma, _polygamma_vjp, _polygamma_sympy,
            "polygamma(x, n + 1)", (POS,),
            "psi^(n)(x), digamma's n-th derivative; polygamma(x) is trigamma (n = 1), the "
            "Tensor API takes any n", kink="inf at 0, -1, -2, ... for odd n, nan for even n",
            traceable=False, sympy_numeric=_NUMERIC))
register(Op("erfc", 1, _erfc, _erfc_vjp, lambda sp, x: sp.erfc(x), "-2/sqrt(pi) exp(-x^2)",
            (R,), "1 - erf(x), accurate where erf(x) is near 1 (math.erfc for each element)",
            traceable=False, sympy_numeric=_NUMERIC))
# fmt: on
