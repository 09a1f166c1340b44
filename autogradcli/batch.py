"""Many points at once: each input a column, the graph run on 1-D arrays, chunk by chunk.

The batch axis is never reduced, so row k of every gradient is the gradient at point k; a
file whose reductions would mix rows is refused before anything runs.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import engine as engine_mod
from .errors import AgradError, paused_gc
from .graph import Graph
from .ops import REGISTRY

PLAN_ROWS = 1000


def refuse_mixing(graph: Graph, batched: list[str]) -> None:
    """Refuse a graph in which a reduction or matrix product touches a batched input."""
    touched = engine_mod.needs_grad(graph, [graph.input_ids[n] for n in batched])
    for i, a in enumerate(graph.inputs):
        if a and REGISTRY[graph.ops[i]].kind != "elementwise" and any(touched[j] for j in a):
            raise AgradError(
                f"{graph.ops[i]} would combine values from different points",
                graph.span(i),
                "batched evaluation needs formulas that work point by point; evaluate such "
                "files one point at a time with --at",
            )


def _csv_chunks(path: str, chunk: int) -> tuple[list[str], Iterator[np.ndarray]]:
    with open(path, encoding="utf-8-sig") as fh:
        header = fh.readline()
    names = [h.strip() for h in header.split(",")]
    if not header.strip() or not all(n.isidentifier() for n in names):
        raise AgradError(f"{path}: the first line must name the inputs, e.g. 'a,b,c'")

    def rows() -> Iterator[np.ndarray]:
        with open(path, encoding="utf-8-sig") as fh:
            fh.readline()
            line_no = 2
            while True:
                lines = list(itertools.islice(fh, chunk))
                if not lines:
                    return
                try:
                    block = np.loadtxt(io.StringIO("".join(lines)), delimiter=",", ndmin=2)
                except ValueError as exc:
                    raise AgradError(f"{path}: bad number near line {line_no}: {exc}") from None
                if block.shape[1] != len(names):
                    raise AgradError(
                        f"{path}: rows near line {line_no} have {block.shape[1]} "
                        f"columns, the header names {len(names)}"
                    )
                line_no += len(lines)
                yield block

    return names, rows()


def _load_all(path: str, order: list[str]) -> tuple[list[str], np.ndarray]:
    """A .npy, .npz or .json points file, whole, as (names, rows x columns)."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".npy":
            data = np.load(path, allow_pickle=False)
            if data.dtype.names:
                names = list(data.dtype.names)
                return names, np.column_stack([data[n].astype(float) for n in names])
            return order, np.asarray(data, dtype=float).reshape(len(data), -1)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                names = list(z.files)
                return names, np.column_stack(
                    [np.asarray(z[n], dtype=float).ravel() for n in names]
                )
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise AgradError(f"cannot read points from {path}: {exc}") from None
    if isinstance(doc, dict):
        names = list(doc)
        return names, np.column_stack([np.asarray(doc[n], dtype=float) for n in names])
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        names = list(doc[0])
        return names, np.array([[float(row[n]) for n in names] for row in doc])
    raise AgradError(f"{path}: expected {{name: [values]}} or [{{name: value}}, ...]")


def read_points(path: str, order: list[str], chunk: int) -> tuple[list[str], Iterator]:
    """Column names and an iterator of row blocks (at most `chunk` rows each)."""
    if not Path(path).is_file():
        raise AgradError(f"no such file: {path}")
    if Path(path).suffix.lower() in (".npy", ".npz", ".json"):
        names, data = _load_all(path, order)
        return names, (data[k : k + chunk] for k in range(0, len(data), chunk))
    return _csv_chunks(path, chunk)


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
) -> BatchResult:
    """Evaluate every row of a points file; `write` receives each block of output rows.

    `engine` "auto" runs the compiled plan when it pays: the first block has at least
    PLAN_ROWS rows (tracing costs about as much as interpreting a few hundred rows) and the
    graph traces (every op elementwise, constants scalar). "compiled" insists on the plan,
    "interpreted" never uses it.
    """
    names, blocks = read_points(path, list(graph.input_ids), chunk)
    unknown = [n for n in names if n not in graph.input_ids]
    if unknown:
        raise AgradError(
            f"{path}: column '{unknown[0]}' is not an input of the file",
            None,
            f"the inputs are: {', '.join(graph.input_ids)}",
        )
    missing = [n for n in graph.input_ids if n not in names and n not in fixed]
    if missing:
        raise AgradError(
            f"no values for {', '.join(missing)}: not in {path} and not given with --at",
            None,
            "add a column, or pass --at NAME=VALUE",
        )
    refuse_mixing(graph, names)
    inputs = [n for n in graph.input_ids]
    outs = list(graph.outputs)
    columns = [*inputs, *[o for o, _ in outs], *[f"d{o}/d{w}" for o, _ in outs for w in inputs]]
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
        table = np.column_stack(cols)
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
