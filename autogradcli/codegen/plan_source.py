"""Write a Plan out as a standalone NumPy module: the same steps, as straight-line code.

Every name in the module is ours (`x0` inputs, `t0` scratch buffers, `r0` results) and every
constant is a float's repr, so no text from the expression file reaches the code except the
input and output names, which appear only as quoted strings.
"""

from __future__ import annotations

import inspect
import math
import operator
import re

from ..engines.interpreter import unbroadcast
from ..engines.plan import Plan
from ..engines.pyfloat import SCALAR
from .runtime import SHARED
from .source import docstring_name, reference


def _literal(value: float | bool) -> str:
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


def _point_source(plan: Plan, sources: dict[str, str]) -> list[str]:
    """`_point(s0, s1, ...)`: the steps on Python floats, one line each ([] if a step has no
    Python-float counterpart). Helper functions it calls are added to `sources`."""
    code = plan.program.code
    if any(step not in SCALAR for step, _, _ in code):
        return ["def _point(*args):", "    return None", "", ""]

    def name(ref) -> str:
        return f"s{ref}" if type(ref) is int else _literal(ref)

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
            _literal(a) if isinstance(a, float) else reference(a, sources)
            for a in getattr(fn, "args", ())
        ]
        call = reference(getattr(fn, "func", fn), sources)
        lines.append(f"    s{out} = {call}({', '.join([*bound, *map(name, args)])})")
    lines.append(f"    return [{', '.join(name(r) for r in plan.program.outputs)}]")
    return [*lines, "", ""]


def _constants(plan: Plan, point: bool) -> list[str]:
    """The module's constants: what the runtime functions (codegen/runtime.py) read."""
    n_in, direct = len(plan.inputs), plan.direct
    dtypes = ", ".join(
        "None" if b + n_in in direct else f"np.{dt.name}" for b, dt in enumerate(plan.buffers)
    )
    constants = ", ".join(
        f"{p}: {_literal(ref)}" for p, ref in enumerate(plan.results) if type(ref) is not int
    )
    return [
        f"INPUTS = {tuple(plan.inputs)!r}",
        f"OUTPUTS = {tuple(plan.program.output_names)!r}",
        f"CHUNK = {plan.chunk}",
        f"DTYPES = ({dtypes}{',' if len(plan.buffers) == 1 else ''})",
        f"CONSTANT_RESULTS = {{{constants}}}",
        f"RESULTS = {len(plan.results)}",
        "THREADS = min(2, os.cpu_count() or 1)",
        f"POINT = {point}  # a Python-float path for one point",
        "NUMBERS = (float, int, np.float64)",
    ]


def plan_source(plan: Plan, origin: str = "") -> str:
    """The source of a module exposing value_and_grad(**inputs), NumPy only."""
    n_in = len(plan.inputs)
    direct = plan.direct

    def name(e) -> str:
        if type(e) is not int:
            return _literal(e)
        if e < n_in:
            return f"x{e}"
        return f"r{direct[e]}" if e in direct else f"t{e - n_in}"

    body = []
    for step, out, args in plan.layout:
        call = ", ".join(name(a) for a in args)
        if step == "where":
            body.append(f"    _where({name(out)}, {call})")
        else:
            body.append(f"    np.{step}({call}, out={name(out)})")
    for p, ref in enumerate(plan.results):
        if type(ref) is int and direct.get(ref) != p:
            body.append(f"    r{p}[...] = {name(ref)}")
    used = set(re.findall(r"\b[xtr]\d+\b", "\n".join(body)))  # bind only what the steps use
    binds = [f"    x{k} = x[{k}][lo:hi]" for k in range(n_in)]
    binds += [
        f"    t{b} = t[{b}][: hi - lo]" for b in range(len(plan.buffers)) if b + n_in not in direct
    ]
    binds += [f"    r{p} = r[{p}][lo:hi]" for p in range(len(plan.results))]
    binds = [line for line in binds if line.split()[0] in used]
    names = plan.program.output_names
    sources: dict[str, str] = {}
    reference(unbroadcast, sources)  # the runtime's `_points` calls it
    point = _point_source(plan, sources)
    used = "\n".join([*point, *sources.values()])
    imports = [f"import {m}" for m in ("math", "operator") if f"{m}." in used]
    return "\n".join(
        [
            f'"""Generated by agrad from {docstring_name(origin)}: value and gradient, NumPy only.',
            "",
            f"Inputs: {', '.join(plan.inputs) or 'none'}. Outputs: {', '.join(names)}. Call",
            "value_and_grad(name=value, ...) -> (values, gradients); gradients[output][input] is",
            "the gradient of the sum of the output's elements, in the input's shape (so arrays",
            "of one shape give the gradient at each point). Straight-line elementwise code, run",
            "in chunks of CHUNK rows on up to two threads, each step writing into a reused buffer.",
            '"""',
            "",
            *imports,
            "import os",
            "from concurrent.futures import ThreadPoolExecutor",
            "",
            "import numpy as np",
            "",
            *_constants(plan, all(step in SCALAR for step, _, _ in plan.program.code)),
            "",
            "",
            *[src.rstrip() + "\n\n" for src in sources.values()],
            "def _rows(x, t, r, lo, hi):",
            '    """Rows lo:hi of the inputs x into the results r, with scratch buffers t."""',
            *binds,
            *body,
            "",
            "",
            *point,
            "\n\n".join(inspect.getsource(fn).rstrip() + "\n" for fn in SHARED),
            "",
        ]
    )
