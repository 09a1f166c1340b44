"""The one reverse sweep over a node graph: every engine that walks the graph backwards runs it.

What a node's VJP is depends on the backend (NumPy arrays, Python floats, traced stand-ins,
lines of generated source), so the backend passes it in as `vjp(i, g)`: the entries for the
node's inputs, in order, given its adjoint `g`. The sweep owns the order (children before
parents), which adjoints exist (`needs`), and how contributions meet (`+`, in the order the
children are visited). Nothing here recurses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .core import Graph

Vjp = Callable[[int, Any], Sequence[Any]]


def sweep(
    graph: Graph, output: int, needs: list[bool], seed: Any, vjp: Vjp, inputs: Any = None
) -> list:
    """Every node's adjoint for node `output` seeded with `seed` (None where unneeded).

    `inputs` stands in for `graph.inputs` (anything indexable by node), so a graph held as
    two columns is swept without building a tuple per node first.
    """
    adj: list = [None] * len(graph)
    if not needs[output]:
        return adj
    adj[output] = seed
    ins = graph.inputs if inputs is None else inputs
    for i in range(output, -1, -1):
        g = adj[i]
        if g is None:
            continue
        a = ins[i]
        if not a:
            continue
        grads = vjp(i, g)
        if len(a) == 2:  # the common shapes unrolled: this loop is every engine's hot path
            j, k = a
            gj, gk = grads[0], grads[1]
            if gj is not None and needs[j]:
                prev = adj[j]
                adj[j] = gj if prev is None else prev + gj
            if gk is not None and needs[k]:
                prev = adj[k]
                adj[k] = gk if prev is None else prev + gk
        elif len(a) == 1:
            j, gj = a[0], grads[0]
            if gj is not None and needs[j]:
                prev = adj[j]
                adj[j] = gj if prev is None else prev + gj
        else:
            for j, gj in zip(a, grads, strict=False):
                if gj is not None and needs[j]:
                    prev = adj[j]
                    adj[j] = gj if prev is None else prev + gj
    return adj
