"""Checking one derivative rule at given inputs against finite differences and SymPy.

Used by `agrad check --ops` (every op, hundreds of points) and to locate the node whose rule
is wrong when a file's gradients disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..graph import Graph
from ..ops import REGISTRY, Op
from ..ops.numeric import fp_watch, unbroadcast
from .symbolic import SympyTimeout, apply_sympy, input_symbol, numeric, sympy, time_budget

FD_STEP = 6e-6  # about the cube root of float64 epsilon: central differences' best step
KINK_TOL = 1e-4  # points this close to a kink are counted, never judged


@dataclass
class RuleCheck:
    """How far one op's VJP is from finite differences and from SymPy over some points."""

    op: str
    points: int
    kinks: int
    fd_error: float
    sympy_error: float | None
    passed: bool
    worst: tuple | None = None


def scaled_error(a, b, rtol: float, atol: float) -> tuple[np.ndarray, np.ndarray]:
    """Scaled error |a - b| / max(|b|, atol/rtol), and where it is within tolerance.

    Two nans agree (both sides say "undefined here", as for d/dy x^y at x < 0), as do two
    equal infinities.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(b), atol / rtol)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(all="ignore"):
        err = np.where(same, 0.0, np.abs(a - b) / scale)
    ok = np.isclose(a, b, rtol=rtol, atol=atol) | same
    return np.where(np.isnan(err), np.inf, err), ok


_SYMBOLIC: dict[tuple, Any] = {}


def _symbolic_vjp(name: str, shapes: tuple, attrs: dict | None):
    """A vectorised function (inputs..., seed...) -> VJP elements, from SymPy's derivative."""
    key = (name, shapes, repr(sorted((attrs or {}).items())))
    if key in _SYMBOLIC:
        return _SYMBOLIC[key]
    sp = sympy()
    op = REGISTRY[name]
    xs = [input_symbol(sp, f"x{k}", shape) for k, shape in enumerate(shapes)]
    out = apply_sympy(sp, name, xs, attrs or None)
    out_shape = np.shape(out) if isinstance(out, np.ndarray) else ()
    seed = input_symbol(sp, "g", out_shape)
    loss = sp.Add(*[a * b for a, b in zip(np.ravel(seed), np.ravel(out), strict=True)])
    exprs = []
    for x in xs:
        for s in np.ravel(x):
            d = sp.diff(loss, s)
            exprs.append(d.replace(sp.DiracDelta, lambda *a: sp.Integer(0)))
    symbols = [s for x in xs for s in np.ravel(x)] + list(np.ravel(seed))
    _SYMBOLIC[key] = numeric(sp, symbols, exprs), op.arity
    return _SYMBOLIC[key]


def directional(op: Op, xs: list[np.ndarray], seeds: np.ndarray, attrs: dict | None):
    """Per point and input: the rule's <vjp, v> and the central difference of <g, f> along v."""
    attrs = attrs or {}
    points = seeds.shape[0]
    rule = np.zeros((points, len(xs)))  # len(xs): a variadic op takes any number
    fd = np.zeros((points, len(xs)))
    rng = np.random.default_rng(0)
    with fp_watch():
        for p in range(points):
            x = [np.asarray(v[p]) for v in xs]
            out = np.asarray(op.forward(*x, **attrs))
            g = seeds[p].reshape(out.shape)
            grads = op.vjp(g, out, *x, **attrs)
            for k, xk in enumerate(x):
                gk = np.zeros(xk.shape) if grads[k] is None else unbroadcast(grads[k], xk.shape)
                v = rng.normal(size=xk.shape)
                h = FD_STEP * max(1.0, float(np.max(np.abs(xk))))
                hi, lo = list(x), list(x)
                hi[k], lo[k] = xk + h * v, xk - h * v
                up = np.sum(g * op.forward(*hi, **attrs))
                down = np.sum(g * op.forward(*lo, **attrs))
                fd[p, k] = (up - down) / (2 * h)
                rule[p, k] = np.sum(gk * v)
    return rule, fd


def symbolic_vjp(op: Op, xs: list[np.ndarray], seeds: np.ndarray, attrs: dict | None):
    """SymPy's VJP at each point, every input's elements side by side: shape (P, total)."""
    n = seeds.shape[0]
    fn, _ = _symbolic_vjp(op.name, tuple(v.shape[1:] for v in xs), attrs)
    flat = [v.reshape(n, -1)[:, j] for v in xs for j in range(int(np.prod(v.shape[1:])))]
    flat += [seeds[:, j] for j in range(seeds.shape[1])]
    return np.stack(fn(*flat), axis=-1)


