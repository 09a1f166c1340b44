"""Graph-to-graph passes: constant folding, safe algebraic identities, CSE, dead nodes.

Each pass returns a new Graph computing the same outputs with the same gradients. Names,
source spans, claims, ranges and groups carry over (a group whose result is folded away or
merged into an earlier node is dropped: graph/groups.py `remap`). Identities are only those
exact under IEEE arithmetic: x*1, 1*x, x/1, x+0, 0+x, x-0, x^1 and -(-x), with a scalar
constant so that no shape changes. x*0 is not folded to 0: x may be inf or nan, and inf*0 is nan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import paused_gc
from ..ops import FORWARD, REGISTRY
from ..ops.attrs import freeze
from ..ops.numeric import fp_watch
from . import CONST, INPUT, Claim, Graph
from .groups import remap


class Builder:
    """Copies nodes into a new graph, remembering where each old node went."""

    def __init__(self, old: Graph):
        self.old = old
        self.new = Graph(old.source)
        self.map: list[int] = [-1] * len(old)

    def copy(self, i: int) -> int:
        """Copy node i as it is (its inputs must be mapped already)."""
        g, new = self.old, self.new
        op = g.ops[i]
        if op == INPUT:
            j = new.add_input(g.names[i], g.starts[i], g.ends[i])
        elif op == CONST:
            j = new.add_const(g.consts[i], g.starts[i], g.ends[i], g.names[i])
        else:
            j = new.add_op(
                op, tuple(self.map[k] for k in g.inputs[i]), g.starts[i], g.ends[i], g.attrs[i]
            )
            new.names[j] = g.names[i]
        self.map[i] = j
        return j

    def alias(self, i: int, j: int) -> None:
        """Old node i is now new node j; j takes i's name if it has none and is no input."""
        self.map[i] = j
        new = self.new
        if new.names[j] is None and self.old.names[i] and new.ops[j] not in (INPUT, CONST):
            new.names[j] = self.old.names[i]

    def finish(self) -> Graph:
        """Carry outputs, symbols, claims and ranges over to the new graph."""
        g, new, m = self.old, self.new, self.map
        new.outputs = [(name, m[i]) for name, i in g.outputs]
        new.symbols = {name: m[i] for name, i in g.symbols.items() if m[i] >= 0}
        new.claims = [
            Claim(c.kind, c.target, c.wrt, m[c.node], c.span, c.then)
            for c in g.claims
            if m[c.node] >= 0
        ]
        new.ranges = dict(g.ranges)
        new.shapes = dict(g.shapes)
        new.groups = remap(g.groups, m)
        new.rules = g.rules
        return new


def _scalar(g: Graph, i: int, value: float) -> bool:
    return g.ops[i] == CONST and g.consts[i].ndim == 0 and float(g.consts[i]) == value


def fold_constants(g: Graph) -> Graph:
    """Compute operations whose inputs are all constants (unless the result is not finite)."""
    b = Builder(g)
    new = b.new
    for i in range(len(g)):
        ins = [b.map[k] for k in g.inputs[i]]
        if ins and all(new.ops[k] == CONST for k in ins):
            with fp_watch():
                value = np.asarray(
                    FORWARD[g.ops[i]](*[new.consts[k] for k in ins], **(g.attrs[i] or {})),
                    dtype=np.float64,
                )
            if np.isfinite(value).all():
                b.map[i] = new.add_const(value, g.starts[i], g.ends[i])
                continue
        b.copy(i)
    return b.finish()


def identities(g: Graph) -> Graph:
    """Drop x*1, x/1, x+0, x-0, x^1 and -(-x) (scalar constants only)."""
    b = Builder(g)
    new = b.new
    for i in range(len(g)):
        op = g.ops[i]
        ins = [b.map[k] for k in g.inputs[i]]
        keep = None
        spec = REGISTRY.get(op)
        if spec is not None and spec.arity == 2:
            if spec.right_unit is not None and _scalar(new, ins[1], spec.right_unit):
                keep = ins[0]
            elif spec.left_unit is not None and _scalar(new, ins[0], spec.left_unit):
                keep = ins[1]
        elif spec is not None and spec.involution and new.ops[ins[0]] == op:
            keep = new.inputs[ins[0]][0]
        if keep is None:
            b.copy(i)
        else:
            b.alias(i, keep)
    return b.finish()


