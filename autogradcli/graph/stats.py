"""Facts about a graph's shape: size, depth, op mix, sharing, and parallel levels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from . import CONST, INPUT, Graph
from .passes import count_common


@dataclass
class Stats:
    """What `agrad stats` reports."""

    nodes: int
    edges: int
    inputs: int
    constants: int
    operations: int
    outputs: int
    depth: int
    ops: Counter
    reused: int
    duplicates: int
    levels: list[int]


def levels(graph: Graph) -> list[int]:
    """ASAP level of each node: leaves are 0, an op is one more than its deepest input."""
    level = [0] * len(graph)
    cols = graph.columns()
    if cols is None:
        for i, a in enumerate(graph.inputs):
            if a:
                level[i] = 1 + max(level[j] for j in a)
        return level
    for i, (j, k) in enumerate(zip(*cols, strict=True)):  # two inputs at most: no generator
        if j >= 0:
            deepest = level[j]
            if k >= 0 and level[k] > deepest:
                deepest = level[k]
            level[i] = deepest + 1
    return level


def stats(graph: Graph) -> Stats:
    """Count nodes and edges, measure depth, and group operations into parallel levels.

    Operations on the same level do not depend on each other, so a level's width is how many
    could run at once; the number of levels is the critical path.
    """
    level = levels(graph)
    fan_out = Counter(j for a in graph.inputs for j in a)
    op_nodes = [i for i, op in enumerate(graph.ops) if op not in (INPUT, CONST)]
    widths = Counter(level[i] for i in op_nodes)
    depth = max((level[i] for _, i in graph.outputs), default=0)
    return Stats(
        nodes=len(graph),
        edges=graph.edge_count(),
        inputs=len(graph.input_ids),
        constants=sum(op == CONST for op in graph.ops),
        operations=len(op_nodes),
        outputs=len(graph.outputs),
        depth=depth,
        ops=Counter(graph.ops[i] for i in op_nodes),
        reused=sum(1 for i in range(len(graph)) if fan_out[i] > 1),
        duplicates=count_common(graph),
        levels=[widths[k] for k in range(1, max(widths, default=0) + 1)],
    )
