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
from .choose import PLAN_ROWS, Choice, Device, Engine, Work, many_points

__all__ = ["PLAN_ROWS", "BatchResult", "Kernel", "RowSpec", "kernel_for", "run_batch"]


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
    choice: Choice | None = None  # the executor and why (--explain-engine)


@dataclass
class RowSpec:
    """What each row of a points file computes, and where: outputs, gradient columns, second
    derivatives, uncertainties, the engine and the device."""

    outputs: list[tuple[str, int]] | None = None  # default: the file's
    wrt: list[str] | None = None  # the inputs whose gradient columns are written (default: all)
    hessian: bool = False
    spread: object = None  # engines/uncertainty.py's Spread
    suffix: str | None = None  # sigma columns of the points file: <input><suffix>
    engine: str = "auto"
    device: str = "cpu"

    @property
    def second(self) -> bool:
        """True when second derivatives are computed (for the Hessian or the uncertainty)."""
        return self.hessian or (self.spread is not None and self.spread.order == 2)


def run_batch(
    graph: Graph,
    path: str,
    fixed: dict[str, np.ndarray],
    chunk: int,
    write: Callable[[list[str], np.ndarray], None],
    tick: Callable[[int], None] | None = None,
    spec: RowSpec | None = None,
) -> BatchResult:
    """Evaluate every row of a points file; `write` receives each block of output rows.

    `spec.engine` "auto" runs the compiled plan when it pays: the first block has at least
    PLAN_ROWS rows (tracing costs about as much as interpreting a few hundred rows) and the
    graph traces (every op elementwise, constants scalar). "compiled" insists on the plan,
    "interpreted" never uses it. With `spec.hessian` (one output) the second derivatives
    follow, as columns `d2f/dxdy`, computed from the recorded backward graph (on the plan when
    it traces). A `spec.spread` adds each output's sigma and variance shares.
    """
    spec = RowSpec() if spec is None else spec
    names, blocks = read_points(path, list(graph.input_ids), chunk)
    try:
        kernel = kernel_for(graph, names, path, fixed, spec)
        kernel.device = Device(spec.device)
        return _run(kernel, blocks, write, tick)
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()


def kernel_for(
    graph: Graph,
    names: list[str],
    path: str,
    fixed: dict[str, np.ndarray],
    spec: RowSpec | None = None,
) -> Kernel:
    """The kernel for points files with columns `names` (see run_batch for the rest)."""
    spec = RowSpec() if spec is None else spec
    outs = list(graph.outputs) if spec.outputs is None else spec.outputs
    chosen = _wrt_inputs(graph, spec.wrt)
    layout = None
    if spec.second:
        graph, outs, layout = _second_order(graph, outs, chosen)
        if not spec.hessian:  # the Hessian serves the uncertainty only: keep its columns out
            head = len(graph.input_ids) + len(outs)
            layout = (layout[0][:head], layout[1][:head])
    return Kernel(graph, outs, chosen, layout, fixed, names, path, spec)


