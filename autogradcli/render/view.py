"""What a drawing shows: which nodes and edges, grouped how, with which numbers.

Every graph renderer (DOT, Mermaid, tree, table, JSON) draws a View, so selection (`--focus`,
`--depth`), grouping (`--collapse`) and the numbers from an evaluation live in one place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engines.evaluate import Evaluation, named_node
from ..errors import paused_gc
from ..graph import CONST, INPUT, Graph
from ..ops import REGISTRY
from .boxes import Item, Link
from .numfmt import fmt

BIG = 500
COLUMNS_FROM = 5000  # plain views with more boxes are kept as columns (render/columns.py)


@dataclass
class View:
    """The nodes and edges to draw, and the evaluation they may show."""

    graph: Graph
    items: Sequence[Item]  # a list, or columns for a large plain view
    links: Sequence[Link]
    ev: Evaluation | None = None
    backward: bool = False
    first_backward: int | None = None  # drawing a recorded backward pass: its first node
    calls_collapsed: bool = False  # each call of a user function drawn as one box

    def value(self, i: int):
        """The value of node i, when evaluated."""
        return None if self.ev is None else self.ev.values[i]

    def adjoint(self, i: int):
        """d(first output)/d(node i), when evaluated and reached."""
        if self.ev is None or not self.ev.outputs:
            return None
        return self.ev.outputs[0].adjoints[i]

    def partial(self, link: Link):
        """The edge's local partial d dst / d src, when evaluated."""
        if self.ev is None or self.ev.partials is None or link.arg < 0:
            return None
        return self.ev.partials.get((link.dst, link.arg))

    def contribution(self, link: Link):
        """What the edge adds to its source's adjoint (first output), when evaluated."""
        if self.ev is None or not self.ev.outputs or link.arg < 0:
            return None
        return self.ev.outputs[0].contributions.get((link.dst, link.arg))


def roots(graph: Graph, focus: str | None) -> list[int]:
    """The nodes a drawing starts from: --focus, or the outputs (and unused named nodes)."""
    return _roots(graph, focus)[0]


def _roots(graph: Graph, focus: str | None) -> tuple[list[int], bytearray | None]:
    """`roots`, and which nodes they reach when that was found on the way."""
    if focus is None:
        outputs = sorted({i for _, i in graph.outputs})
        reached = _everything(graph, outputs) or graph.ancestors(outputs)
        ops = graph.ops
        unused = [i for i in graph.symbols.values() if not reached[i] and ops[i] != CONST]
        unused = sorted(set(unused))
        if not unused:
            return outputs, reached
        starts = outputs + unused
        return starts, _everything(graph, starts) or graph.ancestors(unused, reached)
    return [named_node(graph, focus, "--focus")], None


def _everything(graph: Graph, starts: list[int]) -> bytearray | None:
    """`graph.ancestors(starts)` without a search, when every node that no other node uses
    is in `starts` or a constant: then each node reaches a start, and the flags are all set
    but for unused constants. None when that does not hold."""
    arrays = graph.column_arrays()
    if arrays is None:
        return None
    used = np.zeros(len(graph.ops), dtype=bool)
    for column in arrays:
        used[column[column >= 0]] = True
    used[starts] = True
    left = np.flatnonzero(~used).tolist()
    ops = graph.ops
    if any(ops[i] != CONST for i in left):
        return None
    flags = np.ones(len(graph.ops), dtype=np.uint8)
    flags[left] = 0
    return bytearray(flags.tobytes())


def _flagged(flags: bytearray) -> list[int]:
    """The ids whose flag is set, ascending."""
    import numpy as np

    return np.flatnonzero(np.frombuffer(flags, dtype=np.uint8)).tolist()


def select(graph: Graph, starts: list[int], depth: int | None) -> tuple[set[int], set[int]]:
    """Nodes reachable backwards from `starts` (within `depth` edges), and those cut short."""
    if depth is None:
        return set(_flagged(graph.ancestors(starts))), set()
    dist = {s: 0 for s in starts}
    queue = deque(starts)
    cut = set()
    while queue:
        i = queue.popleft()
        for j in graph.inputs[i]:
            if depth is not None and dist[i] >= depth:
                cut.add(i)
                continue
            if j not in dist:
                dist[j] = dist[i] + 1
                queue.append(j)
    return set(dist), cut


def build(
    graph: Graph,
    ev: Evaluation | None = None,
    focus: str | None = None,
    depth: int | None = None,
    collapse: bool = False,
    backward: bool = False,
    first_backward: int | None = None,
) -> View:
    """Choose, group and label the nodes to draw; nodes from `first_backward` on are the
    recorded backward pass (drawn as adjoints)."""
    with paused_gc():
        view = _build(graph, ev, focus, depth, collapse, backward)
    if first_backward is not None:
        view.first_backward = first_backward
        view.items = list(view.items)  # boxes of their own, to recolour
        for item in view.items:
            if item.id >= first_backward and item.kind == "op":
                item.kind = "adjoint"
    return view