def _common_keys(g: Graph, rep: list[int]) -> Iterator[tuple | None]:
    """What makes each node the same computation as another (None for inputs): its op, its
    inputs' representatives (sorted for commutative ops) and attributes, or a constant's
    value and name. `rep` is read as the caller fills it, node by node."""
    ops, inputs, attrs = g.ops, g.inputs, g.attrs
    commutative = {name for name, op in REGISTRY.items() if op.commutative}
    for i, op in enumerate(ops):
        a = inputs[i]
        if op == INPUT:
            yield None
        elif op == CONST:
            c = g.consts[i]
            yield ("const", g.names[i], c.shape, c.tobytes())
        elif len(a) == 2 and not attrs[i]:  # the common shapes, without a generator per node
            x, y = rep[a[0]], rep[a[1]]
            yield (op, y, x) if op in commutative and y < x else (op, x, y)
        elif len(a) == 1 and not attrs[i]:
            yield (op, rep[a[0]])
        else:
            ins = tuple(rep[k] for k in a)
            extra = freeze(attrs[i]) if attrs[i] else ()  # slices and arrays made hashable
            yield (op, tuple(sorted(ins)) if op in commutative else ins, extra)


def eliminate_common(g: Graph) -> Graph:
    """Merge nodes that compute the same op on the same inputs (commutative ops in any order)."""
    b = Builder(g)
    seen: dict[tuple, int] = {}
    for i, key in enumerate(_common_keys(g, b.map)):
        if key is None:
            b.copy(i)
        elif key in seen:
            b.alias(i, seen[key])
        else:
            seen[key] = b.copy(i)
    return b.finish()


def count_common(g: Graph) -> int:
    """How many nodes eliminate_common would merge away, without building a graph."""
    with paused_gc():  # a million keys would trigger full collections
        return _count_common(g)


def _count_common(g: Graph) -> int:
    rep = list(range(len(g)))
    seen: dict[tuple, int] = {}
    merged = 0
    for i, key in enumerate(_common_keys(g, rep)):
        if key is None:
            continue
        first = seen.setdefault(key, i)
        if first != i:
            rep[i] = first
            merged += 1
    return merged


def eliminate_dead(g: Graph) -> Graph:
    """Keep inputs and whatever the outputs and claims depend on."""
    live = [False] * len(g)
    for _, i in g.outputs:
        live[i] = True
    for c in g.claims:
        live[c.node] = True
        target = g.symbols.get(c.target, g.input_ids.get(c.target))
        live[target] = True
    for i in range(len(g) - 1, -1, -1):
        if live[i]:
            for j in g.inputs[i]:
                live[j] = True
    b = Builder(g)
    for i in range(len(g)):
        if live[i] or g.ops[i] == INPUT:
            b.copy(i)
    return b.finish()


PASSES: list[tuple[str, Callable[[Graph], Graph]]] = [
    ("constant folding", fold_constants),
    ("algebraic identities", identities),
    ("common subexpressions", eliminate_common),
    ("dead nodes", eliminate_dead),
]


@dataclass
class PassReport:
    """Sizes before and after one pass."""

    name: str
    nodes_before: int
    nodes_after: int
    edges_before: int
    edges_after: int


def optimize(g: Graph) -> tuple[Graph, list[PassReport]]:
    """Run every pass in order; report nodes and edges before and after each."""
    report = []
    for name, run in PASSES:
        after = run(g)
        report.append(PassReport(name, len(g), len(after), g.edge_count(), after.edge_count()))
        g = after
    return g, report
