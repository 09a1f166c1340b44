"""A large plain drawing as columns: one list per field instead of an object per node or edge.

`view.build` keeps a view without grouping, cuts or adjoint flow in this form when it has
more than `view.COLUMNS_FROM` boxes (a million-line file has 1.75M nodes and 2.6M edges).
The columns are sequences of `Item` and `Link`, made one at a time on demand, so every
renderer can read them; DOT and JSON read the columns directly.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import SNIPPET
from ..graph import CONST, INPUT, Graph
from ..ops import REGISTRY
from .boxes import Item, Link
from .numfmt import fmt

KINDS = {CONST: "const", INPUT: "input"}


class ItemColumns(Sequence[Item]):
    """The boxes of a plain view, field by field: each box's source text, and its line and
    column in the file `where` (0 for none); `clean` when no text needs escaping."""

    def __init__(self, ids, kinds, titles, ops, sources, lines, cols, where, clean) -> None:
        self.ids, self.kinds, self.titles, self.ops = ids, kinds, titles, ops
        self.sources, self.lines, self.cols = sources, lines, cols
        self.where, self.clean = where, clean

    def location(self, k: int) -> str:
        """`file:line:col` of box k, or "" when it has none."""
        line = self.lines[k]
        return f"{self.where}:{line}:{self.cols[k]}" if line else ""

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        i = self.ids[k]
        return Item(
            i, self.kinds[k], self.titles[k], self.ops[k], self.sources[k], self.location(k), [i]
        )

    def __iter__(self) -> Iterator[Item]:
        return (self[k] for k in range(len(self.ids)))


class LinkColumns(Sequence[Link]):
    """The edges of a plain view, field by field."""

    def __init__(self, src: list[int], dst: list[int], arg: list[int]) -> None:
        self.src, self.dst, self.arg = src, dst, arg

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        return Link(self.src[k], self.dst[k], self.arg[k])

    def __iter__(self) -> Iterator[Link]:
        return map(Link, self.src, self.dst, self.arg)


def item_columns(graph: Graph, order: list[int], outputs: set[int]) -> ItemColumns:
    """The boxes of the nodes in `order` (ascending) as columns."""
    every = len(order) == len(graph.ops)  # the common case: ids are 0..n-1
    op_col = list(graph.ops) if every else [graph.ops[i] for i in order]
    names = graph.names
    name_col = list(names) if every else [names[i] for i in order]
    symbols = {op: REGISTRY[op].symbol or op for op in set(op_col) if op in REGISTRY}
    symbols.update({op: op for op in set(op_col) - symbols.keys()})
    symbols[INPUT] = symbols[CONST] = ""  # titles of their own, below
    titles = [
        (f"{n} = {symbols[o]}" if n else symbols[o]) if o != INPUT else n
        for o, n in zip(op_col, name_col, strict=True)
    ]
    kind_of = {o: KINDS.get(o, "op") for o in symbols}
    kinds = list(map(kind_of.__getitem__, op_col))
    consts = graph.consts
    if every:
        const = sorted(consts)
    else:
        n = len(order)
        const = sorted(k for i in consts if (k := bisect_left(order, i)) < n and order[k] == i)
    bound: dict[int, str] | None = None  # names of array constants (`X = [[1, 2], ...]`)
    for k in const:
        name = name_col[k]
        if not name and np.ndim(consts[order[k]]):
            if bound is None:
                bound = {j: s for s, j in graph.symbols.items() if graph.ops[j] == CONST}
            name = bound.get(order[k])
        titles[k] = name or fmt(consts[order[k]], 6)
    for i in outputs:
        k = bisect_left(order, i)
        if k < len(order) and order[k] == i:
            kinds[k] = "output"
    sources, lines, cols, where, clean = _spans(graph, order, const)
    clean = clean and all(map(_plain_text, set(symbols.values()) - {""}))
    clean = clean and all(_plain_text(titles[k]) for k in const)
    return ItemColumns(order, kinds, titles, op_col, sources, lines, cols, where, clean)


def _plain_text(text: str) -> bool:
    """True when `text` can go into DOT and JSON strings as it is."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _spans(graph: Graph, order: list[int], const: list[int]) -> tuple:
    """Each node's source text, line and column (0 for constants and nodes without a span)
    found for all at once, the file's shown name, and whether its text needs no escaping."""
    n = len(order)
    src = graph.source
    if src is None:
        return [""] * n, [0] * n, [0] * n, "", True
    text = src.text
    ids = np.asarray(order, dtype=np.int64)
    starts = np.frombuffer(graph.starts, dtype=np.int64)[ids]
    ends = np.frombuffer(graph.ends, dtype=np.int64)[ids]
    lines, cols = src.positions(starts)
    name = src.shown_name
    has = starts >= 0
    shown = has.copy()
    shown[const] = False
    lines_col, cols_col = np.where(shown, lines, 0).tolist(), np.where(shown, cols, 0).tolist()
    clean = text.isascii() and _plain_text(text.replace("\n", "")) and _plain_text(name)
    # a short span on one line, in a file without tabs or double spaces, is its own snippet
    same_line = src.positions(np.maximum(ends - 1, starts))[0] == lines
    direct = has & same_line & (ends - starts <= SNIPPET) & clean & ("  " not in text)
    if clean and direct.any():
        chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        first, last = np.minimum(starts, len(chars) - 1), np.clip(ends - 1, 0, len(chars) - 1)
        direct &= (chars[first] != 32) & (chars[last] != 32)
    snippet = src.snippet
    sources = [
        text[s:e] if d else snippet(s, e) if s >= 0 else ""
        for s, e, d in zip(starts.tolist(), ends.tolist(), direct.tolist(), strict=True)
    ]
    return sources, lines_col, cols_col, name, clean


def link_columns(graph: Graph, order: list[int]) -> LinkColumns:
    """The edges into the nodes in `order` (ascending), in argument order."""
    arrays = graph.column_arrays()
    if arrays is None:
        inputs = graph.inputs
        triples = [(j, i, k) for i in order for k, j in enumerate(inputs[i]) if j != i]
        src, dst, arg = (list(t) for t in zip(*triples, strict=True)) if triples else ([],) * 3
        return LinkColumns(src, dst, arg)
    ids = np.asarray(order, dtype=np.int64)
    pairs = np.stack([arrays[0][ids], arrays[1][ids]], axis=1).ravel()
    dst = np.repeat(ids, 2)
    arg = np.tile(np.array([0, 1], dtype=np.int64), len(ids))
    keep = (pairs >= 0) & (pairs != dst)
    return LinkColumns(pairs[keep].tolist(), dst[keep].tolist(), arg[keep].tolist())