def _build(graph, ev, focus, depth, collapse, backward) -> View:
    outputs = {i for _, i in graph.outputs}
    if not collapse and depth is None:
        starts, reached = _roots(graph, focus)
        reached = graph.ancestors(starts) if reached is None else reached
        return _plain(graph, ev, _flagged(reached), outputs, backward)
    keep, cut = select(graph, roots(graph, focus), depth)
    group = line_groups(graph, keep, outputs) if collapse else {i: i for i in keep}
    shown = sorted({g for g in group.values() if g is not None})
    items = dict(zip(shown, _items(graph, shown, outputs, collapse), strict=True))
    for i in sorted(keep):
        g = group[i]
        if g is not None:
            items[g].members.append(i)
    for i in cut:
        if group[i] is not None:
            items[group[i]].cut = True
    links = []
    seen = set()
    for i in sorted(keep):
        for k, j in enumerate(graph.inputs[i]):
            a, b = group.get(j), group[i]
            if a is None or b is None or a == b or j not in keep:
                continue
            if collapse:
                if (a, b) in seen:
                    continue
                seen.add((a, b))
                k = -1
            links.append(Link(a, b, k))
    view = View(graph, sorted(items.values(), key=lambda it: it.id), links, ev, backward)
    if backward:
        view.links = [lk for lk in links if view.contribution(lk) is not None]
        linked = {lk.src for lk in view.links} | {lk.dst for lk in view.links} | outputs
        view.items = [it for it in view.items if it.id in linked]
    return view


def fold_constants(view: View) -> View:
    """Draw each scalar constant inside the boxes of the operations it feeds (`b^2` as one box
    `^2`, not a shared `2` whose edges cross the picture). Drawings only; arrays stay boxes."""
    g = view.graph
    outputs = {i for _, i in g.outputs}
    fold = [
        lk
        for lk in view.links
        if g.ops[lk.src] == CONST
        and lk.src not in outputs
        and lk.arg >= 0
        and np.ndim(g.consts[lk.src]) == 0
    ]
    if not fold:
        return view
    folded: dict[int, dict[int, str]] = {}
    for lk in fold:
        folded.setdefault(lk.dst, {})[lk.arg] = g.names[lk.src] or _number(g.consts[lk.src])
    gone = {lk.src for lk in fold}
    gone -= {lk.src for lk in view.links if lk.src in gone and lk.arg < 0}  # merged edges
    for item in view.items:
        if item.id in folded and item.kind not in (INPUT, CONST):
            item.title = _with_constants(g, item.id, folded[item.id])
    view.items = [it for it in view.items if it.id not in gone]
    view.links = [lk for lk in view.links if lk.src not in gone]
    return view


def _with_constants(g: Graph, i: int, consts: dict[int, str]) -> str:
    """`^2`, `2*`, `max(·, 0)`: an operation's symbol with its constant arguments written in."""
    op = REGISTRY[g.ops[i]]
    arity = len(g.inputs[i])
    if op.symbol and arity == 2:
        left, right = consts.get(0, ""), consts.get(1, "")
        text = f"{left}{op.symbol}{right}"
    else:
        text = f"{g.ops[i]}({', '.join(consts.get(k, '·') for k in range(arity))})"
    return f"{g.names[i]} = {text}" if g.names[i] else text


def _plain(graph: Graph, ev, order: list[int], outputs: set[int], backward: bool) -> View:
    """The view of the nodes in `order` (ascending), one box each: `_build` without grouping
    or cuts, for the common case and for large graphs (every input of a kept node is kept)."""
    if len(order) > COLUMNS_FROM and not backward and not graph.groups:  # calls: boxes
        from .columns import item_columns, link_columns

        return View(graph, item_columns(graph, order, outputs), link_columns(graph, order), ev)
    items = _items(graph, order, outputs, False)
    for item in items:
        item.members.append(item.id)
    inputs = graph.inputs
    links = [Link(j, i, k) for i in order for k, j in enumerate(inputs[i]) if j != i]
    view = View(graph, items, links, ev, backward)
    if backward:
        view.links = [lk for lk in links if view.contribution(lk) is not None]
        linked = {lk.src for lk in view.links} | {lk.dst for lk in view.links} | outputs
        view.items = [it for it in view.items if it.id in linked]
    return view


