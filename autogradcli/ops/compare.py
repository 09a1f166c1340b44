"""Comparisons and `where`: piecewise formulas, and the masks derivative rules are made of.

A comparison gives 1.0 where it holds and 0.0 elsewhere (a number, so it can be drawn, summed
and multiplied); `where(c, a, b)` takes `a` where `c` is not 0. Neither has a derivative with
respect to the condition: the gradient follows the branch taken, as PyTorch's does.
"""

from __future__ import annotations

import numpy as np

from . import CMP, Op, R, register


def _at_tie(tol, x, y):
    return np.abs(x - y) <= tol


def _no_vjp(g, out, x, y):
    return None, None


def _near_zero_condition(tol, c, a, b):
    """A condition close to 0 but not 0: a comparison's 0 is a branch, not a boundary."""
    return (np.abs(c) <= tol) & (c != 0)


def _where(c, a, b):
    return np.where(c != 0.0, a, b)


def _where_vjp(g, out, c, a, b):
    taken = c != 0.0
    return None, np.where(taken, g, 0.0), np.where(taken, 0.0, g)


def _where_sympy(sp, c, a, b):
    return sp.Piecewise((a, sp.Ne(c, 0)), (b, True))


def _gt(x, y):
    return np.greater(x, y) * 1.0


def _ge(x, y):
    return np.greater_equal(x, y) * 1.0


def _lt(x, y):
    return np.less(x, y) * 1.0


def _le(x, y):
    return np.less_equal(x, y) * 1.0


def _eq(x, y):
    return np.equal(x, y) * 1.0


def _ne(x, y):
    return np.not_equal(x, y) * 1.0


def _compare(name: str, forward, relation: str, sympy_relation, symbol: str | None) -> None:
    def sympy(sp, x, y):
        return sp.Piecewise((1, sympy_relation(sp, x, y)), (0, True))

    register(
        Op(name, 2, forward, _no_vjp, sympy, "0, 0", (R, R), f"1 if {relation} else 0",
           kink="jumps where x = y; the derivative is 0 on both sides", near_kink=_at_tie,
           no_grad=(0, 1), symbol=symbol, precedence=CMP)
    )  # fmt: skip


# `==` separates the two sides of an `expect` claim, so equality is written eq(x, y).
_compare("gt", _gt, "x > y", lambda sp, x, y: sp.StrictGreaterThan(x, y), ">")
_compare("ge", _ge, "x >= y", lambda sp, x, y: sp.GreaterThan(x, y), ">=")
_compare("lt", _lt, "x < y", lambda sp, x, y: sp.StrictLessThan(x, y), "<")
_compare("le", _le, "x <= y", lambda sp, x, y: sp.LessThan(x, y), "<=")
_compare("eq", _eq, "x == y", lambda sp, x, y: sp.Eq(x, y), None)
_compare("ne", _ne, "x != y", lambda sp, x, y: sp.Ne(x, y), "!=")
register(
    Op("where", 3, _where, _where_vjp, _where_sympy, "0, [c != 0], [c == 0]", (R, R, R),
       "a where c is not 0, else b (c is usually a comparison)", params=("c", "a", "b"),
       kink="jumps where c crosses 0", near_kink=_near_zero_condition,
       no_grad=(0,))
)  # fmt: skip
