"""The generated-source backend: a plan's steps as straight-line Python on floats (about a
microsecond a point). It stays in engines/ because `Plan.function` runs it; codegen/ writes
the same source into compiled modules through these public names.

The source (`point_source`) is also the compiled module's own `_point`: Python's operators,
`math` and the NumPy kernels the Python-float path uses, plus copies of the helper functions
it calls. It is made from the plan's program alone (numbers as their repr, names of its own),
so no text from a formula file reaches it; compiling it is running agrad's own generated code.
"""

from __future__ import annotations

import builtins
import inspect
import math
import operator
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .pyfloat import SCALAR

Plan = Any  # engines/plan.py's Plan, which imports this module when asked for its function


def literal(value: float | bool) -> str:
    """A constant as Python source: repr for finite numbers, float('...') for nan and inf."""
    if type(value) is bool or math.isfinite(value):
        return repr(value)
    return f"float('{value}')"


# Steps whose Python-float function is an operator, written as the operator itself.
INFIX = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.neg: "-", operator.lt: "<", operator.le: "<=", operator.gt: ">",
    operator.ge: ">=", operator.eq: "==", operator.ne: "!=",
}  # fmt: skip


def reference(fn, sources: dict[str, str]) -> str:
    """How generated code names a function: np.x, operator.x, math.x, a builtin, or a copy of
    its source (added to `sources`, with the module-level functions it calls)."""
    if isinstance(fn, np.ufunc) or getattr(np, getattr(fn, "__name__", ""), None) is fn:
        return f"np.{fn.__name__}"
    if getattr(operator, getattr(fn, "__name__", ""), None) is fn:
        return f"operator.{fn.__name__}"
    if getattr(math, getattr(fn, "__name__", ""), None) is fn:
        return f"math.{fn.__name__}"
    if getattr(builtins, getattr(fn, "__name__", ""), None) is fn:
        return fn.__name__
    copy_function(fn, sources)
    return fn.__name__


def copy_function(fn, sources: dict[str, str]) -> None:
    """Copy a function's source, and the module-level functions and number constants it
    uses, once each; a rule's `call("op", ...)` gets a `call` that runs those ops' forwards."""
    from ..ops import REGISTRY, call

    stack = [fn]
    while stack:
        f = stack.pop()
        if f.__name__ in sources:
            continue
        sources[f.__name__] = inspect.getsource(f)
        module = inspect.getmodule(f)
        if not isinstance(f, types.FunctionType):
            continue  # a class (an error type a rule raises) is copied whole
        for name in f.__code__.co_names:
            dep = getattr(module, name, None)
            home = getattr(dep, "__module__", "")
            if isinstance(dep, types.FunctionType | type) and (
                home == f.__module__ or home.startswith("autogradcli.ops")  # the rules' helpers
            ):
                stack.append(dep)
            elif _number(dep) and name not in sources:
                sources[name] = f"{name} = {dep!r}\n"
            elif dep is call:
                ops = [c for c in f.__code__.co_consts if isinstance(c, str) and c in REGISTRY]
                _call_source(ops, sources)


def _number(value) -> bool:
    """A finite float or int, or a tuple of them: written back exactly by repr."""
    items = value if isinstance(value, tuple) and value else (value,)
    return all(type(v) in (int, float) and math.isfinite(v) for v in items)


def _call_source(ops: list[str], sources: dict[str, str]) -> None:
    """`call(name, *args, **attrs)` for generated code: `_op_NAME`, the forward of each op in
    `ops` (copied first), looked up when called."""
    from ..ops import REGISTRY

    for op in ops:
        if f"_op_{op}" not in sources:
            fn = reference(REGISTRY[op].forward, sources)
            sources[f"_op_{op}"] = f"_op_{op} = {fn}\n"
    sources["call"] = (
        "def call(name, *args, **attrs):\n"
        '    """A registry op by name, as the copied rules call them."""\n'
        '    return globals()["_op_" + name](*args, **attrs)\n'
    )


