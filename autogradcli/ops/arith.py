"""Arithmetic: + - * / % ^ @ and negation.

Forwards use Python's operators: identical to the ufuncs on arrays, and about ten times faster
on the NumPy scalars that a graph of scalars passes around.
"""

from __future__ import annotations

import operator

import numpy as np

from . import ADD, MUL, POS, POW, UNARY, Kind, Op, R, call, register

NAN = float("nan")


def _add_vjp(g, out, x, y):
    return g, g


def _sub_vjp(g, out, x, y):
    return g, -g


def _mul_vjp(g, out, x, y):
    return g * y, g * x


def _div_vjp(g, out, x, y, needs=(True, True)):
    return (g / y if needs[0] else None), (-g * out / y if needs[1] else None)


def power(x, y):
    """x ** y as NumPy's power ufunc computes it, for scalars and arrays alike.

    `x ** y` on NumPy scalars runs C's pow, on arrays NumPy's own kernels (SIMD on some CPUs),
    and the two can differ in the last bit; one ufunc for every kind of input keeps folded
    constants, every engine and the plan identical. A constant exponent 2, 0.5 or -1 uses
    square, sqrt or reciprocal, as `ndarray ** y` and the plan do.
    """
    if isinstance(y, (float, int, np.floating)) or (isinstance(y, np.ndarray) and y.ndim == 0):
        exponent = float(y)
        if exponent == 2.0:
            return np.square(x)
        if exponent == 0.5:
            return np.sqrt(x)
        if exponent == -1.0:
            return np.reciprocal(x)
    return np.power(x, y)


def _pow_vjp(g, out, x, y, needs=(True, True)):
    dx = dy = None
    # A number, or a recorded value that is a constant of the graph (not a traced stand-in).
    known = isinstance(y, (float, int, np.number, np.ndarray)) or getattr(y, "constant", False)
    if needs[0] and known and np.ndim(y) == 0:  # a scalar exponent: NumPy's fast powers
        exponent = float(y)
        base = x if exponent == 2.0 else power(x, exponent - 1.0)  # x^1 is x, exactly
        if exponent == 0:  # 0 at 0^0; elsewhere 0 * x^-1, signed as the general case
            dx = g * np.where(x == 0, 0.0, exponent * power(np.where(x == 0, 1.0, x), -1.0))
        else:
            dx = g * (exponent * base)
    elif needs[0]:  # 0 at 0^0; the other branch reads a base of 1 there, so neither
        zero = (x == 0) & (y == 0)  # branch's own derivative is 0 * inf
        dx = g * np.where(zero, 0.0, y * np.power(np.where(zero, 1.0, x), y - 1.0))
    if needs[1]:
        zero = (x == 0) & (y >= 0)
        dy = g * np.where(zero, 0.0, out * np.log(np.where(zero, 1.0, x)))
    return dx, dy


def _mod_vjp(g, out, x, y):
    """PyTorch's remainder: d/dx = 1, d/dy = -floor(x/y)."""
    return g, -g * call("floor", x / y)


def _mod_sympy(sp, x, y):
    from .elementwise import _flat_sympy

    return x - y * _flat_sympy(sp, "floor", "floor")(x / y)


def _mod_jump(tol, x, y):
    """x/y near a whole number (where x % y jumps), or y near 0."""
    with np.errstate(all="ignore"):
        r = np.remainder(x, y)
    return (np.abs(y) <= tol) | (np.minimum(np.abs(r), np.abs(np.abs(y) - np.abs(r))) <= tol)


def _neg_vjp(g, out, x):
    return (-g,)