def exact_vjp(op: Op, xs: list[np.ndarray], seeds: np.ndarray, attrs: dict | None):
    """The op's own VJP at each point, one array per input shaped (P, *shape)."""
    attrs = attrs or {}
    result = [np.zeros(v.shape) for v in xs]
    with fp_watch():
        for p in range(seeds.shape[0]):
            x = [np.asarray(v[p]) for v in xs]
            out = np.asarray(op.forward(*x, **attrs))
            grads = op.vjp(seeds[p].reshape(out.shape), out, *x, **attrs)
            for k, gk in enumerate(grads):
                if gk is not None:
                    result[k][p] = unbroadcast(gk, x[k].shape)
    return result


def away_from_kinks(op: Op, xs: list[np.ndarray], tol: float) -> list[np.ndarray]:
    """The points (rows of every `xs[k]`) farther than `tol` from the op's kinks."""
    if op.near_kink is None:
        return xs
    keep = ~np.asarray(op.near_kink(tol, *xs)).reshape(xs[0].shape[0], -1).any(axis=1)
    return [v[keep] for v in xs]


def check_rule(
    op: Op,
    xs: list[np.ndarray],
    rtol: float = 1e-7,
    atol: float = 1e-9,
    fd_rtol: float = 1e-5,
    fd_atol: float = 1e-6,
    timeout: float | None = 30.0,
    attrs: dict | None = None,
) -> RuleCheck:
    """Check an op's VJP at P points (`xs[k]` shaped (P, *shape_k)), skipping kinks."""
    points = xs[0].shape[0]
    xs = away_from_kinks(op, xs, 1e-4)
    n = len(xs[0])
    with fp_watch():
        out_shape = np.shape(op.forward(*[v[0] for v in xs], **(attrs or {}))) if n else ()
    seeds = np.random.default_rng(1).normal(size=(n, int(np.prod(out_shape))))
    if n == 0:
        return RuleCheck(op.name, 0, points, 0.0, None, True)
    rule, fd = directional(op, xs, seeds, attrs)
    fd_err, fd_ok = scaled_error(rule, fd, fd_rtol, fd_atol)
    passed = bool(fd_ok.all())
    worst = None
    if not passed:
        p = int(np.argmax(np.where(fd_ok, -1.0, fd_err).max(axis=1)))
        worst = (
            "finite differences",
            [v[p].tolist() for v in xs],
            rule[p].tolist(),
            fd[p].tolist(),
        )
    sym_err = None
    try:
        with time_budget(timeout):
            sym = symbolic_vjp(op, xs, seeds, attrs)
        mine = np.concatenate([m.reshape(n, -1) for m in exact_vjp(op, xs, seeds, attrs)], axis=1)
        errs, oks = scaled_error(mine, sym, rtol, atol)
        sym_err = float(errs.max()) if errs.size else 0.0
        if not oks.all():
            passed = False
            p = int(np.argmax(np.where(oks, -1.0, errs).max(axis=1)))
            worst = worst or (
                "SymPy",
                [v[p].tolist() for v in xs],
                mine[p].tolist(),
                sym[p].tolist(),
            )
    except SympyTimeout:
        sym_err = None
    return RuleCheck(op.name, n, points - n, float(fd_err.max()), sym_err, passed, worst)


def sample_inputs(op: Op, points: int, seed: int = 0) -> list[np.ndarray]:
    """`points` random inputs inside the op's domain, shaped (points, *shape)."""
    rng = np.random.default_rng(seed)
    shapes = op.shapes or tuple(() for _ in op.domain)
    return [
        rng.uniform(lo, hi, size=(points, *shape))
        for (lo, hi), shape in zip(op.domain, shapes, strict=True)
    ]


def kinks_at(graph: Graph, vals: list) -> list[int]:
    """Nodes within KINK_TOL of a point where their op is not differentiable."""
    hits = []
    for i, a in enumerate(graph.inputs):
        op = REGISTRY.get(graph.ops[i])
        if a and op is not None and op.near_kink is not None:
            with np.errstate(all="ignore"):
                if np.any(op.near_kink(KINK_TOL, *[vals[j] for j in a])):
                    hits.append(i)
    return hits


def is_condition(op: str) -> bool:
    """A comparison: 1 or 0, no gradient through it (where's branches follow it)."""
    spec = REGISTRY[op]
    return len(spec.no_grad) == spec.arity
