"""Facts about a graph's shape: size, depth, op mix, sharing, and parallel levels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

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
    counts = Counter(graph.ops)
    ops = Counter({op: n for op, n in counts.items() if op not in (INPUT, CONST)})
    leaves = [*graph.consts, *graph.input_ids.values()]
    op_level = np.delete(np.asarray(level, dtype=np.int64), leaves)
    widths = np.bincount(op_level)[1:].tolist() if op_level.size else []
    depth = max((level[i] for _, i in graph.outputs), default=0)
    return Stats(
        nodes=len(graph),
        edges=graph.edge_count(),
        inputs=len(graph.input_ids),
        constants=counts[CONST],
        operations=op_level.size,
        outputs=len(graph.outputs),
        depth=depth,
        ops=ops,
        reused=_reused(graph),
        duplicates=count_common(graph),
        levels=widths,
    )


def _reused(graph: Graph) -> int:
    """How many nodes feed more than one edge."""
    arrays = graph.column_arrays()
    if arrays is None:
        fan_out = Counter(j for a in graph.inputs for j in a)
        return sum(1 for n in fan_out.values() if n > 1)
    used = np.concatenate([a[a >= 0] for a in arrays])
    return int((np.bincount(used, minlength=1) > 1).sum())
