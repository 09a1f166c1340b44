"""Verification: the engine's gradients against SymPy and finite differences, and claims.

`check_point` backs `agrad eval --check` (one point); `check_file` backs `agrad check` (random
points inside each input's range). Both report one Result per output × input and per claim.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engines import interpreter as engine
from ..engines.evaluate import Evaluation, evaluate
from ..engines.higher import nested_derivative
from ..errors import AgradError, paused_gc
from ..graph import Claim, Graph
from ..ops import REGISTRY
from .op_rules import FD_STEP, check_rule, is_condition, kinks_at, scaled_error
from .symbolic import Budget, SympyTimeout, gradient, numeric, sympy, time_budget, to_sympy, total

DEFAULT_RANGE = (-3.0, 3.0)
PASS, FAIL, KINK, ERROR = "pass", "fail", "not differentiable here", "error"
UNJUDGED = "skipped: neither SymPy nor finite differences can judge here (not finite)"
NONFINITE_VALUE = "skipped: the value is not finite here, so its slope cannot be judged"
EPS = float(np.finfo(float).eps)


@dataclass
class Tolerances:
    """Agreement needed with SymPy (rtol/atol) and with finite differences (fd_*)."""

    rtol: float = 1e-7
    atol: float = 1e-9
    fd_rtol: float = 1e-5
    fd_atol: float = 1e-6


@dataclass
class Result:
    """One checked gradient (output × input) or claim."""

    file: str
    output: str
    wrt: str
    kind: str
    points: int
    status: str
    max_error: float | None
    line: int
    detail: str = ""
    kinks: int = 0
    redrawn: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    proof: str = ""

    @property
    def failed(self) -> bool:
        """True for a mismatch."""
        return self.status == FAIL


class Oracle:
    """SymPy's gradients and claim sides for a graph, as one vectorised numeric function."""

    def __init__(self, graph: Graph, shapes: dict, outputs, wrt: list[str], claims: list[Claim]):
        sp = self.sp = sympy()
        sym = to_sympy(graph, shapes)
        exprs: list = []
        self.slots: dict[Any, tuple[int, int, tuple]] = {}

        def add(key, expr):
            flat = list(np.ravel(expr)) if isinstance(expr, np.ndarray) else [expr]
            self.slots[key] = (len(exprs), len(flat), np.shape(expr))
            exprs.extend(flat)

        for name, node in outputs:
            for w in wrt:
                add((name, w), gradient(sp, sym.exprs[node], sym.symbols[w]))
        self.claims = []
        for k, c in enumerate(claims):
            lhs = sym.exprs[graph.symbols.get(c.target, graph.input_ids.get(c.target))]
            for name in c.variables:
                lhs = gradient(sp, lhs, sym.symbols[name])
            lhs = total(sp, lhs) if c.kind != "diff" and c.then else lhs
            rhs = sym.exprs[c.node]
            try:  # an array (a value or a gradient) is compared element by element
                shaped = np.broadcast_to(np.asarray(rhs, dtype=object), np.shape(lhs)).copy()
            except ValueError:  # the engine's side reports the shapes
                lhs, shaped = total(sp, lhs), total(sp, rhs)
            rhs = shaped if isinstance(lhs, np.ndarray) else total(sp, rhs)
            add(("claim", k, "lhs"), lhs)
            add(("claim", k, "rhs"), rhs)
            self.claims.append((lhs, rhs))
        self.order = list(sym.symbols)
        self.fn = numeric(sp, sym.flat_symbols(), exprs)

    def __call__(self, values: dict[str, np.ndarray], batch: tuple = ()) -> dict:
        """Evaluate at `values` (each input's array, with a leading batch shape)."""
        flat = []
        for name in self.order:
            v = np.asarray(values[name], dtype=float)
            flat.extend(np.moveaxis(v.reshape((*batch, -1)), -1, 0))
        out = self.fn(*flat)
        return {
            key: np.moveaxis(np.array(out[a : a + n]), 0, -1).reshape(batch + shape)
            for key, (a, n, shape) in self.slots.items()
        }

    def prove(self, k: int) -> bool:
        """Try to show a claim's two sides equal with simplify (the caller bounds the time)."""
        lhs, rhs = self.claims[k]
        return bool(self.sp.simplify(lhs - rhs) == 0)


