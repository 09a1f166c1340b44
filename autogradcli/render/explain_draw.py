"""The explain page's drawing, laid out to be read: short labels (an array as its shape and
first elements, a long name cut with the full text on hover), the rank direction picked by the
graph's shape, inputs pinned to one column only when that does not stretch the picture, and a
function call drawn as one box when the graph records calls (`Graph.groups`).

The drawing is Graphviz's layout when `dot` is installed, else a layered layout drawn here;
both write `<g class="node"><title>nID</title>` groups with one `<text>` per label line.
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass, field

import numpy as np

from .boxes import Link
from .numfmt import fmt
from .view import View

TITLE_CHARS = 22  # longer box titles are cut, with the whole title on hover
FIRST_ELEMENTS = 3  # an array in a box: its shape and this many elements
CONTAINER = (900, 700)  # the picture's size on a laptop screen, in px, to pick the layout for
BOX = (120, 56)  # a box's usual size in points, with the gaps Graphviz leaves
GAP = (40, 30)


@dataclass
class Hidden:
    """What the drawing must not show yet (a quiz's blanks): gradients and edge partials."""

    grads: set[int] = field(default_factory=set)
    edges: set[tuple[int, int]] = field(default_factory=set)


def short_value(x, digits: int = 4) -> str:
    """A scalar as a number; an array as its shape and first elements: `(3×2) [0.1, 0.2, …]`."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return fmt(a, digits)
    flat = a.ravel()
    if a.ndim == 1 and flat.size <= FIRST_ELEMENTS:
        return "[" + ", ".join(fmt(v, digits) for v in flat) + "]"
    first = ", ".join(fmt(v, digits) for v in flat[:FIRST_ELEMENTS])
    more = ", …" if flat.size > FIRST_ELEMENTS else ""
    return f"({'×'.join(map(str, a.shape))}) [{first}{more}]"


def short_title(title: str) -> str:
    """A title cut to TITLE_CHARS with an ellipsis."""
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"


def box_lines(view: View, item, digits: int, hidden: Hidden) -> list[str]:
    """A box's lines: short title, value, gradient (`grad ?` while hidden)."""
    lines = [short_title(item.title)]
    if view.ev is None or item.kind == "const":
        return lines
    value = view.value(item.id)
    if value is not None:
        lines.append("value " + short_value(value, digits))
    if view.ev.outputs:
        adjoint = view.adjoint(item.id)
        grad = "0" if adjoint is None else short_value(adjoint, digits)
        lines.append("grad " + ("?" if item.id in hidden.grads else grad))
    return lines


def edge_label(view: View, link: Link, digits: int, hidden: Hidden) -> str:
    """An edge's local partial, short; `∂ ?` while hidden; nothing for a constant's edge."""
    if view.graph.ops[link.src] == "const":
        return ""
    if (link.src, link.dst) in hidden.edges:
        return "∂ ?"
    p = view.partial(link)
    return "" if p is None else "∂ " + short_value(p, digits)


def levels(view: View) -> dict[int, int]:
    """Each box's depth: the longest path to it, with a box without inputs (an input, a
    constant) placed just before its first consumer, not at the far edge."""
    level = {it.id: 0 for it in view.items}
    links = sorted(view.links, key=lambda lk: lk.dst)  # ids are in evaluation order
    for link in links:
        if link.src in level and link.dst in level:
            level[link.dst] = max(level[link.dst], level[link.src] + 1)
    sources = {it.id for it in view.items} - {lk.dst for lk in links}
    first: dict[int, int] = {}
    for link in links:
        if link.src in sources and link.dst in level:
            first[link.src] = min(first.get(link.src, level[link.dst]), level[link.dst])
    for i, consumer in first.items():
        level[i] = max(consumer - 1, 0)
    return level


def rank_direction(view: View) -> str:
    """LR or TB: the one whose picture, fitted to the page, shows its boxes largest; a deep
    narrow graph (a chain) runs down the page, a shallow wide one across."""
    level = levels(view)
    depth = max(level.values(), default=0) + 1
    counts: dict[int, int] = {}
    for v in level.values():
        counts[v] = counts.get(v, 0) + 1
    breadth = max(counts.values(), default=1)
    (cw, ch), (bw, bh), (gx, gy) = CONTAINER, BOX, GAP
    across = min(cw / (depth * (bw + gx)), ch / (breadth * (bh + gy)))
    down = min(cw / (breadth * (bw + gx)), ch / (depth * (bh + gy)))
    if max(across, down) * 11 < 12:  # neither fits legibly: fit the width, scroll the length
        across, down = cw / (depth * (bw + gx)), cw / (breadth * (bw + gx))
    return "LR" if across >= down else "TB"


def call_boxes(view: View, groups: list) -> dict[int, int]:
    """Draw each outermost function call as one box (its result node), in place: returns
    {node: the box that stands for it} for the nodes inside calls."""
    box: dict[int, int] = {}
    names: dict[int, str] = {}
    for group in groups:
        if getattr(group, "parent", None) is None:
            for i in range(group.first, group.last + 1):
                box[i] = group.last
            names[group.last] = group.name
    if not box:
        return {}
    items = []
    for it in view.items:
        if box.get(it.id, it.id) != it.id:
            continue
        if it.id in names and it.kind != "output":
            it.title, it.kind = f"{names[it.id]}(…)", "op"
        elif it.id in names:
            it.title = f"{names[it.id]}(…)"
        items.append(it)
    links, seen = [], set()
    for lk in view.links:
        a, b = box.get(lk.src, lk.src), box.get(lk.dst, lk.dst)
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        merged = a != lk.src or b != lk.dst
        links.append(Link(a, b, -1 if merged else lk.arg))
    view.items, view.links = items, links
    return {i: b for i, b in box.items() if i != b}


def page_dot(view: View, digits: int, hidden: Hidden) -> str:
    """DOT for the page: short labels, the rank direction for the graph's shape."""
    from .dot import STYLE, quote

    direction = rank_direction(view)
    level = levels(view)
    breadth = max((list(level.values()).count(v) for v in set(level.values())), default=1)
    out = [
        "digraph explain {\n",
        f'  graph [rankdir={direction}, fontname="Helvetica", fontsize=11, nodesep=0.25, '
        "ranksep=0.35];\n",
        '  node [fontname="Helvetica", fontsize=11, margin="0.08,0.04"];\n',
        '  edge [fontname="Helvetica", fontsize=10, color="#4b5563"];\n',
    ]
    for item in view.items:
        label = "\n".join(box_lines(view, item, digits, hidden))
        tip = item.title + (f": {item.source}" if item.source and item.source != item.title else "")
        out.append(f"  n{item.id} [label={quote(label)}, tooltip={quote(tip)}, "
                   f"{STYLE[item.kind]}];\n")  # fmt: skip
    inputs = [it.id for it in view.items if it.kind == "input"]
    if 1 < len(inputs) <= breadth and len({level[i] for i in inputs}) == 1:
        # inputs used at one depth, in one column, in their order of first appearance
        out.append(f"  {{rank=same; {' -> '.join(f'n{i}' for i in inputs)} [style=invis]}}\n")
    for link in view.links:
        text = edge_label(view, link, digits, hidden)
        attrs = f" [label={quote(text)}]" if text else ""
        out.append(f"  n{link.src} -> n{link.dst}{attrs};\n")
    out.append("}\n")
    return "".join(out)


def drawing(view: View, digits: int, hidden: Hidden) -> str:
    """The view as inline SVG: Graphviz's layout, or the built-in layered one."""
    if shutil.which("dot") is not None:
        from .dot import render_or_none

        fallback = "the page uses its built-in layout"
        svg = render_or_none(page_dot(view, digits, hidden), "svg", fallback)
        if svg is not None:
            text = svg.decode("utf-8")
            return text[text.index("<svg") :]  # no XML prolog or doctype inside HTML
    return layered(view, digits, hidden)


def layered(view: View, digits: int, hidden: Hidden) -> str:
    """A simple drawing without Graphviz: boxes in columns by depth, edges as straight lines,
    with the same `<g class="node"><title>nID</title>` structure Graphviz writes."""
    level = levels(view)
    columns: dict[int, list[int]] = {}
    for it in view.items:
        columns.setdefault(level[it.id], []).append(it.id)
    width, height, gap_x, gap_y = 150, 54, 70, 26
    pos = {}
    for col, ids in columns.items():
        for row, i in enumerate(ids):
            pos[i] = (20 + col * (width + gap_x), 20 + row * (height + gap_y))
    total_w = 40 + (max(columns, default=0) + 1) * (width + gap_x)
    total_h = 40 + max((len(ids) for ids in columns.values()), default=1) * (height + gap_y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}pt" height="{total_h}pt" '
             f'viewBox="0 0 {total_w} {total_h}"><g class="graph">']  # fmt: skip
    for link in view.links:
        if link.src not in pos or link.dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[link.src], pos[link.dst]
        a, b = (x1 + width, y1 + height / 2), (x2, y2 + height / 2)
        label = html.escape(edge_label(view, link, digits, hidden))
        parts.append(f'<g class="edge"><title>n{link.src}-&gt;n{link.dst}</title>'
                     f'<path fill="none" stroke="#4b5563" d="M{a[0]},{a[1]}L{b[0]},{b[1]}"/>'
                     f'<text x="{(a[0] + b[0]) / 2}" y="{(a[1] + b[1]) / 2 - 4}" '
                     f'font-size="10" text-anchor="middle">{label}</text></g>')  # fmt: skip
    for it in view.items:
        x, y = pos[it.id]
        hover = html.escape(it.title + (f": {it.source}" if it.source else ""))
        texts = "".join(
            f'<text x="{x + width / 2}" y="{y + 17 + 14 * k}" font-size="11" '
            f'text-anchor="middle">{html.escape(t)}{"" if k else f"<title>{hover}</title>"}'
            "</text>"
            for k, t in enumerate(box_lines(view, it, digits, hidden))
        )
        parts.append(f'<g class="node {it.kind}"><title>n{it.id}</title>'
                     f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="8" '
                     f'fill="#fef9c3" stroke="#a16207"/>{texts}</g>')  # fmt: skip
    parts.append("</g></svg>")
    return "".join(parts)
