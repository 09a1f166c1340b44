"""Large graphs of scalars level by level: the nodes of one level and one op are one NumPy call.

A node's level is one more than its deepest input's. Forward runs the groups (level, op) in
level order, each a single call of the op's registry forward on the column of its inputs;
backward runs them in reverse, each a single call of the op's VJP. The bits are the per-node
interpreter's: elementwise ufuncs give each element what they give it alone, and adjoints
meet in the sweep's own order (children by descending index, a child's inputs in order; each
sum a left fold starting from the first contribution, as `prev + g` does). Deep narrow graphs
(chains) decline: a level of a few nodes is no cheaper as an array.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from ..graph import Graph
from ..ops import FORWARD, REGISTRY, TAKES_NEEDS, VJP, Kind

WIDTH = 64  # fewer nodes a level on average than this: a chain, run node by node
FOLD = 16  # contributions folded as arrays; nodes with more use np.add.accumulate


def levels(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Each node's level (inputs and constants 0), or None for a deep narrow graph (fewer
    than WIDTH nodes a level on average). One pass in creation order: a node's inputs come
    before it, so their levels are known."""
    n = len(a)
    ops = np.flatnonzero(a >= 0)
    lv = [0] * (n + 1)  # index n: the missing second input, level 0
    second = np.where(b < 0, n, b)
    for i, x, y in zip(ops.tolist(), a[ops].tolist(), second[ops].tolist(), strict=True):
        p, q = lv[x], lv[y]
        lv[i] = (p if p > q else q) + 1
    out = np.array(lv[:n], dtype=np.int64)
    depth = int(out.max(initial=0))
    return None if depth * WIDTH > n else out


def eligible(graph: Graph, inputs: dict) -> bool:
    """Scalars only, at most two inputs per node, elementwise ops, no attributes."""
    if any(np.ndim(v) for v in inputs.values()) or any(np.ndim(c) for c in graph.consts.values()):
        return False
    if any(graph.attrs):
        return False
    ops = set(graph.ops) - {"input", "const"}
    return all(op in REGISTRY and REGISTRY[op].kind is Kind.ELEMENTWISE for op in ops)


class Levels:
    """A graph's groups: nodes sorted by (level, op), and group boundaries."""

    def __init__(self, graph: Graph, lv: np.ndarray):
        a, b = graph.column_arrays()  # type: ignore[misc]
        n = len(a)
        self.n, self.a, self.b = n, np.where(a < 0, n, a), np.where(b < 0, n, b)
        names = sorted(set(graph.ops))
        code = {op: k for k, op in enumerate(names)}
        ops = np.fromiter(map(code.__getitem__, graph.ops), dtype=np.int64, count=n)
        key = lv * len(names) + ops
        nodes = np.flatnonzero(a >= 0)
        self.leaves = np.flatnonzero(a < 0)  # inputs and constants
        self.order = nodes[np.argsort(key[nodes], kind="stable")]
        cuts = np.flatnonzero(np.diff(key[self.order])) + 1
        bounds = [0, *cuts.tolist(), len(self.order)]
        self.groups = [(names[ops[self.order[s]]], self.order[s:e]) for s, e in pairwise(bounds)]
        # The groups of each level, deepest first, with the level's nodes (for backward).
        step = np.flatnonzero(np.diff(lv[self.order])) + 1
        edges = [0, *step.tolist(), len(self.order)]
        starts = [s for s, _ in pairwise(bounds)]
        self.by_level = []
        g = 0
        for s, e in pairwise(edges):
            first = g
            while g < len(starts) and starts[g] < e:
                g += 1
            self.by_level.append((self.order[s:e], self.groups[first:g]))
        self.by_level.reverse()


def forward(graph: Graph, inputs: dict, plan: Levels) -> np.ndarray:
    """Every node's value (index n: a zero for missing inputs)."""
    vals = np.zeros(plan.n + 1)
    for i, v in graph.consts.items():
        vals[i] = v
    for name, i in graph.input_ids.items():
        vals[i] = inputs[name]
    for op, idx in plan.groups:
        args = [vals[plan.a[idx]]]
        if REGISTRY[op].arity == 2:
            args.append(vals[plan.b[idx]])
        vals[idx] = FORWARD[op](*args)
    return vals