FD_ELEMENTS = 100  # inputs with more elements are checked along random directions
FD_DIRECTIONS = 3  # directional derivatives per point for such an input
FD_ONE = 1_000_000  # and one per point past this many elements
SYMPY_ELEMENTS = 2_000  # SymPy is not asked about files whose inputs hold more elements
POINT_ELEMENTS = 10_000_000  # points drawn times input elements, at most (at least 1 point)


def _central(total, x: np.ndarray, v: np.ndarray, h: float, tol: Tolerances) -> float:
    """The derivative of `total` at x along v by central differences with steps h and 2h; nan
    where the two disagree beyond the tolerance, where rounding of the values alone could
    move the estimate that far (catastrophic cancellation, as in `sin(x) + 1e17`), or where
    a value is not finite."""
    estimates, noise = [], 0.0
    for step in (h, 2 * h):
        f_up, f_down = total(_moved(x, v, step)), total(_moved(x, v, -step))
        estimates.append((f_up - f_down) / (2 * step))
        noise = max(noise, 4 * EPS * max(abs(f_up), abs(f_down)) / (2 * step))
    fine, coarse = estimates
    allowed = tol.fd_atol + tol.fd_rtol * abs(fine)
    steady = abs(fine - coarse) <= allowed and noise <= allowed
    return fine if steady and np.isfinite(fine) else np.nan


def _moved(x: np.ndarray, v: np.ndarray, step: float) -> np.ndarray:
    """x + step * v with one new array."""
    out = np.multiply(v, step, dtype=np.float64)
    out += x
    return out


def _total(graph: Graph, values: dict, node: int, name: str):
    """sum(node) as a function of input `name`, the others held at `values`."""

    def total(moved) -> float:
        return float(np.sum(engine.forward(graph, {**values, name: moved})[node]))

    return total


def fd_gradient(
    graph: Graph, values: dict[str, np.ndarray], node: int, name: str, tol: Tolerances | None = None
) -> np.ndarray:
    """Central differences of sum(node) by input `name`, element by element (`_central`);
    an estimate that cannot judge anything is nan, which comparisons skip."""
    tol = tol or Tolerances()
    x = np.asarray(values[name], dtype=float)
    grad = np.zeros(x.shape)
    total = _total(graph, values, node, name)
    with engine.fp_watch(), paused_gc():
        for k in range(x.size):
            v = np.zeros(x.shape)
            v.flat[k] = 1.0
            grad.flat[k] = _central(total, x, v, FD_STEP * max(1.0, abs(float(x.flat[k]))), tol)
    return grad


def directions(shape: tuple, seed) -> np.ndarray:
    """Random directions of +-1 in an input's space (as HIPS autograd's `check_grads` draws
    one): FD_DIRECTIONS of them, or one for inputs of more than FD_ONE elements."""
    size = int(np.prod(shape, dtype=np.int64))
    k = FD_DIRECTIONS if size <= FD_ONE else 1
    signs = np.random.default_rng(seed).integers(0, 2, (k, *shape), dtype=np.int8)
    return signs * np.int8(2) - np.int8(1)


def fd_directional(
    graph: Graph, values: dict, node: int, name: str, vs: np.ndarray, tol: Tolerances
) -> np.ndarray:
    """Central differences of sum(node) along each direction in `vs` (one per row)."""
    x = np.asarray(values[name], dtype=float)
    h = FD_STEP * max(1.0, float(np.max(np.abs(x), initial=0.0)))
    total = _total(graph, values, node, name)
    with engine.fp_watch(), paused_gc():
        return np.array([_central(total, x, v, h, tol) for v in vs])


