"""One point in about a microsecond: a plan's steps as a generated Python function on floats.

The source is the compiled module's own `_point` (plan_source.py): straight-line code with
Python's operators, `math` and the NumPy kernels the Python-float path uses, plus copies of the
helper functions it calls. It is made from the plan's program alone (numbers as their repr,
names of its own), so no text from a formula file reaches it; compiling it is running agrad's
own generated code.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np

from ..engines.plan import Plan
from .plan_source import _point_source

FALLBACK = (ArithmeticError, ValueError)  # where Python raises, NumPy gives nan or inf


def point_function(plan: Plan) -> Callable[..., list]:
    """`f(x0, x1, ...)` in the plan's input order -> a flat list: each output's value, then its
    gradient in input order. Raises ArithmeticError or ValueError where NumPy would give a nan
    or inf (use `plan.run` there); TypeError if a step has no Python-float counterpart."""
    sources: dict[str, str] = {}
    lines = _point_source(plan, sources)
    if lines[1].strip() == "return None":
        raise TypeError("a step of this plan has no Python-float counterpart; use plan.run")
    text = "\n".join([*sources.values(), *lines])
    space: dict = {"np": np, "math": math, "operator": operator}
    exec(compile(text, "<agrad point function>", "exec"), space)  # agrad's own generated code
    return space["_point"]
