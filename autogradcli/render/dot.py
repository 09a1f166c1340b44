"""Graphviz DOT: deterministic ids (n0, n1, ...), every label escaped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice

from ..errors import AgradError, paused_gc, printable, xml_text
from .calls import clusters, nested
from .columns import ItemColumns, LinkColumns
from .view import View, edge_text, label_lines

BLOCK = 4096  # lines per chunk written

STYLE = {
    "input": 'shape=ellipse, style=filled, fillcolor="#dbeafe", color="#1d4ed8"',
    "const": 'shape=box, style="rounded,filled", fillcolor="#f3f4f6", color="#9ca3af", fontsize=10',
    "op": 'shape=box, style="rounded,filled", fillcolor="#fef9c3", color="#a16207"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#dcfce7", color="#15803d", '
    "penwidth=2",
    "adjoint": 'shape=box, style="rounded,filled", fillcolor="#fee2e2", color="#b91c1c"',
}


def quote(text: str) -> str:
    """A DOT double-quoted string with backslashes, quotes and newlines escaped; characters
    that XML (and so SVG) cannot hold are written as \\xNN or \\uNNNN."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'  # the common case: nothing to escape
    text = xml_text(text.replace("\r", ""))
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def dot(view: View, digits: int = 4) -> str:
    """The DOT text of a view (forward edges child <- parent, or --backward adjoint flow)."""
    return "".join(dot_lines(view, digits))


def dot_lines(view: View, digits: int = 4) -> Iterator[str]:
    """The DOT text of a view, line by line, so a large drawing streams to its file."""
    with paused_gc():
        yield from _dot(view, digits)


def _dot(view: View, digits: int) -> Iterator[str]:
    title = "adjoints" if view.backward else "backward" if view.first_backward else "agrad"
    yield (
        f"digraph {title} {{\n"
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11];\n'
        '  node [fontname="Helvetica", fontsize=11];\n'
        '  edge [fontname="Helvetica", fontsize=9, color="#4b5563"];\n'
    )
    plain = view.ev is None  # no values: a box shows its title alone
    if plain and isinstance(view.items, ItemColumns) and isinstance(view.links, LinkColumns):
        yield from _dot_columns(view.items, view.links)
        return
    children, own = clusters(view)
    inside = {it.id for items in own.values() for it in items}
    for item in view.items:
        if item.id not in inside:
            yield _node(view, item, digits, plain, "  ")
    depth = 1
    for what, k in nested(children):  # each call framed, nested calls inside
        if what == "close":
            depth -= 1
            yield "  " * depth + "}\n"
            continue
        pad = "  " * depth
        yield (
            f"{pad}subgraph cluster_g{k} {{\n{pad}  label={quote(view.graph.groups[k].name)}; "
            'style="rounded,dashed"; color="#6b7280"; fontcolor="#374151";\n'
        )
        depth += 1
        for item in own.get(k, []):
            yield _node(view, item, digits, plain, "  " * depth)
    inputs = [f"n{it.id}" for it in view.items if it.kind == "input"]
    if 1 < len(inputs) <= 50:  # inputs in one column, in their order of first appearance
        yield f"  {{rank=same; {' -> '.join(inputs)} [style=invis]}}\n"
    for link in view.links:
        text = "" if plain else edge_text(view, link, digits)
        attrs = [f"label={quote(text)}"] if text else []
        if view.backward:
            attrs.append('color="#b91c1c"')
            yield f"  n{link.dst} -> n{link.src} [{', '.join(attrs)}];\n"
        else:
            yield (
                f"  n{link.src} -> n{link.dst}"
                + (f" [{', '.join(attrs)}]" if attrs else "")
                + ";\n"
            )
    legend = _legend(view)
    if legend:
        yield f'  legend [label={quote(legend)}, shape=note, fontsize=10, color="#9ca3af"];\n'
    yield "}\n"


LEGEND_ADJOINTS = (
    "Legend\n"
    "arrows run from a node back to each input it uses\n"
    "+c on an arrow: what it adds to the input's gradient (gradient x local partial)\n"
)
LEGEND_RECORDED = (
    "Legend\n"
    "red boxes: the backward pass, recorded as operations of its own\n"
    "1*, 2*: the incoming gradient times the constant 1, 2 (a local partial)\n"
    "*1: a product with the constant 1 on its right\n"
    "green df/dx: the box that holds the gradient of f by the input x\n"
)
LEGEND_ORDER_2 = "d∇f·1/dx: the gradient by x of ∇f·1 (a Hessian row sum, Hessian x ones)\n"