class Kernel:
    """One block of points in, one block of result rows out: the same for every chunk of a
    file and for every partition of a Dask DataFrame (it pickles without its plan, which each
    process traces again on first use)."""

    def __init__(self, graph, outs, chosen, layout, fixed, names, path, spec: RowSpec):
        spread, second = spec.spread, spec.second
        if spread is not None:
            from .uncertainty import columns_of, with_columns

            spread = with_columns(spread, graph, names, spec.suffix, spec.wrt, path)
        sigma_columns = set(spread.columns.values()) if spread is not None else set()
        _check_columns(graph, path, fixed, [n for n in names if n not in sigma_columns])
        self.graph, self.outs, self.chosen, self.fixed = graph, outs, chosen, fixed
        self.names, self.path, self.engine = names, path, spec.engine
        self.spread, self.second = spread, second
        inputs = self.inputs = list(graph.input_ids)
        columns = [*inputs, *[o for o, _ in outs]]
        columns += [f"d{o}/d{w}" for o, _ in outs for w in chosen]
        self.keep = _keep(len(inputs), len(outs), [inputs.index(w) for w in chosen])
        if layout is not None:
            columns, self.keep = layout
        if spread is not None:
            columns += columns_of(spread, [o for o, _ in outs[: 1 if second else None]])
        self.columns = columns
        self.needs = engine_mod.needs_grad(graph, graph.input_ids.values())
        self.plan, self.decided, self.choice = None, False, None
        self.device = Device.cpu

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(plan=None, decided=False, choice=None)
        return state

    @property
    def ran(self) -> str:
        """Which engine has run: "compiled" or "interpreted"."""
        return "compiled" if self.plan is not None else "interpreted"

    def values(self, block: np.ndarray, row: int, path: str | None = None) -> tuple[dict, object]:
        """The block's input columns (with --at values) and its variances (or None); `path`
        names the file the block came from in messages."""
        n = len(block)
        values = {name: block[:, k].copy() for k, name in enumerate(self.names)}
        var = None
        if self.spread is not None:
            from .uncertainty import block_sigmas

            var = block_sigmas(self.spread, values, n, path or self.path, row)
        for name, v in self.fixed.items():
            values.setdefault(name, np.broadcast_to(np.asarray(v, dtype=float), (n,)))
        return values, var

    def table(self, values: dict, var, n: int) -> np.ndarray:
        """The result rows of one block: columns as `self.columns`."""
        if not self.decided:  # the first block decides (choose.many_points)
            self.decided = True
            self.plan, self.choice = _decide(self, n)
        if self.plan is None:
            cols = _interpreted(self.graph, values, self.outs, self.needs, n)
        else:
            cols = _planned(self.plan, values, n)
        kept = cols if self.keep is None else [cols[k] for k in self.keep]
        if self.spread is not None:
            kept += _spread_cols(self.spread, var, cols, self.inputs, len(self.outs),
                                 self.chosen, self.second)  # fmt: skip
        if not kept:
            return np.zeros((n, 0))
        return np.column_stack(kept)

    def rows(self, block: np.ndarray, path: str | None = None) -> tuple[np.ndarray, BatchResult]:
        """The result rows of a whole file of points, and its counts."""
        values, var = self.values(block, 0, path)
        table = self.table(values, var, len(block))
        result = BatchResult(len(block), columns=self.columns, engine=self.ran,
                             choice=self.choice)  # fmt: skip
        bad = ~np.isfinite(table).all(axis=1)
        if bad.any():
            result.nonfinite_rows = int(bad.sum())
            where = self.first_bad(values, int(np.argmax(bad)), 0)
            result.first_bad = f"{path or self.path}: {where}"
        return table, result

    def first_bad(self, values: dict, k: int, row: int) -> str:
        """Where row k of a block (row `row` + k of the file) first became non-finite."""
        one = {name: v[k : k + 1] for name, v in values.items()}
        with engine_mod.fp_watch(), paused_gc():
            vals = engine_mod.forward(self.graph, one)
        i = engine_mod.first_nonfinite_value(self.graph, vals)
        g = self.graph
        where = f"{g.describe(i)} at {g.where(i)}" if i is not None else "a gradient"
        return f"row {row + k + 1} (first non-finite: {where})"


def _run(kernel: Kernel, blocks, write, tick) -> BatchResult:
    """run_batch once the points file is open."""
    result = BatchResult(columns=kernel.columns, engine="interpreted")
    for block in blocks:
        n = len(block)
        values, var = kernel.values(block, result.rows)
        table = kernel.table(values, var, n)
        bad = ~np.isfinite(table).all(axis=1)
        if bad.any() and not result.first_bad:
            result.first_bad = kernel.first_bad(values, int(np.argmax(bad)), result.rows)
        result.nonfinite_rows += int(bad.sum())
        result.rows += n
        result.engine, result.choice = kernel.ran, kernel.choice
        write(kernel.columns, table)
        if tick:
            tick(n)
    return result


