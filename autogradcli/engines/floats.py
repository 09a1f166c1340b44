"""One point on Python floats: each op's registry rules, traced once into math/operator calls.

A graph of scalars spends its time in per-call overhead, not arithmetic: a NumPy ufunc on a
scalar costs about a microsecond, `math.sin` a tenth of that. `forward` and `backward` mirror
`engine.forward` and `engine.backward` on Python floats. Each op's forward and VJP are traced
from the registry (tracer.py) and mapped through `pyfloat.SCALAR`, so no rule is written twice.
Where Python raises (`log(0)`, `1/0`, overflow in `exp`), that node runs its NumPy rule: a
masked branch (`where`) may still give a finite value. When any value or gradient is not
finite these return None (at once, when the NumPy rule gave it), and the caller runs the NumPy
engine, which names the node that produced it. Results are the engine's, bit for bit:
transcendental functions call NumPy's own kernels (pyfloat.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from itertools import product

import numpy as np

from ..graph import Graph
from ..graph.sweep import sweep
from ..ops import FORWARD, REGISTRY, TAKES_NEEDS, VJP, Kind
from .pyfloat import scalar_code
from .tracer import NotTraceable, Program, Tape

FAILS = (ArithmeticError, ValueError)
Columns = tuple[list[int], list[int]]  # each node's first and second input, -1 for none


def eligible(graph: Graph, inputs: dict) -> bool:
    """True when every value is a scalar and every op has Python-float rules."""
    if any(np.ndim(v) for v in inputs.values()):
        return False
    if any(np.ndim(c) for c in graph.consts.values()) or any(graph.attrs):
        return False
    return all(_has_rules(op) for op in set(graph.ops) if op in REGISTRY)


def _has_rules(op: str) -> bool:
    """True when `rules` has the op, for every `needs` its VJP may be asked for."""
    if op not in TAKES_NEEDS:
        return rules(op) is not None
    patterns = product((True, False), repeat=REGISTRY[op].arity)
    return all(rules(op, needs) is not None for needs in patterns if any(needs))


@cache
def rules(op: str, needs: tuple[bool, ...] | None = None) -> tuple[Callable, Callable] | None:
    """The op's forward and VJP on Python floats (VJP for `needs`), or None if it has none."""
    spec = REGISTRY[op]
    if spec.kind is not Kind.ELEMENTWISE or not spec.traceable:
        return None
    n = spec.arity
    extra = {"needs": needs or (True,) * n} if op in TAKES_NEEDS else {}
    try:
        forward = _function(FORWARD[op], n, {}, single=True)
        vjp = _function(VJP[op], n + 2, extra, single=False)
    except (NotTraceable, TypeError, AttributeError):
        return None
    if forward is None or vjp is None:
        return None
    return forward, vjp


def _function(rule, n: int, kwargs: dict, single: bool) -> Callable | None:
    """Trace `rule` on n stand-ins into a Python function of n floats."""
    program = Program([f"a{k}" for k in range(n)], [])
    tape = Tape(program)
    result = rule(*[tape.input() for _ in range(n)], **kwargs)
    results = (result,) if single else tuple(result)
    missing = [r is None for r in results]
    program.outputs = [0.0 if r is None else tape._ref(r) for r in results]
    compiled = scalar_code(program)
    if compiled is None:
        return None
    code, tail, outs = compiled
    if single and len(code) == 1 and code[0][1] == outs[0]:
        fn, _, i, j, k = code[0]
        if (i, j, k) == ((0, -1, -1) if n == 1 else (0, 1, -1)):
            return fn  # the op is one math/operator call on its inputs
    return _straight(code, tail, outs, missing, n, single)


def _straight(code: list, tail: list, outs: list, missing: list, n: int, single: bool):
    """The steps as one generated Python function of n floats: straight-line calls, no loop
    over steps and no values list (a rule runs about twice as fast as interpreted)."""
    args = [f"a{k}" for k in range(n)]
    names = [*args, *(f"c{k}" for k in range(len(tail)))]  # every slot: inputs, then the rest
    space: dict = {f"c{k}": value for k, value in enumerate(tail)}
    lines = [f"def rule({', '.join(args)}):"]
    for step, (fn, o, i, j, k) in enumerate(code):
        space[f"f{step}"] = fn
        operands = ", ".join(names[x] for x in (i, j, k) if x >= 0)
        lines.append(f"    {names[o]} = f{step}({operands})")
    results = ["None" if m else names[r] for m, r in zip(missing, outs, strict=True)]
    body = results[0] if single else f"({', '.join(results)},)"
    lines.append(f"    return {body}")
    # The registry's own traced rules (op names, slots and constants are agrad's, never user
    # text): compiled once per op and `needs`.
    exec(compile("\n".join(lines), "<agrad float rule>", "exec"), space)
    return space["rule"]