def _matmul_vjp(g, out, x, y, needs=(True, True)):
    gx = gy = None
    if x.ndim == 1 and y.ndim == 1:
        gx = g * y if needs[0] else None
        gy = g * x if needs[1] else None
    elif x.ndim == 1:
        g2 = np.expand_dims(g, -2)
        gx = (g2 @ np.swapaxes(y, -1, -2))[..., 0, :] if needs[0] else None
        gy = np.expand_dims(x, -1) * g2 if needs[1] else None
    elif y.ndim == 1:
        g2 = np.expand_dims(g, -1)
        gx = g2 * y if needs[0] else None
        gy = (np.swapaxes(x, -1, -2) @ g2)[..., 0] if needs[1] else None
    else:
        gx = g @ np.swapaxes(y, -1, -2) if needs[0] else None
        gy = np.swapaxes(x, -1, -2) @ g if needs[1] else None
    return gx, gy


def _matmul_sympy(sp, x, y):
    return np.matmul(x, y)


def _pow_singular(tol, x, y):
    """A base at 0 with an exponent that is not a whole number >= 1."""
    whole = (y >= 1) & (np.floor(y) == y)
    return (np.abs(x) <= tol) & ~whole


POW_CONVENTIONS = (
    ((0.0, 0.0), 1.0, (0.0, 0.0)),
    ((0.0, 2.0), 0.0, (0.0, 0.0)),
    ((0.0, 1.0), 0.0, (1.0, 0.0)),
    ((-2.0, 3.0), -8.0, (12.0, NAN)),
    ((-3.0, 2.0), 9.0, (-6.0, NAN)),
)

# fmt: off
register(Op("add", 2, operator.add, _add_vjp, lambda sp, x, y: x + y, "1, 1", (R, R), "sum",
            symbol="+", precedence=ADD, commutative=True, left_unit=0.0, right_unit=0.0,
            saves_nothing=True))
register(Op("sub", 2, operator.sub, _sub_vjp, lambda sp, x, y: x - y, "1, -1", (R, R),
            "difference", symbol="-", precedence=ADD, right_unit=0.0, saves_nothing=True))
register(Op("mul", 2, operator.mul, _mul_vjp, lambda sp, x, y: x * y, "y, x", (R, R),
            "product", symbol="*", precedence=MUL, commutative=True, left_unit=1.0, right_unit=1.0))
register(Op("div", 2, operator.truediv, _div_vjp, lambda sp, x, y: x / y, "1/y, -x/y^2",
            (R, (0.5, 3.0)), "quotient", symbol="/", precedence=MUL, takes_needs=True,
            right_unit=1.0))
register(Op("mod", 2, np.remainder, _mod_vjp, _mod_sympy, "1, -floor(x/y)", (R, (0.5, 3.0)),
            "remainder with the sign of y, as Python's % and NumPy's mod (also mod(x, y))",
            symbol="%", precedence=MUL, torch_name="RemainderBackward0",
            kink="jumps where x/y is a whole number; d/dy there is -x/y (PyTorch's)",
            near_kink=_mod_jump, conventions=(((-1.0, 3.0), 2.0, (1.0, 1.0)),
                                              ((5.0, -3.0), -1.0, (1.0, 2.0)),
                                              ((3.0, 3.0), 0.0, (1.0, -1.0)))))
register(Op("pow", 2, power, _pow_vjp, lambda sp, x, y: x**y, "y*x^(y-1), x^y*log(x)",
            (POS, R), "power (also written pow(x, y) or x ** y)", symbol="^", precedence=POW,
            kink="0^0 = 1; d/dx x^0 = 0; d/dy x^y = 0 at x = 0, y >= 0",
            conventions=POW_CONVENTIONS, near_kink=_pow_singular, takes_needs=True, right_unit=1.0))
register(Op("matmul", 2, np.matmul, _matmul_vjp, _matmul_sympy, "g @ y^T, x^T @ g", (R, R),
            "matrix product", symbol="@", precedence=MUL, kind=Kind.LINALG,
            shapes=((2, 3), (3, 2)), takes_needs=True))
register(Op("neg", 1, operator.neg, _neg_vjp, lambda sp, x: -x, "-1", (R,), "negation",
            symbol="-", precedence=UNARY, involution=True, saves_nothing=True))
# fmt: on