def project(rows: np.ndarray, vs: list[np.ndarray]) -> np.ndarray:
    """Each point's gradient (rows) projected on that point's directions: (points, k)."""
    return np.array([[np.vdot(r, v) for v in vs[p]] for p, r in enumerate(rows)])


def locate(graph: Graph, vals: list, tol: Tolerances) -> int | None:
    """The first node, in order, whose derivative rule disagrees at its own inputs."""
    for i, a in enumerate(graph.inputs):
        if not a:
            continue
        op = REGISTRY[graph.ops[i]]
        xs = [np.asarray(vals[j], dtype=float)[None] for j in a]
        result = check_rule(
            op, xs, tol.rtol, tol.atol, tol.fd_rtol, tol.fd_atol, timeout=5.0, attrs=graph.attrs[i]
        )
        if result.points and not result.passed:
            return i
    return None


def culprit_text(graph: Graph, vals: list, tol: Tolerances) -> str:
    """`culprit: n3 (sin) at f.txt:2:5: sin(x)`, or an empty string."""
    i = locate(graph, vals, tol)
    if i is None:
        return ""
    span = graph.span(i)
    return f"culprit: {graph.describe(i)} at {graph.where(i)}" + (
        f": {span.text()}" if span else ""
    )


def _sympy_judges(engine_v, sympy_v) -> np.ndarray:
    """Where SymPy's value can judge: finite, or the engine's is not finite either.

    SymPy's expression can overflow where the engine's rules do not (x/y^2 at y = 1e-177);
    a non-finite reference there abstains rather than fails a finite, correct gradient.
    """
    ref = np.asarray(sympy_v, dtype=float)
    return np.isfinite(ref) | ~np.isfinite(np.asarray(engine_v, dtype=float))


def judged(engine_v, sympy_v, fd_v) -> bool:
    """True when SymPy or finite differences can judge at least one element."""
    some = False
    if sympy_v is not None:
        some |= bool(np.any(_sympy_judges(engine_v, sympy_v)))
    if fd_v is not None:
        some |= bool(np.any(~np.isnan(np.asarray(fd_v, dtype=float))))
    return some


def compare(engine_v, sympy_v, fd_v, tol: Tolerances) -> tuple[float, bool]:
    """The largest scaled error against either oracle, and whether both agree."""
    errors, ok = [0.0], True
    if sympy_v is not None:
        by_sympy = _sympy_judges(engine_v, sympy_v)
        err, good = scaled_error(engine_v, sympy_v, tol.rtol, tol.atol)
        errors.append(float(np.max(np.where(by_sympy, err, 0.0), initial=0.0)))
        ok &= bool(good[by_sympy].all())
    if fd_v is not None:
        judged = ~np.isnan(np.asarray(fd_v, dtype=float))  # nan: differences too unsteady
        err, good = scaled_error(engine_v, fd_v, tol.fd_rtol, tol.fd_atol)
        errors.append(float(np.max(np.where(judged, err, 0.0), initial=0.0)))
        ok &= bool(good[judged].all())
    return max(errors), ok


# SymPy walks expressions recursively; below this depth (in operations) it stays well inside
# Python's recursion limit, above it the oracle abstains and says so.
SYMPY_DEPTH = 250
# What SymPy may raise on an expression it cannot handle (KeyError: printing zoo; Overflow:
# huge integers; Recursion: expressions whose size grows with each level).
SYMPY_FAILURES = (
    TypeError, ValueError, AttributeError, NotImplementedError, KeyError, OverflowError,
    RecursionError, ZeroDivisionError,
)  # fmt: skip


def too_deep_for_sympy(graph, nodes) -> str | None:
    """Why SymPy should not be asked about these nodes (too deep), or None."""
    from ..graph.stats import levels

    depth = max((levels(graph)[n] for n in nodes), default=0)
    if depth > SYMPY_DEPTH:
        return f"skipped: too deep for SymPy (depth {depth:,} > {SYMPY_DEPTH})"
    return None


