"""Many points at once: each input a column, the graph run on 1-D arrays, chunk by chunk.

The batch axis is never reduced, so row k of every gradient is the gradient at point k; a
file whose reductions would mix rows is refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import AgradError, paused_gc
from ..graph import Graph
from ..io.points import read_points
from ..ops import REGISTRY, Kind
from . import interpreter as engine_mod

PLAN_ROWS = 1000


def refuse_mixing(graph: Graph, batched: list[str]) -> None:
    """Refuse a graph in which a reduction or matrix product touches a batched input."""
    touched = engine_mod.needs_grad(graph, [graph.input_ids[n] for n in batched])
    for i, a in enumerate(graph.inputs):
        if a and REGISTRY[graph.ops[i]].kind is not Kind.ELEMENTWISE and any(touched[j] for j in a):
            raise AgradError(
                f"{graph.ops[i]} would combine values from different points",
                graph.span(i),
                "batched evaluation needs formulas that work point by point; evaluate such "
                "files one point at a time with --at",
            )


@dataclass
class BatchResult:
    """Counts and where the first non-finite row came from."""

    rows: int = 0
    nonfinite_rows: int = 0
    first_bad: str = ""
    columns: list[str] = field(default_factory=list)
    engine: str = ""


def run_batch(
    graph: Graph,
    path: str,
    fixed: dict[str, np.ndarray],
    chunk: int,
    write: Callable[[list[str], np.ndarray], None],
    tick: Callable[[int], None] | None = None,
    engine: str = "auto",
    outputs: list[tuple[str, int]] | None = None,
    wrt: list[str] | None = None,
    hessian: bool = False,
) -> BatchResult:
    """Evaluate every row of a points file; `write` receives each block of output rows.

    `engine` "auto" runs the compiled plan when it pays: the first block has at least
    PLAN_ROWS rows (tracing costs about as much as interpreting a few hundred rows) and the
    graph traces (every op elementwise, constants scalar). "compiled" insists on the plan,
    "interpreted" never uses it. `outputs` picks outputs (default: the file's), `wrt`
    the inputs whose gradient columns are written (default: all). With `hessian` (one output)
    the second derivatives follow, as columns `d2f/dxdy`, computed from the recorded backward
    graph (on the plan when it traces).
    """
    outs = list(graph.outputs) if outputs is None else outputs
    chosen = _wrt_inputs(graph, wrt)
    layout = None
    if hessian:
        graph, outs, layout = _second_order(graph, outs, chosen)
    names, blocks = read_points(path, list(graph.input_ids), chunk)
    try:
        return _run(graph, path, fixed, write, tick, engine, outs, chosen, names, blocks, layout)
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()


def _run(
    graph, path, fixed, write, tick, engine, outs, chosen, names, blocks, layout=None
) -> BatchResult:
    """run_batch once the points file is open; `layout` gives second-order columns."""
    _check_columns(graph, path, fixed, names)
    inputs = list(graph.input_ids)
    columns = [*inputs, *[o for o, _ in outs], *[f"d{o}/d{w}" for o, _ in outs for w in chosen]]
    keep = _keep(len(inputs), len(outs), [inputs.index(w) for w in chosen])
    if layout is not None:
        columns, keep = layout
    result = BatchResult(columns=columns, engine="interpreted")
    plan = None
    needs = engine_mod.needs_grad(graph, graph.input_ids.values())
    for count, block in enumerate(blocks):
        n = len(block)
        if count == 0 and engine != "interpreted" and (engine == "compiled" or n >= PLAN_ROWS):
            plan = _plan(graph, outs, engine == "compiled")
            result.engine = "interpreted" if plan is None else "compiled"
        values = {name: block[:, k].copy() for k, name in enumerate(names)}
        for name, v in fixed.items():
            values.setdefault(name, np.broadcast_to(np.asarray(v, dtype=float), (n,)))
        if plan is None:
            cols = _interpreted(graph, values, outs, needs, n)
        else:
            cols = _planned(plan, values, n)
        table = np.column_stack(cols if keep is None else [cols[k] for k in keep])
        bad = ~np.isfinite(table).all(axis=1)
        if bad.any() and not result.first_bad:
            k = int(np.argmax(bad))
            row = {name: v[k : k + 1] for name, v in values.items()}
            with engine_mod.fp_watch(), paused_gc():
                vals = engine_mod.forward(graph, row)
            i = engine_mod.first_nonfinite_value(graph, vals)
            where = f"{graph.describe(i)} at {graph.where(i)}" if i is not None else "a gradient"
            result.first_bad = f"row {result.rows + k + 1} (first non-finite: {where})"
        result.nonfinite_rows += int(bad.sum())
        result.rows += n
        write(columns, table)
        if tick:
            tick(n)
    return result


def _check_columns(graph: Graph, path, fixed: dict, names: list[str]) -> None:
    """Every input has exactly one source (a column or --at), before any row is read."""
    unknown = [n for n in names if n not in graph.input_ids]
    if unknown:
        raise AgradError(
            f"{path}: column '{unknown[0]}' is not an input of the file",
            None,
            f"the inputs are: {', '.join(graph.input_ids)}",
        )
    both = [n for n in names if n in fixed]
    if both:
        raise AgradError(
            f"'{both[0]}' is given twice: by --at and by a column of {path}",
            None,
            f"drop --at {both[0]}=..., or the column",
        )
    for name, v in fixed.items():
        if np.ndim(v):
            raise AgradError(
                f"--at {name}: with --at-file, a value given with --at is the same at every "
                f"point and must be one number, not an array of shape {np.shape(v)}",
                None,
                f"add a column '{name}' to {path} instead",
            )
    missing = [n for n in graph.input_ids if n not in names and n not in fixed]
    if missing:
        raise AgradError(
            f"no values for {', '.join(missing)}: not in {path} and not given with --at",
            None,
            "add a column, or pass --at NAME=VALUE",
        )
    refuse_mixing(graph, names)


def _wrt_inputs(graph: Graph, wrt: list[str] | None) -> list[str]:
    """The inputs `--wrt` names (all when None); intermediates are refused here."""
    from ..errors import suggest

    if not wrt:
        return list(graph.input_ids)
    for w in wrt:
        if w in graph.input_ids:
            continue
        if graph.lookup(w) is not None:
            raise AgradError(
                f"--wrt {w}: '{w}' is computed by the file; --at-file differentiates by inputs",
                None,
                "evaluate one point with --at to differentiate by an intermediate",
            )
        raise AgradError(
            f"--wrt {w}: '{w}' is not an input",
            None,
            suggest(w, list(graph.input_ids)) or f"the inputs are: {', '.join(graph.input_ids)}",
        )
    return list(dict.fromkeys(wrt))


def _second_order(graph: Graph, outs, chosen: list[str]):
    """The graph of the output's gradient, its outputs (the value, then d f/dx for each chosen
    x), and the columns to write: inputs, f, df/dx..., then d2f/dxdy for x, y chosen."""
    from ..graph.derivative import check_recordable, derivative

    if len(outs) != 1:
        raise AgradError(
            f"--hessian with --at-file writes one output's second derivatives; the file has "
            f"{len(outs)}: {', '.join(o for o, _ in outs)}",
            None,
            "pick one with --output NAME",
        )
    check_recordable(graph)
    (name, node), inputs = outs[0], list(graph.input_ids)
    example = {n: np.array(0.5) for n in inputs}  # shapes are all a derivative graph keeps
    with engine_mod.fp_watch():
        d = derivative(graph, engine_mod.forward(graph, example), node, chosen)
    zero = d.graph.add_const(0.0)  # an input the output does not depend on: d f/dx = 0
    outs2 = [(name, node)] + [(f"d{name}/d{x}", d.grads[x] or zero) for x in chosen]
    n_in, n_out, k = len(inputs), len(outs2), [inputs.index(x) for x in chosen]
    head = list(range(n_in + n_out))
    second = [n_in + n_out + o * n_in + j for o in range(1, n_out) for j in k]
    columns = [*inputs, *[o for o, _ in outs2]]
    columns += [f"d2{name}/d{x}d{y}" for x in chosen for y in chosen]
    return d.graph, outs2, (columns, head + second)


def _keep(n_inputs: int, n_outs: int, chosen: list[int]) -> list[int] | None:
    """Column indices to keep when only some gradients are asked for (None: all)."""
    if chosen == list(range(n_inputs)):
        return None
    head = list(range(n_inputs + n_outs))
    grads = [n_inputs + n_outs + o * n_inputs + k for o in range(n_outs) for k in chosen]
    return head + grads


def _plan(graph: Graph, outs: list[tuple[str, int]], required: bool):
    """The compiled plan of a graph; None (or, when `required`, an error) if it won't trace."""
    from .plan import Plan
    from .tracer import NotTraceable

    try:
        return Plan.of(graph, outs)
    except NotTraceable as exc:
        if not required:
            return None
        raise AgradError(
            f"--engine compiled: {exc}",
            None if exc.node is None else graph.span(exc.node),
            "the compiled plan runs elementwise graphs with scalar constants; use --engine auto",
        ) from None


def _interpreted(graph: Graph, values: dict, outs, needs: list[bool], n: int) -> list:
    """One block through the engine's loops: input, value and gradient columns."""
    inputs = list(graph.input_ids)
    with engine_mod.fp_watch(), paused_gc():
        vals = engine_mod.forward(graph, values)
        cols = [np.broadcast_to(values[w], (n,)) for w in inputs]
        cols += [np.broadcast_to(vals[node], (n,)) for _, node in outs]
        for _, node in outs:
            adj = engine_mod.backward(graph, vals, node, needs)
            for w in inputs:
                a = adj[graph.input_ids[w]]
                cols.append(np.zeros(n) if a is None else np.broadcast_to(a, (n,)))
    return cols


def _planned(plan, values: dict, n: int) -> list:
    """One block through the compiled plan, in the same column order."""
    flat = plan.run_batch([values[w] for w in plan.inputs], n)
    k = len(plan.inputs) + 1
    cols = [np.broadcast_to(values[w], (n,)) for w in plan.inputs]
    cols += flat[::k]
    cols += [g for p in range(0, len(flat), k) for g in flat[p + 1 : p + k]]
    return cols