def _legend(view: View) -> str:
    """What the boxes of a backward drawing mean (`1*`, `d∇f·1/dx`), or nothing."""
    if view.backward:
        return LEGEND_ADJOINTS
    if view.first_backward is None:
        return ""
    second = any("∇" in (it.title or "") for it in view.items)
    return LEGEND_RECORDED + (LEGEND_ORDER_2 if second else "")


def _node(view: View, item, digits: int, plain: bool, pad: str) -> str:
    """One box's DOT statement."""
    label = item.title if plain else "\n".join(label_lines(view, item, digits))
    tooltip = item.source + (f" ({item.location})" if item.location else "")
    extra = ", peripheries=2" if item.cut else ""
    return (
        f"{pad}n{item.id} [label={quote(label)}, tooltip={quote(tooltip or item.title)}"
        f", {STYLE[item.kind]}{extra}];\n"
    )


def _dot_columns(items: ItemColumns, links: LinkColumns) -> Iterator[str]:
    """The nodes and edges of a large plain view, straight from its columns, in blocks."""
    titles, sources, where = items.titles, items.sources, items.where
    if not items.clean:
        titles, sources, where = list(map(_body, titles)), list(map(_body, sources)), _body(where)
    style = STYLE
    rows = zip(items.ids, titles, sources, items.lines, items.cols, items.kinds, strict=True)
    while block := list(islice(rows, BLOCK)):
        yield "".join(
            [
                f'  n{i} [label="{t}", tooltip="{s} ({where}:{line}:{col})", {style[k]}];\n'
                if line
                else f'  n{i} [label="{t}", tooltip="{s or t}", {style[k]}];\n'
                for i, t, s, line, col, k in block
            ]
        )
    inputs = [f"n{i}" for i, k in zip(items.ids, items.kinds, strict=True) if k == "input"]
    if 1 < len(inputs) <= 50:
        yield f"  {{rank=same; {' -> '.join(inputs)} [style=invis]}}\n"
    edges = zip(links.src, links.dst, strict=True)
    while block := list(islice(edges, BLOCK)):
        yield "".join([f"  n{a} -> n{b};\n" for a, b in block])
    yield "}\n"


def _body(text: str) -> str:
    """`quote` without the surrounding quotes."""
    return quote(text)[1:-1]


DOT_TIMEOUT = 10.0  # seconds Graphviz may spend on one layout; AGRAD_DOT_TIMEOUT overrides


class LayoutTimeout(AgradError):
    """Graphviz did not finish a layout within its time limit."""


def dot_timeout() -> float:
    """Seconds allowed for one Graphviz layout: AGRAD_DOT_TIMEOUT, or DOT_TIMEOUT."""
    text = os.environ.get("AGRAD_DOT_TIMEOUT", "").strip()
    if not text:
        return DOT_TIMEOUT
    try:
        limit = float(text)
    except ValueError:
        limit = float("nan")
    if not 0 < limit < 1e6:
        raise AgradError(
            f"AGRAD_DOT_TIMEOUT={printable(text)!r} is not a number of seconds",
            None,
            f"use a positive number such as {DOT_TIMEOUT:g}, or unset it",
        )
    return limit


def render(text: str, fmt: str, dpi: int | None = None) -> bytes:
    """Run Graphviz's `dot` on DOT text within `dot_timeout()` seconds; returns the svg,
    png or pdf bytes, or raises LayoutTimeout."""
    exe = shutil.which("dot")
    if exe is None:
        raise AgradError(
            "Graphviz's 'dot' program is not installed",
            None,
            "install it: apt-get install graphviz (Debian/Ubuntu), "
            "brew install graphviz (macOS), or see graphviz.org/download; "
            "or write DOT with -o graph.dot",
        )
    limit = dot_timeout()
    args = [exe, f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi else [])
    try:
        done = subprocess.run(
            args, input=text.encode(), capture_output=True, check=False, timeout=limit
        )
    except subprocess.TimeoutExpired:  # run() has killed dot
        raise LayoutTimeout(
            f"Graphviz did not lay out this graph within {limit:g} s (AGRAD_DOT_TIMEOUT)",
            None,
            "write DOT with --format dot (or -o graph.dot) and lay it out yourself, "
            "draw a smaller graph, or raise AGRAD_DOT_TIMEOUT",
        ) from None
    if done.returncode != 0:
        raise AgradError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def render_or_none(text: str, fmt: str, fallback: str) -> bytes | None:
    """`render`, or None after one warning on stderr naming `fallback` when Graphviz is
    missing or runs out of time."""
    if shutil.which("dot") is None:
        return None
    try:
        return render(text, fmt)
    except LayoutTimeout as exc:
        sys.stderr.write(f"warning: {exc.message}; {fallback}\n")
        return None
