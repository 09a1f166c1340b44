"""The flat graph: nodes in creation order, which is a topological order."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import Source, Span
from ..ops import REGISTRY
from .groups import Group, body_span, owners

INPUT = "input"
CONST = "const"


@dataclass(frozen=True)
class NodeView:
    """A read-only view of one node of a Graph."""

    id: int
    op: str
    inputs: tuple[int, ...]
    name: str | None
    attrs: dict[str, Any] | None
    span: Span | None

    @property
    def label(self) -> str:
        """A short display label: the name, the constant or the op symbol."""
        return self.name or self.op


@dataclass(frozen=True)
class Claim:
    """`expect f == expr` (kind "value") or `expect diff(f, x) == expr` (kind "diff");
    `diff(f, x, y, ...)` differentiates by x, then by each name in `then`."""

    kind: str
    target: str
    wrt: str | None
    node: int
    span: Span
    then: tuple[str, ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """Every name differentiated by, in order."""
        return () if self.wrt is None else (self.wrt, *self.then)

    @property
    def text(self) -> str:
        """The claim as written."""
        return self.span.text()


class Graph:
    """A computational graph stored as parallel lists, one entry per node.

    Node ``i`` may only read nodes ``< i``, so a loop over ``range(len(graph))`` is a forward
    pass and a loop over it reversed is a backward pass. Source offsets are kept in int64
    arrays (no Python int per node). A graph built in bulk may hand over its edges as two
    columns (`set_columns`) and its names as a function (`defer_names`): the tuples of
    `inputs`, `names` and `symbols` are then made the first time they are read, which a
    million-line file's evaluation on floats never does.
    """

    def __init__(self, source: Source | None = None):
        self.source = source
        self.ops: list[str] = []
        self._inputs: list[tuple[int, ...]] = []
        self._columns: tuple[np.ndarray, np.ndarray] | None = None
        self.attrs: list[dict[str, Any] | None] = []
        self._names: list[str | None] = []
        self.starts = array("q")
        self.ends = array("q")
        self.consts: dict[int, np.ndarray] = {}
        self.input_ids: dict[str, int] = {}
        self.outputs: list[tuple[str, int]] = []
        self._symbols: dict[str, int] = {}
        self._later: Callable[[], tuple[list, dict]] | None = None
        self.claims: list[Claim] = []
        self.ranges: dict[str, tuple[float, float, Span]] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.groups: list[Group] = []  # inlined calls (graph/groups.py)
        self.rules: Graph | None = None  # claims about functions, on their own inputs
        self._owner: tuple[int, int, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def names(self) -> list[str | None]:
        """Each node's display name: the first user name it got, or None."""
        if self._later is not None:
            self._fill_names()
        return self._names

    @names.setter
    def names(self, value: list[str | None]) -> None:
        self._names = value

    @property
    def symbols(self) -> dict[str, int]:
        """Every user name and the node it refers to, in the order they were bound."""
        if self._later is not None:
            self._fill_names()
        return self._symbols

    @symbols.setter
    def symbols(self, value: dict[str, int]) -> None:
        self._symbols = value

    @property
    def inputs(self) -> list[tuple[int, ...]]:
        """Each node's input nodes, in argument order."""
        if self._columns is not None and len(self._inputs) < len(self._columns[0]):
            self._inputs = _tuples(*self._columns)
        return self._inputs

    @inputs.setter
    def inputs(self, value: list[tuple[int, ...]]) -> None:
        self._inputs, self._columns = value, None

    def set_columns(self, first: np.ndarray, second: np.ndarray) -> None:
        """Every node's first and second input (-1 for none), for nodes of at most two."""
        self._inputs, self._columns = [], (first, second)

    def columns(self) -> tuple[list[int], list[int]] | None:
        """Each node's first and second input (-1 for none) as two lists, or None when a
        node has more than two."""
        if self._columns is not None:
            return self._columns[0].tolist(), self._columns[1].tolist()
        ins = self._inputs
        if max(map(len, ins), default=0) > 2:
            return None
        return [a[0] if a else -1 for a in ins], [a[1] if len(a) == 2 else -1 for a in ins]

    def column_arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """`columns` as two int64 arrays (a bulk-built graph's own, not copied)."""
        if self._columns is not None:
            return self._columns
        lists = self.columns()
        if lists is None:
            return None
        return np.asarray(lists[0], dtype=np.int64), np.asarray(lists[1], dtype=np.int64)

    def defer_names(self, fill: Callable[[], tuple[list, dict]]) -> None:
        """Have `fill()` give (names, symbols) the first time either is read."""
        self._later = fill

    def _fill_names(self) -> None:
        fill, self._later = self._later, None
        self._names, self._symbols = fill()  # type: ignore[misc]

    def _add(self, op: str, inputs: tuple[int, ...], start: int, end: int, attrs=None) -> int:
        if self._columns is not None:
            self.inputs = self.inputs  # made into tuples before the graph grows
        ops = self.ops
        ops.append(op)
        self._inputs.append(inputs)
        self.attrs.append(attrs)
        self.names.append(None)
        self.starts.append(start)
        self.ends.append(end)
        return len(ops) - 1

    def add_input(self, name: str, start: int = -1, end: int = -1) -> int:
        """Add a free variable whose value is supplied at evaluation time."""
        i = self._add(INPUT, (), start, end)
        self.names[i] = name
        self.input_ids[name] = i
        return i

    def add_const(self, value: Any, start: int = -1, end: int = -1, name: str | None = None) -> int:
        """Add a constant node holding a float64 array."""
        i = self._add(CONST, (), start, end)
        self.consts[i] = np.asarray(value, dtype=np.float64)
        self.names[i] = name
        return i

    def add_op(
        self,
        op: str,
        inputs: tuple[int, ...],
        start: int = -1,
        end: int = -1,
        attrs: dict[str, Any] | None = None,
    ) -> int:
        """Add an application of registry op `op` to earlier nodes."""
        if op not in REGISTRY:
            raise KeyError(f"no op named {op!r} in the registry")
        spec = REGISTRY[op]
        if len(inputs) != spec.arity and not (spec.variadic and inputs):
            raise ValueError(f"{op} takes {spec.arity} inputs, got {len(inputs)}")
        if any(j >= len(self.ops) or j < 0 for j in inputs):
            raise ValueError(f"{op} reads a node that does not exist yet: {inputs}")
        return self._add(op, inputs, start, end, attrs)

    def name_node(self, i: int, name: str) -> None:
        """Bind a user name to node `i`; the first name a node gets is the one shown."""
        self.symbols[name] = i
        if self.names[i] is None:
            self.names[i] = name

    def lookup(self, name: str) -> int | None:
        """The node `name` refers to: an input, else a bound name, else None."""
        i = self.input_ids.get(name)
        return self.symbols.get(name) if i is None else i

    def add_output(self, name: str, i: int) -> None:
        """Mark node `i` as an output called `name`."""
        self.outputs.append((name, i))

    def span(self, i: int) -> Span | None:
        """The source span node `i` came from, if any."""
        if self.source is None or self.starts[i] < 0:
            return None
        if self.groups:
            k = self.owner(i)
            if k >= 0:
                return body_span(self.groups, k, self.starts[i], self.ends[i], self.source)
        return Span(self.source, self.starts[i], self.ends[i])

    def owner(self, i: int) -> int:
        """The index in `groups` of the innermost call node i belongs to, or -1."""
        key = (len(self.ops), len(self.groups))
        if self._owner is None or self._owner[:2] != key:
            self._owner = (*key, owners(self.groups, len(self.ops)))
        return self._owner[2][i]

    def node(self, i: int) -> NodeView:
        """A read-only view of node `i`."""
        return NodeView(i, self.ops[i], self.inputs[i], self.names[i], self.attrs[i], self.span(i))

    def nodes(self) -> list[NodeView]:
        """Views of every node, in order."""
        return [self.node(i) for i in range(len(self.ops))]

    def ancestors(self, starts: list[int], seen: bytearray | None = None) -> bytearray:
        """A flag per node: 1 for `starts` and every node they depend on (a stack, no
        recursion); `seen` carries on from an earlier search."""
        seen = bytearray(len(self.ops)) if seen is None else seen
        stack = [s for s in starts if not seen[s]]
        for s in stack:
            seen[s] = 1
        if self._columns is not None and len(self._inputs) < len(self.ops):
            first, second = self.columns()  # a bulk-built graph: no tuple per node
            while stack:
                i = stack.pop()
                for j in (first[i], second[i]):
                    if j >= 0 and not seen[j]:
                        seen[j] = 1
                        stack.append(j)
            return seen
        inputs = self.inputs
        while stack:
            for j in inputs[stack.pop()]:
                if not seen[j]:
                    seen[j] = 1
                    stack.append(j)
        return seen

    def edge_count(self) -> int:
        """Number of edges (an input used twice counts twice)."""
        if self._columns is not None:
            return int((self._columns[0] >= 0).sum() + (self._columns[1] >= 0).sum())
        return sum(map(len, self.inputs))

    def where(self, i: int) -> str:
        """`file:line:col` of node `i`, or its id when it has no source."""
        span = self.span(i)
        return span.where() + span.calls() if span else f"n{i}"

    def describe(self, i: int) -> str:
        """`n3 (log)`, the way messages name a node."""
        name = self.names[i]
        op = self.ops[i]
        if op == CONST:
            return f"n{i} (constant)"
        return f"n{i} '{name}' ({op})" if name else f"n{i} ({op})"


def _tuples(first: np.ndarray, second: np.ndarray) -> list[tuple[int, ...]]:
    """Input tuples from two columns (-1 for none), made in C loops."""
    out = np.empty(len(first), dtype=object)
    out.fill(())
    two = np.flatnonzero(second >= 0)
    pairs = zip(first[two].tolist(), second[two].tolist(), strict=True)
    out[two] = np.fromiter(pairs, dtype=object, count=len(two))
    one = np.flatnonzero((first >= 0) & (second < 0))
    out[one] = np.fromiter(zip(first[one].tolist()), dtype=object, count=len(one))
    return out.tolist()
