"""Evaluate a Graph at one point: values, gradients, Jacobians, edges and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import AgradError, paused_gc, suggest
from ..graph import Graph
from . import interpreter as engine
from .choose import Choice, Engine, Work, one_point
from .notice import Notice


@dataclass
class OutputResult:
    """One output's value, its gradient per wrt name, and its adjoint of every node."""

    name: str
    node: int
    value: np.ndarray
    gradient: dict[str, np.ndarray]
    adjoints: list
    contributions: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    jacobian: dict[str, np.ndarray] | None = None
    mode: str | None = None  # how the Jacobian was computed: "forward" or "reverse"


@dataclass
class Evaluation:
    """Everything `agrad eval` reports about one point."""

    graph: Graph
    inputs: dict[str, np.ndarray]
    values: list
    wrt: list[str]
    outputs: list[OutputResult]
    partials: dict[tuple[int, int], np.ndarray] | None
    notices: list[Notice]
    choice: Choice | None = None  # which engine ran, and why

    @property
    def finite(self) -> bool:
        """True when no value or gradient was nan or inf."""
        return not self.notices


def named_node(graph: Graph, name: str, option: str) -> int:
    """The node a name on the command line refers to, or an error suggesting a close name."""
    node = graph.lookup(name)
    if node is None:
        known = [*graph.symbols, *graph.input_ids]
        raise AgradError(
            f"{option} {name}: no value named '{name}' in the file",
            None,
            suggest(name, known) or f"named values: {', '.join(known) or 'none'}",
        )
    return node


def pick_outputs(graph: Graph, names: list[str] | None) -> list[tuple[str, int]]:
    """The outputs asked for by `--output`, or the file's own."""
    if not names:
        return list(graph.outputs)
    return [(name, named_node(graph, name, "--output")) for name in names]


def pick_wrt(graph: Graph, names: list[str] | None) -> list[tuple[str, int]]:
    """The nodes to differentiate with respect to: `--wrt` names, or every input."""
    if not names:
        return list(graph.input_ids.items())
    return [(name, named_node(graph, name, "--wrt")) for name in names]


def evaluate(
    graph: Graph,
    inputs: dict[str, np.ndarray],
    outputs: list[str] | None = None,
    wrt: list[str] | None = None,
    edges: bool = False,
    jacobian: bool = False,
    floats: bool = False,
    needed: bool = False,
) -> Evaluation:
    """Run forward and one backward pass per output (per element with `jacobian`).

    With `floats`, a large graph of scalars runs on Python floats (scalar.py), whose node
    values are then floats rather than arrays; anything non-finite reruns on NumPy. With
    `needed`, only the nodes the outputs and `wrt` depend on are computed (the others' values
    stay None); `edges` computes every node.
    """
    outs = pick_outputs(graph, outputs)
    targets = pick_wrt(graph, wrt)
    live = None
    if needed and not edges:
        live = graph.ancestors([node for _, node in outs] + [node for _, node in targets])
    scalars = floats and not any(np.ndim(v) for v in inputs.values())
    choice = one_point(Work(nodes=len(graph), scalars=scalars, per_node=edges or jacobian))
    if choice.engine is Engine.floats:
        ev = _on_floats(graph, inputs, outs, targets, live)
        if ev is not None:
            ev.choice = choice
            return ev
        why = "Python floats declined (an op without float rules, or a value not finite)"
        choice = Choice(Engine.interpreter, why)
    needs = engine.needs_grad(graph, [node for _, node in targets])
    with engine.fp_watch() as events, paused_gc():
        vals = engine.forward(graph, inputs, live)
        results = []
        for name, node in outs:
            record: dict | None = {} if edges else None
            adj = engine.backward(graph, vals, node, needs, record=record)
            grad = {w: _adjoint(adj, vals, j) for w, j in targets}
            result = OutputResult(name, node, np.asarray(vals[node]), grad, adj, record or {})
            if jacobian:
                result.jacobian, result.mode = _jacobian(graph, vals, node, needs, targets)
            results.append(result)
    partials = engine.local_partials(graph, vals) if edges else None
    notices = _notices(graph, vals, results, needs, bool(events))
    wrt_names = [w for w, _ in targets]
    return Evaluation(graph, inputs, vals, wrt_names, results, partials, notices, choice)


def _on_floats(graph, inputs, outs, targets, live=None) -> Evaluation | None:
    """`evaluate` on Python floats; None when the graph needs arrays or anything is not
    finite (the NumPy engine then reports it exactly as it always does)."""
    from . import floats as scalar

    if not scalar.eligible(graph, inputs):
        return None
    cols = graph.columns()
    if cols is None:
        return None
    with paused_gc():
        done = scalar.forward(graph, inputs, [node for _, node in targets], cols, live)
        if done is None:
            return None
        vals, needs = done
        results = []
        for name, node in outs:
            adj = scalar.backward(graph, vals, node, needs, cols)
            if adj is None:
                return None
            grad = {w: np.asarray(0.0 if adj[j] is None else adj[j]) for w, j in targets}
            results.append(OutputResult(name, node, np.asarray(vals[node]), grad, adj))
    return Evaluation(graph, inputs, vals, [w for w, _ in targets], results, None, [])