def forward(
    graph: Graph, inputs: dict, wrt: list[int], cols: Columns, live: bytearray | None = None
) -> tuple | None:
    """Every node's value as a Python float (only those flagged in `live`, when given), and
    which nodes depend on `wrt` (as `engine.needs_grad`, in the same loop); None if any value
    is not finite. `cols` is `graph.columns()`."""
    n = len(graph)
    vals: list = [None] * n
    needs = [False] * n
    for i in wrt:
        needs[i] = True
    for i, value in graph.consts.items():
        vals[i] = float(value)
    for name, i in graph.input_ids.items():
        vals[i] = float(inputs[name])
    fwd = {op: rules(op)[0] for op in set(graph.ops) if op in REGISTRY}  # type: ignore[index]
    fns = list(map(fwd.get, graph.ops))  # None for inputs and constants
    if live is not None:  # nodes no output reads are not run
        fns = [f if flag else None for f, flag in zip(fns, live, strict=True)]
    i = -1
    for f, j, k in zip(fns, *cols, strict=True):  # a try costs nothing until it catches
        i += 1
        if f is None:
            continue
        if k >= 0:
            if needs[j] or needs[k]:
                needs[i] = True
            try:
                vals[i] = f(vals[j], vals[k])
            except FAILS:
                vals[i] = _numpy(FORWARD[graph.ops[i]], vals[j], vals[k])
                if not math.isfinite(vals[i]):
                    return None
        else:
            if needs[j]:
                needs[i] = True
            try:
                vals[i] = f(vals[j])
            except FAILS:
                vals[i] = _numpy(FORWARD[graph.ops[i]], vals[j])
                if not math.isfinite(vals[i]):
                    return None
    return (vals, needs) if all(map(math.isfinite, filter(None, vals))) else None


def _numpy(rule, *args, **kwargs):
    """A rule on NumPy scalars, for NumPy's nan or inf where Python raises."""
    with np.errstate(all="ignore"):
        out = rule(*[np.float64(x) for x in args], **kwargs)
    if isinstance(out, tuple):
        return tuple(None if x is None else float(x) for x in out)
    return float(out)


class _Parents:
    """A node's inputs as a tuple, made from the two columns when the sweep asks."""

    __slots__ = ("first", "second")

    def __init__(self, first: list[int], second: list[int]):
        self.first, self.second = first, second

    def __getitem__(self, i: int) -> tuple[int, ...]:
        j, k = self.first[i], self.second[i]
        return () if j < 0 else (j,) if k < 0 else (j, k)


class _NotFinite(Exception):
    """A NumPy fallback gave nan or inf: the NumPy engine reruns the point."""


def backward(graph: Graph, vals: list, output: int, needs: list[bool], cols: Columns):
    """Every node's adjoint for `output` as a Python float (None where unneeded), or None
    if any is not finite."""
    ops = graph.ops
    first, second = cols
    plain = {op: rules(op)[1] for op in set(ops) if op in REGISTRY and op not in TAKES_NEEDS}
    fns = list(map(plain.get, ops))  # None for inputs, constants and masked ops
    vjps: dict = {}

    def vjp(i: int, g: float):
        j, k, rule = first[i], second[i], fns[i]
        mask: tuple | None = None
        if rule is None:
            op = ops[i]
            mask = (needs[j],) if k < 0 else (needs[j], needs[k])
            rule = vjps.get((op, mask))
            if rule is None:
                rule = vjps[op, mask] = rules(op, mask)[1]  # type: ignore[index]
        try:
            return rule(g, vals[i], vals[j]) if k < 0 else rule(g, vals[i], vals[j], vals[k])
        except FAILS:
            args = (vals[j],) if k < 0 else (vals[j], vals[k])
            extra = {"needs": mask} if mask else {}
            grads = _numpy(VJP[ops[i]], g, vals[i], *args, **extra)
            if not all(map(math.isfinite, filter(None, grads))):
                raise _NotFinite from None
            return grads

    try:
        adj = sweep(graph, output, needs, 1.0, vjp, _Parents(first, second))
    except _NotFinite:
        return None
    return adj if all(map(math.isfinite, filter(None, adj))) else None
