"""Second and higher derivatives at a point, by running the one reverse sweep over the graph of
the first derivative (`graph/derivative.py`): Hessians, Hessian-vector and Jacobian-vector
products, and the derivatives of one variable to any order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import AgradError
from ..graph import Graph
from ..graph.derivative import Derivative, derivative
from ..graph.passes import Builder
from ..ops import FORWARD
from . import interpreter as engine
from .notice import Notice


@dataclass
class Point:
    """A graph with every node's value at one point."""

    graph: Graph
    values: list


def at(graph: Graph, inputs: dict[str, np.ndarray]) -> Point:
    """Evaluate every node at `inputs` (warnings silenced; callers report non-finite results)."""
    with engine.fp_watch():
        return Point(graph, engine.forward(graph, inputs))


def _adjoints(d: Derivative, node: int, seed=None) -> list:
    """Adjoints of every node of the derivative graph for `node`."""
    g = d.graph
    needs = engine.needs_grad(g, g.input_ids.values())
    with engine.fp_watch():
        return engine.backward(g, d.values, node, needs, seed=seed)


def _zeros_or(adj, shape) -> np.ndarray:
    return np.zeros(shape) if adj is None else np.asarray(adj, dtype=np.float64)


def hessian(point: Point, output: int, wrt: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """`h[x][y]` = d2 f / dx dy, shaped (*shape(x), *shape(y)); f is the sum of the output's
    elements, as for gradients."""
    d = derivative(point.graph, point.values, output, wrt)
    ids = point.graph.input_ids
    shapes = {name: np.shape(point.values[ids[name]]) for name in wrt}
    h: dict[str, dict[str, np.ndarray]] = {}
    for x in wrt:
        rows = {y: np.zeros(shapes[x] + shapes[y]) for y in wrt}
        node = d.grads[x]
        if node is not None:
            for e in np.ndindex(shapes[x]):
                seed = np.zeros(shapes[x])
                seed[e] = 1.0
                adj = _adjoints(d, node, seed)
                for y in wrt:
                    rows[y][e] = _zeros_or(adj[ids[y]], shapes[y])
        h[x] = rows
    return h


def inner(d: Derivative, vector: dict[str, np.ndarray]) -> int | None:
    """Add s = sum over x of sum(d f/dx * v_x) to the derivative graph; its node, or None."""
    g, total = d.graph, None
    for name, v in vector.items():
        node = d.grads.get(name)
        if node is None:
            continue
        c = g.add_const(np.asarray(v, dtype=np.float64))
        d.values.append(g.consts[c])
        term = _append(d, "sum", (_append(d, "mul", (node, c)),))
        total = term if total is None else _append(d, "add", (total, term))
    return total


def _append(d: Derivative, op: str, args: tuple[int, ...], **attrs) -> int:
    """Add an op node to the derivative graph, with its value."""
    i = d.graph.add_op(op, args, attrs=attrs or None)
    with np.errstate(all="ignore"):
        d.values.append(FORWARD[op](*[d.values[j] for j in args], **attrs))
    return i


def hvp(
    point: Point, output: int, wrt: list[str], vector: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """H v without forming H: the gradient of <grad f, v>."""
    d = derivative(point.graph, point.values, output, wrt)
    ids = point.graph.input_ids
    s = inner(d, vector)
    adj = _adjoints(d, s) if s is not None else [None] * len(d.graph)
    return {x: _zeros_or(adj[ids[x]], np.shape(point.values[ids[x]])) for x in wrt}


def jvp(point: Point, output: int, vector: dict[str, np.ndarray]) -> np.ndarray:
    """J v, shaped like the output: the derivative along v."""
    return jvps(point, output, [vector])[0]


def jvps(point: Point, output: int, vectors: list[dict[str, np.ndarray]]) -> list[np.ndarray]:
    """J v for each v, by differentiating the VJP <J^T u, v> with respect to its seed u (linear
    in u, so u's value does not matter). The seeded backward graph is recorded once; each
    direction adds only its inner product and one sweep."""
    graph = _with_seed_input(point.graph)
    u = graph.input_ids[SEED]
    shape = np.shape(point.values[output])
    values = [*point.values, np.zeros(shape)]
    names = sorted({name for v in vectors for name in v}, key=list(graph.input_ids).index)
    d = derivative(graph, values, output, names, seed=u)
    out = []
    for vector in vectors:
        s = inner(d, vector)
        out.append(np.zeros(shape) if s is None else _zeros_or(_adjoints(d, s)[u], shape))
    return out


SEED = "\x00seed"  # a name no file can use


def _with_seed_input(graph: Graph) -> Graph:
    """A copy of the graph with one more input, the symbolic seed."""
    b = Builder(graph)
    for i in range(len(graph)):
        b.copy(i)
    g = b.finish()
    g.add_input(SEED)
    return g


def nested_derivative(graph: Graph, values: list, node: int, names: tuple[str, ...]):
    """d/d names[-1] ... d/d names[0] of the sum of a node's elements, by differentiating the
    recorded backward graph once per name (each step sums the previous result's elements)."""
    g, vals = graph, values
    for name in names:
        d = derivative(g, vals, node, [name])
        if d.grads[name] is None:
            return np.zeros(np.shape(values[graph.input_ids[names[-1]]]))
        g, vals, node = d.graph, d.values, d.grads[name]
    return np.asarray(vals[node], dtype=float)


ORDER_NODES = 200_000  # most nodes a graph of a k-th derivative may hold (AGRAD_ORDER_NODES)


def order_bound(graph: Graph) -> int:
    """Most nodes the recorded graph of a higher derivative may hold: AGRAD_ORDER_NODES (or
    ORDER_NODES), and never less than ten times the formula's own graph."""
    text = os.environ.get("AGRAD_ORDER_NODES", "").strip().replace("_", "")
    if not text:
        return max(ORDER_NODES, 10 * len(graph))
    if not text.isdigit() or int(text) < 1:
        raise AgradError(
            f"AGRAD_ORDER_NODES={os.environ['AGRAD_ORDER_NODES']!r} is not a whole number of "
            "nodes",
            None,
            f"set it to a positive whole number such as {ORDER_NODES}, or unset it",
        )
    return max(int(text), 10 * len(graph))


def derivatives(point: Point, output: int, x: str, order: int) -> list[float]:
    """d f/dx, d2 f/dx2, ... up to `order`, for a scalar input x and a scalar output. Each
    order differentiates the graph of the one before, which grows by a factor per order;
    when the next one would pass `order_bound`, an error gives the estimated size."""
    ids = point.graph.input_ids
    if np.ndim(point.values[ids[x]]) or np.ndim(point.values[output]):
        raise AgradError(
            f"--order differentiates one scalar input of one scalar output; {x} or the output "
            "is an array",
            None,
            "use --hessian for arrays",
        )
    out: list[float] = []
    graph, values, node = point.graph, point.values, output
    bound, growth = order_bound(point.graph), 3.0
    for _ in range(order):
        if out and len(graph) * growth > bound:
            _too_costly(len(out), order, len(graph), growth, bound)
        size = len(graph)
        d = derivative(graph, values, node, [x])
        nxt = d.grads[x]
        if nxt is None:
            out.extend([0.0] * (order - len(out)))
            break
        out.append(float(d.values[nxt]))
        graph, values, node = d.graph, d.values, nxt
        growth = max(len(graph) / size, 1.0)
    return out


def _too_costly(done: int, order: int, size: int, growth: float, bound: int) -> None:
    """Refuse an order whose graph would pass the bound, with the estimated size."""
    estimate = size * growth ** (order - done)
    raise AgradError(
        f"--order {order} would record a derivative graph of about {estimate:,.0f} nodes "
        f"(it grows {growth:.1f}x per order; order {done} holds {size:,}); the bound is "
        f"{bound:,} nodes (AGRAD_ORDER_NODES)",
        None,
        f"ask for --order {done} or less, or raise AGRAD_ORDER_NODES",
    )


def gradient_graph(graph: Graph, output: int | None = None) -> Graph:
    """The recorded backward graph of `output` (default: the first) for scalar inputs, whose
    outputs are the gradient `d{f}/d{x}`: evaluating it gives the gradient, and its own
    gradients are the Hessian's rows. Rules branch only on constants and shapes, so one
    recording serves every point of the same shapes."""
    node = graph.outputs[0][1] if output is None else output
    shapes = getattr(graph, "shapes", None) or {}  # `# shape:` directives; scalars otherwise
    example = {name: np.full(shapes.get(name, ()), 0.5) for name in graph.input_ids}
    try:
        point = at(graph, example)
    except AgradError as exc:
        raise AgradError(
            f"the gradient graph is recorded for fixed shapes, and these do not fit: {exc.message}",
            exc.span,
            "give each array input its shape in the file: # shape: W (3, 2), x (2)",
        ) from None
    d = derivative(point.graph, point.values, node, list(graph.input_ids))
    g, name = d.graph, dict((i, n) for n, i in graph.outputs).get(node) or "f"
    outputs = dict(g.outputs)
    g.outputs = []
    for x, grad in d.grads.items():  # every input has its row, zeros where none reaches it
        key = f"d{name}/d{x}"
        if grad is None:
            grad = g.add_const(np.zeros(np.shape(example[x])))
        g.add_output(key, outputs.get(key, grad))
    return g


def hessian_plan(graph: Graph, output: int | None = None):
    """A compiled plan whose values are the gradient of `output` (named `d{f}/d{x}`) and whose
    gradients are the Hessian's rows: the recorded backward graph, traced once into the flat
    ufunc program (NumPy blocks for many points, Python floats for one). Elementwise graphs
    of scalar inputs only (tracer.NotTraceable otherwise)."""
    from .plan import Plan

    return Plan.of(gradient_graph(graph, output))


def backward_graph(
    graph: Graph, inputs: dict[str, np.ndarray], output: int, order: int = 1
) -> tuple[Graph, list, int]:
    """The graph to draw for `agrad graph --backward`: the forward nodes, then the recorded
    backward pass of `output` (with `order` 2, then the pass of the Hessian along ones: H·1).
    Returns the graph, every node's value, and the first backward node's id."""
    point = at(graph, inputs)
    names = list(graph.input_ids)
    d = derivative(point.graph, point.values, output, names)
    if order == 2:
        ones = {n: np.ones(np.shape(point.values[i])) for n, i in graph.input_ids.items()}
        s = inner(d, ones)
        if s is not None:
            d.graph.names[s] = "∇f·1"
            d = derivative(d.graph, d.values, s, names)
    return d.graph, d.values, len(graph)


@dataclass
class Higher:
    """What `agrad eval` reports beyond the gradient for one output."""

    name: str
    hessian: dict[str, dict[str, np.ndarray]] | None = None
    hvp: dict[str, np.ndarray] | None = None
    jvp: np.ndarray | None = None
    derivatives: list[float] | None = None  # d f/dx ... d^n f/dx^n of one input
    notices: list = field(default_factory=list)  # where a nan or inf came from


def higher(
    graph: Graph,
    inputs: dict[str, np.ndarray],
    outputs: list[tuple[str, int]],
    wrt: list[str],
    hessian_: bool = False,
    hvp_: dict[str, np.ndarray] | None = None,
    jvp_: dict[str, np.ndarray] | None = None,
    order: int | None = None,
) -> list[Higher]:
    """Second and higher derivatives of each output at one point."""
    point = at(graph, inputs)
    results = []
    for name, node in outputs:
        r = Higher(name)
        if hessian_:
            r.hessian = hessian(point, node, wrt)
        if hvp_ is not None:
            r.hvp = hvp(point, node, wrt, hvp_)
        if jvp_ is not None:
            r.jvp = jvp(point, node, jvp_)
        if order is not None:
            r.derivatives = derivatives(point, node, wrt[0], order)
        if not _finite(r):
            r.notices.append(_origin(point, node, name, wrt))
        results.append(r)
    return results


def _finite(r: Higher) -> bool:
    parts = [r.jvp, r.derivatives, *(r.hvp or {}).values()]
    parts += [v for row in (r.hessian or {}).values() for v in row.values()]
    return all(bool(np.isfinite(np.asarray(p, dtype=float)).all()) for p in parts if p is not None)


def _origin(point: Point, node: int, name: str, wrt: list[str]):
    """A notice naming where a second derivative's nan or inf was born: the first backward node
    whose value is not finite carries the position of the forward node whose rule made it."""
    d = derivative(point.graph, point.values, node, wrt)
    i = engine.first_nonfinite_value(d.graph, d.values)
    if i is None:
        return Notice("second", f"a second derivative of {name} is not finite", node, "", "")
    g = d.graph
    span = g.span(i)
    kind = "nan" if np.isnan(np.asarray(d.values[i], dtype=float)).any() else "inf"
    what = f"a second derivative of {name} is {kind}; first produced by the derivative rule here"
    source = span.text() if span else ""
    return Notice("second", f"{what} (n{i}, {g.ops[i]})", i, g.where(i), source)


def direction(graph: Graph, given: dict[str, np.ndarray], inputs: dict, flag: str) -> dict:
    """A direction for --hvp/--jvp: each named input's entry, zeros for the rest, shapes
    checked against the point."""
    out = {}
    for name, v in given.items():
        if name not in graph.input_ids:
            raise AgradError(
                f"{flag} {name}=...: '{name}' is not an input of the file",
                None,
                f"the inputs are: {', '.join(graph.input_ids)}",
            )
        shape = np.shape(inputs[name])
        if np.shape(v) != shape:
            raise AgradError(
                f"{flag} {name}: the direction has shape {np.shape(v)}, the input {shape}",
                None,
                "give one number per element of the input",
            )
        out[name] = np.asarray(v, dtype=np.float64)
    for name in graph.input_ids:
        out.setdefault(name, np.zeros(np.shape(inputs[name])))
    return out