def backward(vals: np.ndarray, output: int, needs: np.ndarray, plan: Levels):
    """Adjoints of every node for `output` (seed 1) and which nodes have one."""
    n = plan.n
    edges = _edges(plan, needs)
    contrib, present = np.zeros(len(edges.parent)), np.zeros(len(edges.parent), dtype=bool)
    adj, has = np.zeros(n + 1), np.zeros(n + 1, dtype=bool)
    adj[output], has[output] = 1.0, bool(needs[output])
    for nodes, groups in plan.by_level:  # a level's children are all deeper: gather first
        _gather(nodes, edges, contrib, present, adj, has, output)
        for op, idx in groups:
            live = idx[has[idx]]
            if not len(live):
                continue
            if op not in TAKES_NEEDS:
                _vjp(op, live, vals, adj, plan, edges, contrib, present, {})
                continue
            arity = REGISTRY[op].arity
            pattern = needs[plan.a[live]] * 2 + (needs[plan.b[live]] if arity == 2 else 0)
            for p in np.unique(pattern).tolist():  # VJPs taking `needs`: a call per pattern
                flags = (bool(p & 2), bool(p & 1))[:arity]
                _vjp(op, live[pattern == p], vals, adj, plan, edges, contrib, present,
                     {"needs": flags})  # fmt: skip
    _gather(plan.leaves, edges, contrib, present, adj, has, output)  # inputs, constants last
    return adj[:n], has[:n]


def _vjp(op, live, vals, adj, plan, edges, contrib, present, extra) -> None:
    """One VJP call for a group's nodes; each entry stored on its edge."""
    args = [vals[plan.a[live]]]
    if REGISTRY[op].arity == 2:
        args.append(vals[plan.b[live]])
    grads = VJP[op](adj[live], vals[live], *args, **extra)
    for k, gk in enumerate(grads):
        if gk is None:
            continue
        slot = edges.slot[k][live]
        keep = slot >= 0
        contrib[slot[keep]] = np.broadcast_to(gk, live.shape)[keep]
        present[slot[keep]] = True


class _Edges:
    """Edges (child, position) sorted in the sweep's order per parent."""

    def __init__(self, parent, start, count, slot):
        self.parent, self.start, self.count, self.slot = parent, start, count, slot


def _edges(plan: Levels, needs: np.ndarray) -> _Edges:
    n = plan.n
    child = np.concatenate([np.arange(n), np.arange(n)])
    pos = np.repeat([0, 1], n)
    parent = np.concatenate([plan.a, plan.b])
    ok = (parent < n) & needs[np.minimum(parent, n)]
    child, pos, parent = child[ok], pos[ok], parent[ok]
    order = np.lexsort((pos, -child, parent))  # per parent: children descending, then position
    slot = np.full((2, n), -1, dtype=np.int64)
    slot[pos[order], child[order]] = np.arange(len(order))
    count = np.bincount(parent, minlength=n + 1)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return _Edges(parent[order], start, count, slot)


def _gather(idx, edges: _Edges, contrib, present, adj, has, output: int) -> None:
    """Each node's adjoint: its children's contributions folded left in the sweep's order."""
    idx = idx[idx != output]
    count = edges.count[idx]
    acc, got = np.zeros(len(idx)), np.zeros(len(idx), dtype=bool)
    for r in range(min(FOLD, int(count.max(initial=0)))):
        sel = np.flatnonzero(count > r)
        e = edges.start[idx[sel]] + r
        p = present[e]
        s, c = sel[p], contrib[e[p]]
        acc[s] = np.where(got[s], acc[s] + c, c)
        got[s] = True
    for k in np.flatnonzero(count > FOLD):  # a few hubs: the rest of their fold at once
        e = np.arange(edges.start[idx[k]] + FOLD, edges.start[idx[k]] + count[k])
        rest = contrib[e[present[e]]]
        if len(rest):
            first = [acc[k]] if got[k] else []
            acc[k] = np.add.accumulate(np.concatenate([first, rest]))[-1]
            got[k] = True
    adj[idx], has[idx] = acc, got


def needs_of(plan: Levels, targets: list[int], n: int) -> np.ndarray:
    """Which nodes depend on a target (index n: the missing input, never)."""
    needs = np.zeros(n + 1, dtype=bool)
    needs[targets] = True
    for _, idx in plan.groups:  # groups run in level order: inputs settle first
        needs[idx] |= needs[plan.a[idx]] | needs[plan.b[idx]]
    return needs


class Adjoints:
    """A node's adjoint by index (None where it has none), without a list of a million."""

    def __init__(self, adj: np.ndarray, has: np.ndarray):
        self.adj, self.has = adj, has

    def __len__(self) -> int:
        return len(self.adj)

    def __getitem__(self, i: int):
        return float(self.adj[i]) if self.has[i] else None

    def __iter__(self):
        return (a if h else None for a, h in zip(self.adj.tolist(), self.has.tolist(), strict=True))