def point_source(plan: Plan, sources: dict[str, str]) -> list[str]:
    """`_point(s0, s1, ...)`: the steps on Python floats, one line each ([] if a step has no
    Python-float counterpart). Helper functions it calls are added to `sources`."""
    code = plan.program.code
    if any(step not in SCALAR for step, _, _ in code):
        return ["def _point(*args):", "    return None", "", ""]

    def name(ref) -> str:
        return f"s{ref}" if type(ref) is int else literal(ref)

    lines = [
        f"def _point({', '.join(f's{k}' for k in range(len(plan.inputs)))}):",
        '    """One point on Python floats; raises where NumPy would give nan or inf."""',
    ]
    for step, out, args in code:
        fn = SCALAR[step]
        symbol = INFIX.get(fn)
        if symbol is not None:  # Python's own operator: the same IEEE result, no call
            parts = [name(a) for a in args]
            expr = f"{symbol}{parts[0]}" if len(parts) == 1 else f" {symbol} ".join(parts)
            lines.append(f"    s{out} = {expr}")
            continue
        bound = [  # a partial's arguments: a function and numbers
            literal(a) if isinstance(a, float) else reference(a, sources)
            for a in getattr(fn, "args", ())
        ]
        call = reference(getattr(fn, "func", fn), sources)
        lines.append(f"    s{out} = {call}({', '.join([*bound, *map(name, args)])})")
    lines.append(f"    return ({', '.join(name(r) for r in plan.program.outputs)}{_comma(plan)})")
    return [*lines, "", ""]


def _comma(plan: Plan) -> str:
    """A trailing comma where the flat tuple has one element."""
    return "," if len(plan.program.outputs) == 1 else ""


def function_source(plan: Plan, fallback: str) -> list[str]:
    """`function(s0, s1, ...)`: `_point`, and where Python raises (or a step has no
    Python-float counterpart), `fallback` (a name taking the input list) on NumPy."""
    args = ", ".join(f"s{k}" for k in range(len(plan.inputs)))
    slow = f"return tuple(float(v) for v in {fallback}([{args}]))"
    lines = [
        f"def function({args}):",
        '    """Value and gradient at one point: inputs by position (INPUTS order) -> a flat',
        "    tuple of each output's value, then its gradient in input order. NumPy's nan or inf",
        '    where Python would raise."""',
    ]
    if any(step not in SCALAR for step, _, _ in plan.program.code):
        return [*lines, f"    {slow}", "", ""]
    guarded = ["    try:", f"        return _point({args})"]
    guarded += ["    except (ArithmeticError, ValueError):", f"        {slow}"]
    return [*lines, *guarded, "", ""]


def point_function(plan: Plan) -> Callable[..., tuple]:
    """`f(x0, x1, ...)` in the plan's input order -> a flat tuple: each output's value, then its
    gradient in input order. Raises ArithmeticError or ValueError where NumPy would give a nan
    or inf (use `plan.run` there); TypeError if a step has no Python-float counterpart."""
    sources: dict[str, str] = {}
    lines = point_source(plan, sources)
    if lines[1].strip() == "return None":
        raise TypeError("a step of this plan has no Python-float counterpart; use plan.run")
    return _compiled(plan, sources, lines)["_point"]


def fast_function(plan: Plan) -> Callable[..., tuple]:
    """`Plan.function()`: point_function with NumPy where Python raises, for any plan."""
    sources: dict[str, str] = {}
    lines = point_source(plan, sources)
    lines += function_source(plan, "_numpy")
    return _compiled(plan, sources, lines)["function"]


def _compiled(plan: Plan, sources: dict[str, str], lines: list[str]) -> dict:
    """Run agrad's own generated source (no user text reaches it) and return its names."""
    text = "\n".join([*sources.values(), *lines])
    space: dict = {"np": np, "math": math, "operator": operator, "_numpy": plan.run}
    exec(compile(text, "<agrad point function>", "exec"), space)  # agrad's own generated code
    return space