def sympy_failure(exc: BaseException) -> str:
    """A short reason for a SymPy failure."""
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def build_oracle(graph, shapes, outputs, wrt, claims, timeout) -> tuple[Oracle | None, str]:
    """Build the SymPy oracle within the budget, or say why not."""
    nodes = [n for _, n in outputs] + [c.node for c in claims]
    nodes += [n for c in claims if (n := graph.lookup(c.target)) is not None]
    deep = too_deep_for_sympy(graph, nodes)
    if deep:
        return None, deep
    size = elements(graph)
    if size > SYMPY_ELEMENTS:
        return None, f"skipped: too large for SymPy ({size:,} input elements > {SYMPY_ELEMENTS:,})"
    try:
        with time_budget(timeout):
            return Oracle(graph, shapes, outputs, wrt, claims), ""
    except SympyTimeout:
        return None, f"skipped: SymPy too slow (over {timeout:g} s)"
    except SYMPY_FAILURES as exc:
        return None, f"skipped: SymPy cannot represent this ({sympy_failure(exc)})"


def run_oracle(oracle, timeout, *args) -> tuple[dict | None, str]:
    """Evaluate the oracle within the budget: (values, "") or (None, why it abstains)."""
    try:
        with time_budget(timeout):
            return oracle(*args), ""
    except SympyTimeout:
        return None, f"skipped: SymPy too slow (over {timeout:g} s)"
    except SYMPY_FAILURES as exc:
        return None, f"skipped: SymPy could not evaluate this ({sympy_failure(exc)})"


def check_point(ev: Evaluation, tol: Tolerances, timeout: float) -> list[Result]:
    """`agrad eval --check`: each gradient entry against SymPy and finite differences.

    `timeout` is one budget for every SymPy step.
    """
    timeout = Budget.of(timeout)
    g = ev.graph
    file = g.source.name if g.source else "<graph>"
    inputs = [w for w in ev.wrt if w in g.input_ids]
    outputs = [(r.name, r.node) for r in ev.outputs]
    shapes = {n: np.shape(v) for n, v in ev.inputs.items()}
    oracle, why = build_oracle(g, shapes, outputs, inputs, [], timeout)
    sym = None
    if oracle is not None:
        sym, why = run_oracle(oracle, timeout, ev.inputs)
    kinks = kinks_at(g, ev.values)
    results = []
    for r in ev.outputs:
        line = g.span(r.node).source.locate(g.starts[r.node])[0] if g.span(r.node) else 0
        for w in ev.wrt:
            mine = r.gradient[w]
            if w not in g.input_ids:
                results.append(
                    Result(file, r.name, w, "gradient", 1, "skipped: not an input", None, line)
                )
                continue
            fd = fd_gradient(g, ev.inputs, r.node, w, tol)
            ref = sym[(r.name, w)] if sym is not None else None
            error, ok = compare(mine, ref, fd, tol)
            status = PASS if ok else FAIL
            detail = ""
            touched = [k for k in kinks if engine.needs_grad(g, [g.input_ids[w]])[k]]
            if touched:
                status = KINK
                detail = f"{g.describe(touched[0])} at {g.where(touched[0])} is at a kink"
            elif ref is None:
                status = why if ok else FAIL
            if status == PASS and not judged(mine, ref, fd):
                status = UNJUDGED
            if status == FAIL and not np.all(np.isfinite(r.value)):
                status, detail = NONFINITE_VALUE, ""
            if status == FAIL:
                detail = culprit_text(g, ev.values, tol)
            results.append(
                Result(
                    file,
                    r.name,
                    w,
                    "gradient",
                    1,
                    status,
                    error,
                    line,
                    detail,
                    values={"engine": mine, "sympy": ref, "fd": fd},
                )
            )
    return results


def sample_domains(graph: Graph, ranges: dict[str, tuple[float, float]]) -> dict:
    """Each input's sampling range: --range, then the file's directive, then the default."""
    out = {}
    for name in graph.input_ids:
        if name in ranges:
            out[name] = ranges[name]
        elif name in graph.ranges:
            out[name] = graph.ranges[name][:2]
        else:
            out[name] = DEFAULT_RANGE
    return out