def _spread_cols(spread, var, cols, inputs, n_out, chosen, second) -> list[np.ndarray]:
    """Each output's sigma, shares (and second-order terms) from a block's full columns."""
    from .uncertainty import moments

    n_in, idx = len(inputs), [inputs.index(x) for x in spread.names]
    extra: list[np.ndarray] = []
    for o in range(1 if second else n_out):
        base = n_in + n_out + o * n_in
        grad = np.column_stack([np.broadcast_to(cols[base + j], (len(cols[0]),)) for j in idx])
        hess = None
        if second:  # output 1 + a is d f/d chosen[a]; its gradient is row a of the Hessian
            rows = [n_in + n_out + (1 + chosen.index(x)) * n_in for x in spread.names]
            hess = np.stack([[cols[r + j] for j in idx] for r in rows]).transpose(2, 0, 1)
        m = moments(grad, var, hess, spread.cov is not None)
        shares = m.shares()
        extra.append(m.sigma)
        extra += [shares[:, k] for k in range(len(idx))]
        if second:
            extra += [m.sigma1, m.shift]
    return extra


def _check_columns(graph: Graph, path, fixed: dict, names: list[str]) -> None:
    """Every input has exactly one source (a column or --at), before any row is read."""
    unknown = [n for n in names if n not in graph.input_ids]
    if unknown:
        hint = f"the inputs are: {', '.join(graph.input_ids)}"
        stem = next((x for x in graph.input_ids if unknown[0].startswith(x)), None)
        if stem is not None:
            suffix = unknown[0][len(stem) :]
            hint = f"if it holds sigmas of {stem}, add --sigma-suffix {suffix}; {hint}"
        else:
            hint = f"to carry it to the output, add --keep {','.join(unknown)}; {hint}"
        raise AgradError(f"{path}: column '{unknown[0]}' is not an input of the file", None, hint)
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
    from ..graph.derivative import derivative

    if len(outs) != 1:
        raise AgradError(
            f"second derivatives with --at-file (--hessian, --sigma-order 2) cover one output; "
            f"the file has "
            f"{len(outs)}: {', '.join(o for o, _ in outs)}",
            None,
            "pick one with --output NAME",
        )
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


def _decide(kernel: Kernel, n: int):
    """The plan (or None for the interpreter) and the choice, for a first block of n rows."""
    work = Work(nodes=len(kernel.graph), points=n, device=kernel.device, engine=kernel.engine)
    first = many_points(work)
    if first.engine is Engine.interpreter:
        return None, first
    insist = "--device cuda" if first.engine is Engine.cuda else f"--engine {kernel.engine}"
    plan = _plan(kernel.graph, kernel.outs, None if kernel.engine == "auto" and
                 first.engine is not Engine.cuda else insist)  # fmt: skip
    if plan is None:
        return None, Choice(Engine.interpreter, "the graph does not trace to a step list")
    choice = many_points(Work(nodes=len(kernel.graph), points=n, device=kernel.device,
                              engine=kernel.engine, steps=len(plan.program.code),
                              traceable=True, cached=plan.cached()))  # fmt: skip
    made = plan.use(choice)
    if kernel.engine in ("fused", "native") and made.engine is not choice.engine:
        raise AgradError(f"--engine {kernel.engine}: {made.why}", None, "use --engine auto")
    return plan, made


def _plan(graph: Graph, outs: list[tuple[str, int]], required: str | None):
    """The compiled plan of a graph; None (or, when `required` names the flag that insists,
    an error) if it won't trace."""
    from .plan import Plan
    from .tracer import NotTraceable

    try:
        return Plan.of(graph, outs)
    except NotTraceable as exc:
        if not required:
            return None
        raise AgradError(
            f"{required}: {exc}",
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
