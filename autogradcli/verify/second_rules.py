"""Checking each op's second derivative, as the recorded backward graph computes it, against
finite differences of its first-derivative rule and against SymPy's second derivative.

At a point x, a seed g and directions v and w, the recorded graph gives
w · ∇x (v · ∇x <g, f(x)>); the first-derivative rule gives v · ∇x <g, f> at x ± h·w, whose
central difference must agree, and so must SymPy's Σ v_i w_j ∂²<g, f>/∂x_i ∂x_j.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engines import higher
from ..engines import interpreter as engine
from ..graph import Graph
from ..graph.derivative import NotDifferentiable, derivative
from ..ops import Op
from ..ops.numeric import fp_watch, unbroadcast
from .op_rules import FD_STEP, RuleCheck, away_from_kinks, scaled_error
from .symbolic import SympyTimeout, apply_sympy, input_symbol, numeric, sympy, time_budget

_SYMBOLIC: dict[tuple, Any] = {}


def _recorded(op: Op, x: list[np.ndarray], g, v: list, w: list, attrs: dict) -> float:
    """w · ∇(v · ∇<g, f>) from the recorded backward graph of a one-op graph."""
    graph = Graph()
    names = [f"x{k}" for k in range(len(x))]  # a variadic op: as many as given
    ids = tuple(graph.add_input(n) for n in names)
    out = graph.add_op(op.name, ids, attrs=attrs or None)
    graph.add_output("f", out)
    vals = engine.forward(graph, dict(zip(names, x, strict=True)))
    d = derivative(graph, vals, out, names, seed=g)
    s = higher.inner(d, dict(zip(names, v, strict=True)))
    if s is None:
        return 0.0
    g2 = d.graph
    adj = engine.backward(g2, d.values, s, engine.needs_grad(g2, g2.input_ids.values()))
    return float(
        sum(np.sum(adj[i] * wk) for i, wk in zip(ids, w, strict=True) if adj[i] is not None)
    )


def _first(op: Op, x: list[np.ndarray], g, v: list, attrs: dict) -> float:
    """v · ∇<g, f> from the op's own first-derivative rule."""
    out = np.asarray(op.forward(*x, **attrs))
    grads = op.vjp(np.reshape(g, out.shape), out, *x, **attrs)
    return float(
        sum(
            np.sum(unbroadcast(gk, xk.shape) * vk)
            for gk, xk, vk in zip(grads, x, v, strict=True)
            if gk is not None
        )
    )


def _symbolic(op: Op, shapes: tuple, out_shape: tuple, attrs: dict):
    """A vectorised function (x..., g..., v..., w...) -> Σ v_i w_j ∂²<g, f>/∂x_i ∂x_j."""
    key = (op.name, shapes, repr(sorted(attrs.items())))
    if key not in _SYMBOLIC:
        sp = sympy()
        xs = [input_symbol(sp, f"x{k}", shape) for k, shape in enumerate(shapes)]
        out = apply_sympy(sp, op.name, xs, attrs or None)
        seed = input_symbol(sp, "g", out_shape)
        loss = sp.Add(*[a * b for a, b in zip(np.ravel(seed), np.ravel(out), strict=True)])
        flat = [s for x in xs for s in np.ravel(x)]
        vs = [sp.Symbol(f"v{i}", real=True) for i in range(len(flat))]
        ws = [sp.Symbol(f"w{i}", real=True) for i in range(len(flat))]
        first = sp.Add(*[vi * sp.diff(loss, s) for vi, s in zip(vs, flat, strict=True)])
        second = sp.Add(*[wj * sp.diff(first, s) for wj, s in zip(ws, flat, strict=True)])
        second = second.replace(sp.DiracDelta, lambda *a: sp.Integer(0))
        symbols = [*flat, *np.ravel(seed), *vs, *ws]
        _SYMBOLIC[key] = numeric(sp, symbols, [second])
    return _SYMBOLIC[key]


def _sympy_values(op: Op, draws: list, out_shape: tuple, attrs: dict) -> np.ndarray:
    """SymPy's Σ v_i w_j ∂²<g, f>/∂x_i ∂x_j at every drawn (x, g, v, w)."""
    sizes = [int(np.size(x)) for x in draws[0][0]]
    fn = _symbolic(op, tuple(np.shape(a) for a in draws[0][0]), out_shape, attrs)

    def column(slot: int, k: int, j: int) -> np.ndarray:
        return np.array([np.ravel(d[slot][k])[j] for d in draws])

    args = [column(0, k, j) for k in range(len(sizes)) for j in range(sizes[k])]
    args += [np.array([np.ravel(d[1])[j] for d in draws]) for j in range(int(np.prod(out_shape)))]
    for slot in (2, 3):
        args += [column(slot, k, j) for k in range(len(sizes)) for j in range(sizes[k])]
    return np.asarray(fn(*args)[0], dtype=float)


def check_second(
    op: Op,
    xs: list[np.ndarray],
    rtol: float = 1e-7,
    atol: float = 1e-9,
    fd_rtol: float = 1e-5,
    fd_atol: float = 1e-6,
    timeout: float | None = 30.0,
    attrs: dict | None = None,
) -> RuleCheck:
    """The recorded second derivative of one op at P points (`xs[k]` shaped (P, *shape))."""
    attrs = attrs or {}
    points = xs[0].shape[0]
    xs = away_from_kinks(op, xs, 1e-3)
    n = len(xs[0])
    if n == 0:
        return RuleCheck(op.name, 0, points, 0.0, None, True)
    rng = np.random.default_rng(2)
    with fp_watch():
        out_shape = np.shape(op.forward(*[v[0] for v in xs], **attrs))
    recorded, fd = np.zeros(n), np.zeros(n)
    draws = []
    try:
        with fp_watch():
            for p in range(n):
                x = [np.asarray(v[p]) for v in xs]
                g = rng.normal(size=out_shape)
                v = [rng.normal(size=xk.shape) for xk in x]
                w = [rng.normal(size=xk.shape) for xk in x]
                draws.append((x, g, v, w))
                recorded[p] = _recorded(op, x, g, v, w, attrs)
                h = FD_STEP * max(1.0, *(float(np.max(np.abs(xk), initial=0)) for xk in x))
                hi = [xk + h * wk for xk, wk in zip(x, w, strict=True)]
                lo = [xk - h * wk for xk, wk in zip(x, w, strict=True)]
                fd[p] = (_first(op, hi, g, v, attrs) - _first(op, lo, g, v, attrs)) / (2 * h)
    except NotDifferentiable:
        return RuleCheck(op.name, 0, points - n, 0.0, None, True, ("not recorded", [], [], []))
    fd_err, fd_ok = scaled_error(recorded, fd, fd_rtol, fd_atol)
    passed, worst = bool(fd_ok.all()), None
    if not passed:
        p = int(np.argmax(np.where(fd_ok, -1.0, fd_err)))
        worst = ("finite differences", [a.tolist() for a in draws[p][0]], recorded[p], fd[p])
    sym_err = None
    try:
        with time_budget(timeout):
            sym = _sympy_values(op, draws, out_shape, attrs)
        errs, oks = scaled_error(recorded, sym, rtol, atol)
        sym_err = float(errs.max())
        if not oks.all():
            passed = False
            p = int(np.argmax(np.where(oks, -1.0, errs)))
            worst = worst or ("SymPy", [a.tolist() for a in draws[p][0]], recorded[p], sym[p])
    except SympyTimeout:
        sym_err = None
    return RuleCheck(op.name, n, points - n, float(fd_err.max()), sym_err, passed, worst)