@dataclass
class Sample:
    """Accepted points and what was thrown away to find them."""

    evals: list[Evaluation]
    claims: list[list[tuple[np.ndarray, np.ndarray]]]
    kinks: int
    redrawn: int


def _claim_values(graph: Graph, ev: Evaluation) -> list[tuple[np.ndarray, np.ndarray]]:
    """Engine values of each claim's two sides at one evaluated point."""
    out = []
    for c in graph.claims:
        node = graph.symbols.get(c.target, graph.input_ids.get(c.target))
        if c.then:
            lhs = nested_derivative(graph, ev.values, node, c.variables)
        elif c.kind == "diff":
            wrt = graph.input_ids[c.wrt]
            adj = engine.backward(graph, ev.values, node, engine.needs_grad(graph, [wrt]))
            lhs = np.zeros(()) if adj[wrt] is None else np.asarray(adj[wrt], dtype=float)
        else:
            lhs = np.asarray(ev.values[node], dtype=float)
        out.append((lhs, _claim_rhs(c, lhs, ev.values[c.node])))
    return out


def elements(graph: Graph) -> int:
    """How many numbers the inputs hold (`# shape:` directives; scalars otherwise)."""
    return sum(int(np.prod(graph.shapes.get(n, ()), dtype=np.int64)) for n in graph.input_ids)


def _claim_rhs(claim: Claim, lhs: np.ndarray, rhs) -> np.ndarray:
    """A claim's right side in the left side's shape: an array value or gradient is compared
    element by element (a scalar right side broadcast); the gradient of an array by a scalar
    input is that of its sum, so there the right side's elements are summed."""
    rhs = np.asarray(rhs, dtype=float)
    if lhs.ndim == 0 and claim.kind == "diff":
        return np.asarray(np.sum(rhs), dtype=float)
    try:
        return np.broadcast_to(rhs, lhs.shape)
    except ValueError:
        what = "the gradient's" if claim.kind == "diff" else "the value's"
        raise AgradError(
            f"expect: the left side has shape {lhs.shape} ({what}), the right side "
            f"{rhs.shape}",
            claim.span,
            "write the right side in the left side's shape (a number stands for every element)",
        ) from None


def sample(graph: Graph, domains: dict, points: int, seed: int) -> Sample:
    """Draw points until `points` have finite results away from kinks (50x tries at most),
    and then, while some comparison has held only one way, points that show the other.
    Large inputs take fewer points: POINT_ELEMENTS elements in all, one point at least."""
    points = min(points, max(1, POINT_ELEMENTS // max(1, elements(graph))))
    rng = np.random.default_rng([seed, zlib.crc32((graph.source.name or "").encode())])
    evals, claims, kinks, redrawn = [], [], 0, 0
    conditions = [i for i, op in enumerate(graph.ops) if op in REGISTRY and is_condition(op)]
    seen: dict[int, set] = {i: set() for i in conditions}
    for _ in range(max(points * 50, 2000 if conditions else 0)):
        missing = [i for i in conditions if len(seen[i]) < 2]
        if len(evals) >= points and not missing:
            break
        values = {
            n: np.array(rng.uniform(lo, hi, size=graph.shapes.get(n, ())))
            for n, (lo, hi) in domains.items()
        }
        ev = evaluate(graph, values)
        with engine.fp_watch():
            sides = _claim_values(graph, ev)
        if not ev.finite or not all(
            engine.all_finite(a) and engine.all_finite(b) for a, b in sides
        ):
            redrawn += 1
            continue
        if kinks_at(graph, ev.values):
            kinks += 1
            continue
        new = {i: set(np.unique(ev.values[i]).tolist()) - seen[i] for i in conditions}
        if len(evals) >= points and not any(new[i] for i in missing):
            continue  # enough points; only one that takes a branch not yet taken
        for i in conditions:
            seen[i] |= new[i]
        evals.append(ev)
        claims.append(sides)
    return Sample(evals, claims, kinks, redrawn)
