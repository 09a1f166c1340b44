"""The NumPy reverse-mode engine: a forward loop over the node list and a reverse loop.

Nothing here recurses over the graph. Broadcasting is undone in one place (`unbroadcast`),
and each op contributes only its registry VJP.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import AgradError
from ..graph import Graph
from ..graph.sweep import sweep
from ..ops import FORWARD, TAKES_NEEDS, VJP
from ..ops.attrs import ShapeError
from ..ops.numeric import fp_watch, unbroadcast

__all__ = ["backward", "forward", "fp_watch", "needs_grad", "unbroadcast"]


class RuleError(RuntimeError):
    """A derivative rule broke its contract (wrong number of entries or shapes)."""


def forward(graph: Graph, inputs: dict[str, np.ndarray], live: bytearray | None = None) -> list:
    """Compute every node's value (only those flagged in `live`, when given; the others stay
    None); `inputs` maps input names to arrays."""
    n = len(graph)
    vals: list = [None] * n
    for i, value in graph.consts.items():
        vals[i] = value
    for name, i in graph.input_ids.items():
        vals[i] = inputs[name]
    ops, ins, attrs, fwd = graph.ops, graph.inputs, graph.attrs, FORWARD
    i = 0
    try:
        for i in range(n):
            a = ins[i]
            if not a or (live is not None and not live[i]):
                continue
            f = fwd[ops[i]]
            if attrs[i]:
                vals[i] = f(*[vals[j] for j in a], **attrs[i])
            elif len(a) == 2:
                vals[i] = f(vals[a[0]], vals[a[1]])
            elif len(a) == 1:
                vals[i] = f(vals[a[0]])
            else:
                vals[i] = f(*[vals[j] for j in a])
    except ShapeError as exc:  # a wrong axis or index: its message names the shapes
        raise AgradError(str(exc), graph.span(i), "check the shapes given with --at") from None
    except ValueError as exc:
        shapes = " and ".join(str(np.shape(vals[j])) for j in ins[i])
        raise AgradError(
            f"{ops[i]} cannot combine shapes {shapes} ({exc})",
            graph.span(i),
            "check the shapes of the arrays given with --at",
        ) from None
    return vals


def needs_grad(graph: Graph, wrt: Iterable[int]) -> list[bool]:
    """Mark the nodes that depend on any node in `wrt`."""
    needs = [False] * len(graph)
    for i in wrt:
        needs[i] = True
    for i, a in enumerate(graph.inputs):
        if a and not needs[i]:
            for j in a:
                if needs[j]:
                    needs[i] = True
                    break
    return needs


def backward(
    graph: Graph, vals: list, output: int, needs: list[bool], seed=None, record: dict | None = None
) -> list:
    """Return the adjoint of every node for output node `output` (None where unneeded).

    `seed` defaults to ones shaped like the output, so an array output gives the gradient
    of the sum of its elements. When `record` is a dict, each edge's contribution to its
    parent's adjoint is stored in it under (child, argument position).
    """
    ops, ins, attrs, vjps, masked = graph.ops, graph.inputs, graph.attrs, VJP, TAKES_NEEDS

    def vjp(i: int, g) -> list:
        a, op = ins[i], ops[i]
        if attrs[i]:
            grads = vjps[op](g, vals[i], *[vals[j] for j in a], **attrs[i])
        elif op in masked:
            grads = vjps[op](g, vals[i], *[vals[j] for j in a], needs=tuple([needs[j] for j in a]))
        elif len(a) == 2:
            grads = vjps[op](g, vals[i], vals[a[0]], vals[a[1]])
        elif len(a) == 1:
            grads = vjps[op](g, vals[i], vals[a[0]])
        else:
            grads = vjps[op](g, vals[i], *[vals[j] for j in a])
        if len(grads) != len(a):
            raise RuleError(
                f"the derivative rule of '{op}' returned {len(grads)} entries for {len(a)} inputs"
            )
        out = list(grads)
        for k, j in enumerate(a):
            gj = out[k]
            if gj is None or not needs[j]:
                continue
            if getattr(gj, "shape", None) != vals[j].shape:
                out[k] = gj = _fit(gj, vals[j].shape, op, k)
            if record is not None:
                record[(i, k)] = gj
        return out

    if seed is None and needs[output]:
        seed = np.ones_like(vals[output])
    return sweep(graph, output, needs, seed, vjp)


def _fit(gj, shape: tuple[int, ...], op: str, k: int):
    """Sum a VJP entry down to its input's shape, or name the rule that broke."""
    try:
        return unbroadcast(gj, shape)
    except ValueError:
        raise RuleError(
            f"the derivative rule of '{op}' returned shape {np.shape(gj)} "
            f"for input {k} of shape {shape}"
        ) from None


def local_partials(graph: Graph, vals: list) -> dict[tuple[int, int], np.ndarray]:
    """Each edge's local partial d child / d parent, as the VJP of a ones seed.

    For elementwise ops this is the partial derivative itself, elementwise in the child's
    shape. For reductions and matmul it is d(sum of the child's elements) / d parent.
    """
    out: dict[tuple[int, int], np.ndarray] = {}
    with fp_watch():
        for i, a in enumerate(graph.inputs):
            if not a:
                continue
            ones = np.ones_like(vals[i])
            grads = VJP[graph.ops[i]](
                ones, vals[i], *[vals[j] for j in a], **(graph.attrs[i] or {})
            )
            for k, gk in enumerate(grads):
                out[(i, k)] = np.zeros(np.shape(vals[a[k]])) if gk is None else np.asarray(gk)
    return out


def all_finite(x) -> bool:
    """True when every element of x is finite."""
    return bool(np.isfinite(x).all())


def first_nonfinite_value(graph: Graph, vals: list) -> int | None:
    """The first node, in order, whose value is not finite (it produced the nan/inf)."""
    for i, v in enumerate(vals):
        if v is not None and not np.isfinite(v).all():
            return i
    return None


def first_nonfinite_vjp(graph: Graph, vals: list, adj: list, needs: list[bool]) -> int | None:
    """The first node, walking backwards, whose VJP turned a finite adjoint non-finite.

    A node whose own inputs are finite is preferred: it is where the nan/inf was born.
    """
    fallback = None
    with fp_watch():
        for i in range(len(graph) - 1, -1, -1):
            a = graph.inputs[i]
            g = adj[i]
            if g is None or not a or not all_finite(g):
                continue
            grads = VJP[graph.ops[i]](g, vals[i], *[vals[j] for j in a], **(graph.attrs[i] or {}))
            if any(
                gj is not None and needs[j] and not all_finite(gj)
                for j, gj in zip(a, grads, strict=False)
            ):
                if all(all_finite(vals[j]) for j in a):
                    return i
                fallback = i if fallback is None else fallback
    return fallback