def line_groups(graph: Graph, keep: set[int], outputs: set[int]) -> dict[int, int | None]:
    """Map each kept node to the named step it belongs to (None: a hidden constant).

    Inputs, named nodes, named arrays (`X = [[1, 2], ...]`) and outputs stand alone; an unnamed
    operation joins the step that consumes it; other constants are part of the expressions
    shown and are not drawn.
    """
    group: dict[int, int | None] = {}
    consumer: dict[int, int] = {}
    for i in sorted(keep):
        for j in graph.inputs[i]:
            consumer.setdefault(j, i)
    ops, consts = graph.ops, graph.consts
    named = {j for j in graph.symbols.values() if ops[j] == CONST and np.ndim(consts[j])}
    for i in sorted(keep, reverse=True):
        if graph.ops[i] == CONST and i not in outputs and i not in named:
            group[i] = None
        elif ops[i] == INPUT or graph.names[i] or i in outputs or i in named or i not in consumer:
            group[i] = i
        else:
            group[i] = group[consumer[i]]
    return group


def _items(graph: Graph, ids: list[int], outputs: set[int], collapse: bool) -> list[Item]:
    """One box per node in `ids` (ascending), made in one pass with every lookup hoisted:
    a drawing of a million-line file makes a million of them."""
    ops, names, consts, src = graph.ops, graph.names, graph.consts, graph.source
    starts, ends = graph.starts, graph.ends
    symbols = {op: REGISTRY[op].symbol or op for op in set(ops) if op in REGISTRY}
    snippet = src.snippet if src is not None else None
    items = []
    bound: dict[int, str] | None = None  # names of array constants (`X = [[1, 2], ...]`)
    for i, location in zip(ids, _locations(graph, ids), strict=True):
        op, name, start = ops[i], names[i], starts[i]
        if op == CONST:
            if not name and np.ndim(consts[i]):
                if bound is None:
                    bound = {j: n for n, j in graph.symbols.items() if ops[j] == CONST}
                name = bound.get(i)
            kind, title, location = "const", name or _number(consts[i]), ""
        elif op == INPUT:
            kind, title = "input", name
        else:
            kind, title = "op", symbols[op]
            if graph.attrs[i]:  # `index [:, 0]`, `sum axis=1`
                title = attr_title(title, graph.attrs[i])
            if name:
                title = name if collapse else f"{name} = {title}"
        if i in outputs:
            kind = "output"
        source = snippet(start, ends[i]) if snippet is not None and start >= 0 else ""
        items.append(Item(i, kind, title, op, source, location or ""))
    if graph.groups:  # a body's nodes point into the file it is written in
        for item in items:
            span = graph.span(item.id) if item.kind != "const" else None
            if span is not None and span.via is not None:
                item.source, item.location = span.text(), span.where()
    return items


def attr_title(title: str, attrs: dict) -> str:
    """An op's title with its attributes: `index [:, 0]`, `sum axis=1, keepdims=true`."""
    from ..ops.attrs import attrs_text, key_text

    if set(attrs) == {"key"}:
        return f"{title} [{key_text(attrs['key'])}]"
    return f"{title} {attrs_text(attrs)}"


def _locations(graph: Graph, order: list[int]) -> list[str | None]:
    """`file:line:col` of each node in `order`, found for all of them with one search."""
    src = graph.source
    if src is None:
        return [None] * len(order)
    import numpy as np

    starts = np.frombuffer(graph.starts, dtype=np.int64)[order]
    lines, cols = src.positions(starts)
    name = src.shown_name
    return [
        f"{name}:{line}:{col}" if start >= 0 else None
        for start, line, col in zip(starts.tolist(), lines.tolist(), cols.tolist(), strict=True)
    ]


def _number(value) -> str:
    return fmt(value, 6)


def warn_if_big(view: View) -> str | None:
    """A suggestion when a drawing would be too large to read."""
    if len(view.items) <= BIG:
        return None
    return (
        f"warning: the drawing has {len(view.items):,} nodes; try --collapse, "
        "--focus NAME or --depth N"
    )


def label_lines(view: View, item: Item, digits: int = 4) -> list[str]:
    """The lines a node's box shows: its title, then value and gradient when evaluated."""
    lines = [item.title]
    value = view.value(item.id)
    if value is not None and item.kind != "const":
        lines.append(f"value {fmt(value, digits)}")
    adjoint = view.adjoint(item.id)
    if view.ev is not None and view.ev.outputs and item.kind != "const":
        lines.append("grad " + ("0" if adjoint is None else fmt(adjoint, digits)))
    return lines


def edge_text(view: View, link: Link, digits: int = 4) -> str:
    """An edge's label: its local partial, or with --backward its contribution."""
    if view.backward:
        c = view.contribution(link)
        if c is None:
            return ""
        text = fmt(c, digits)
        return f"+({text})" if text.startswith("-") else f"+{text}"
    if view.graph.ops[link.src] == CONST:  # a constant gets no gradient: no partial drawn
        return ""
    p = view.partial(link)
    return "" if p is None else f"∂ {fmt(p, digits)}"