def _adjoint(adj: list, vals: list, j: int) -> np.ndarray:
    """The adjoint of node j, or zeros when the output does not depend on it."""
    return np.zeros(np.shape(vals[j])) if adj[j] is None else np.asarray(adj[j], dtype=float)


def _jacobian(graph, vals, node, needs, targets) -> tuple[dict[str, np.ndarray], str]:
    """The full Jacobian and the mode used: forward mode (one pass per input element) when
    the inputs have fewer elements than the output and are all inputs, else reverse mode (one
    pass per output element)."""
    shape = np.shape(vals[node])
    columns = sum(int(np.size(vals[j])) for _, j in targets)
    if columns < int(np.prod(shape, dtype=int)) and all(w in graph.input_ids for w, _ in targets):
        return _forward_jacobian(graph, vals, node, targets), "forward"
    return _reverse_jacobian(graph, vals, node, needs, targets), "reverse"


def _forward_jacobian(graph, vals, node, targets) -> dict[str, np.ndarray]:
    """J e for each input element e, by differentiating the VJP with respect to its seed."""
    from .higher import Point, jvps

    point = Point(graph, vals)
    directions, where = [], []
    for w, j in targets:
        for e in np.ndindex(np.shape(vals[j])):
            direction = {n: np.zeros(np.shape(vals[i])) for n, i in graph.input_ids.items()}
            direction[w][e] = 1.0
            directions.append(direction)
            where.append(w)
    columns = jvps(point, node, directions)  # one recording for every column
    out: dict[str, np.ndarray] = {}
    for w, j in targets:
        cols = [c for c, name in zip(columns, where, strict=True) if name == w]
        stacked = np.stack(cols, axis=-1) if cols else np.zeros((*np.shape(vals[node]), 0))
        out[w] = stacked.reshape(np.shape(vals[node]) + np.shape(vals[j]))
    return out


def _reverse_jacobian(graph, vals, node, needs, targets) -> dict[str, np.ndarray]:
    """One reverse pass per element of the output."""
    shape = np.shape(vals[node])
    rows: dict[str, list] = {w: [] for w, _ in targets}
    for k in range(int(np.prod(shape, dtype=int))):
        seed = np.zeros(shape)
        seed.flat[k] = 1.0
        adj = engine.backward(graph, vals, node, needs, seed=seed)
        for w, j in targets:
            rows[w].append(_adjoint(adj, vals, j))
    return {
        w: np.array(r).reshape(shape + np.shape(vals[j]))
        for (w, j), r in zip(targets, rows.values(), strict=True)
    }


def _notices(graph, vals, results, needs, flagged) -> list[Notice]:
    """Name the first node that produced a non-finite value, and for each output's gradient."""
    notices = []
    outputs_bad = any(not engine.all_finite(r.value) for r in results)
    if flagged or outputs_bad:
        i = engine.first_nonfinite_value(graph, vals)
        if i is not None:
            what = f"{graph.describe(i)} is {_kind(vals[i])}; first produced here"
            notices.append(_notice(graph, "value", i, what))
    for r in results:
        if all(engine.all_finite(g) for g in r.gradient.values()):
            continue
        i = engine.first_nonfinite_vjp(graph, vals, r.adjoints, needs)
        if i is None:
            i = engine.first_nonfinite_value(graph, vals)
        if i is not None:
            bad = _kind(_vjp_bad(graph, vals, r.adjoints, needs, i))
            what = f"gradient of {r.name} is not finite: the derivative of {graph.describe(i)}"
            notices.append(_notice(graph, "gradient", i, f"{what} gives {bad}"))
    return notices


def _vjp_bad(graph, vals, adj, needs, i):
    a = graph.inputs[i]
    with engine.fp_watch():
        g = adj[i] if adj[i] is not None else np.ones_like(vals[i])
        grads = engine.VJP[graph.ops[i]](
            g, vals[i], *[vals[j] for j in a], **(graph.attrs[i] or {})
        )
    used = [np.ravel(g) for j, g in zip(a, grads, strict=False) if g is not None and needs[j]]
    return np.concatenate(used or [np.zeros(0)])


def _kind(x) -> str:
    x = np.asarray(x)
    if np.isnan(x).any():
        return "nan"
    return "-inf" if (x == -np.inf).any() else "inf"


def _notice(graph: Graph, kind: str, i: int, message: str) -> Notice:
    span = graph.span(i)
    return Notice(kind, message, i, graph.where(i), span.text() if span else "")
