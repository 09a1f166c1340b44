"""`agrad explain --format html`: one self-contained page (no network) that steps through the
forward and backward passes on a drawing of the graph.

The drawing is Graphviz's layout when `dot` is installed (made now, embedded as SVG), else a
simple layered layout drawn here; a graph of more than DRAW_LIMIT boxes is not drawn. The
steps, numbers and finite differences are data in the page; the page's script
(explain_page.js) only shows them.
"""

from __future__ import annotations

import html
import json
import shutil
from importlib import resources

import numpy as np

from ..engines.evaluate import Evaluation
from ..graph import INPUT
from .explain import Explanation, Step, step_names
from .jsondoc import jsonable
from .numfmt import fmt
from .view import View, build, edge_text, fold_constants, label_lines

DRAW_LIMIT = 400  # boxes; beyond this the page lists the steps without a drawing
OPEN_LIMIT = 200  # steps; longer lists start folded


def page(x: Explanation, ev: Evaluation, check: dict, digits: int = 6, title: str = "") -> str:
    """The whole HTML page."""
    view = build(ev.graph, ev, ev.outputs[0].name, None, x.collapsed)
    if not x.collapsed:
        view = fold_constants(view)
        _titled_as_steps(view, step_names(ev))
    drawn = len(view.items) <= DRAW_LIMIT
    picture = drawing(view, digits) if drawn else ""
    data = {
        "output": x.output,
        "steps": [*(_step(s, "forward") for s in x.forward),
                  *(_step(s, "backward") for s in x.backward)],
        "nodes": _nodes(view, digits),
        "inputs": _inputs(ev, check, digits),
        "answers": [{"n": n, "value": v} for n, v in x.answers],
        "open": len(x.forward) + len(x.backward) <= OPEN_LIMIT,
    }
    note = "" if drawn else (
        f'<p class="note">The graph has {len(view.items):,} boxes: it is not drawn '
        f"(at most {DRAW_LIMIT}). The steps are listed below.</p>"
    )
    css = resources.files(__package__).joinpath("explain_page.css").read_text(encoding="utf-8")
    js = resources.files(__package__).joinpath("explain_page.js").read_text(encoding="utf-8")
    payload = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")
    return TEMPLATE.format(
        title=html.escape(f"agrad explain: {title}" if title else "agrad explain"),
        heading=html.escape(title or "formula"),
        output=html.escape(x.output),
        collapsed=" (one step per named line)" if x.collapsed else "",
        css=css, js=js, svg=picture, note=note, data=payload,
    )  # fmt: skip


def _titled_as_steps(view: View, called: dict[int, str]) -> None:
    """Boxes of unnamed operations titled as the steps call them (`t1 = +`), so the picture
    and the steps use one name."""
    names = view.graph.names
    for item in view.items:
        if item.kind == "op" and not names[item.id] and item.id in called:
            item.title = f"{called[item.id]} = {item.title}"


def _step(s: Step, phase: str) -> dict:
    """A step as the page's data; a quiz blank `[?n]` stays in `text` for the page to fill."""
    row = {"phase": phase, "kind": s.kind, "text": s.text, "where": s.where, "node": s.node,
           "edge": list(s.edge) if s.edge else None}  # fmt: skip
    p = s.parts
    if s.kind == "chain" and p:
        plain = p["partial"].removeprefix("(").removesuffix(")")  # (-1) as -1
        row["partial"] = plain if p.get("plain") else None
        row["contribution"] = p["c"]
        row["adjoint"] = p["adj"]
    if s.kind == "chain" and "contribution" in s.numbers:
        row["add"] = _finite(s.numbers["contribution"])
    return row


def _finite(value):
    """A JSON number or nested list, with nan and infinities as None."""
    value = jsonable(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value if isinstance(value, (int, float)) and np.isfinite(value) else None


def _nodes(view: View, digits: int) -> dict[str, dict]:
    """What a click on a box shows: name, value, adjoint, source position."""
    out = {}
    for item in view.items:
        value, adjoint = view.value(item.id), view.adjoint(item.id)
        out[str(item.id)] = {
            "title": item.title,
            "source": item.source,
            "where": item.location,
            "value": None if value is None else fmt(value, digits),
            "adjoint": None if adjoint is None else fmt(adjoint, digits),
        }
    return out


def _inputs(ev: Evaluation, check: dict, digits: int) -> list[dict]:
    """Each input's gradient from the engine and from finite differences."""
    g, result = ev.graph, ev.outputs[0]
    rows = []
    for name, node in g.input_ids.items():
        if g.ops[node] != INPUT or result.adjoints[node] is None:
            continue
        fd = check.get(name)
        rows.append({
            "name": name, "node": node,
            "grad": _finite(result.adjoints[node]),
            "shown": fmt(result.adjoints[node], digits),
            "fd": None if fd is None else _finite(fd),
        })  # fmt: skip
    return rows


def drawing(view: View, digits: int) -> str:
    """The view as inline SVG: Graphviz's layout, or the built-in layered one."""
    if shutil.which("dot") is not None:
        from .dot import dot, render_or_none

        svg = render_or_none(dot(view, digits), "svg", "the page uses its built-in layout")
        if svg is not None:
            text = svg.decode("utf-8")
            return text[text.index("<svg") :]  # no XML prolog or doctype inside HTML
    return layered(view, digits)


def layered(view: View, digits: int) -> str:
    """A simple drawing without Graphviz: boxes in columns by depth, edges as straight lines,
    with the same `<g class="node"><title>nID</title>` structure Graphviz writes."""
    level: dict[int, int] = {it.id: 0 for it in view.items}
    for link in sorted(view.links, key=lambda lk: lk.dst):  # ids are in evaluation order
        if link.src in level and link.dst in level:
            level[link.dst] = max(level[link.dst], level[link.src] + 1)
    columns: dict[int, list[int]] = {}
    for it in view.items:
        columns.setdefault(level[it.id], []).append(it.id)
    width, height, gap_x, gap_y = 150, 54, 70, 26
    pos = {}
    for col, ids in columns.items():
        for row, i in enumerate(ids):
            pos[i] = (20 + col * (width + gap_x), 20 + row * (height + gap_y))
    total_w = 40 + (max(columns) + 1) * (width + gap_x)
    total_h = 40 + max(len(ids) for ids in columns.values()) * (height + gap_y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}pt" height="{total_h}pt" '
             f'viewBox="0 0 {total_w} {total_h}"><g class="graph">']  # fmt: skip
    for link in view.links:
        if link.src not in pos or link.dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[link.src], pos[link.dst]
        a, b = (x1 + width, y1 + height / 2), (x2, y2 + height / 2)
        label = html.escape(edge_text(view, link, digits))
        parts.append(f'<g class="edge"><title>n{link.src}-&gt;n{link.dst}</title>'
                     f'<path fill="none" stroke="#4b5563" d="M{a[0]},{a[1]}L{b[0]},{b[1]}"/>'
                     f'<text x="{(a[0] + b[0]) / 2}" y="{(a[1] + b[1]) / 2 - 4}" '
                     f'font-size="9" text-anchor="middle">{label}</text></g>')  # fmt: skip
    for it in view.items:
        x, y = pos[it.id]
        lines = label_lines(view, it, digits)
        text = "".join(
            f'<tspan x="{x + width / 2}" dy="{13 if k else 0}">{html.escape(t)}</tspan>'
            for k, t in enumerate(lines)
        )
        parts.append(f'<g class="node {it.kind}"><title>n{it.id}</title>'
                     f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="8" '
                     f'fill="#fef9c3" stroke="#a16207"/>'
                     f'<text x="{x + width / 2}" y="{y + 18}" font-size="11" '
                     f'text-anchor="middle">{text}</text></g>')  # fmt: skip
    parts.append("</g></svg>")
    return "".join(parts)


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<header>
<h1>Backpropagation through <code>{heading}</code></h1>
<p>Output <code>{output}</code>{collapsed}. Step with the buttons or the arrow keys; click a box
for its value, its adjoint and its chain-rule sum.</p>
</header>
<main>
<section id="picture">
{svg}
{note}
</section>
<aside>
<section id="controls">
<button id="first" title="Start (Home)">|◀</button>
<button id="prev" title="Previous step (←)">◀</button>
<button id="next" title="Next step (→)">▶</button>
<button id="last" title="End (End)">▶|</button>
<button id="to-backward" title="Jump to the backward pass">backward pass</button>
</section>
<section id="step" aria-live="polite">
<h2 id="step-title">Start</h2>
<p id="step-text"></p>
<dl id="step-numbers"></dl>
</section>
<section id="node" hidden>
<h2 id="node-title"></h2>
<dl id="node-numbers"></dl>
<ol id="node-sum"></ol>
</section>
<section id="check">
<h2>Gradient check</h2>
<table id="check-table"><thead><tr><th>input</th><th>so far</th><th>engine</th>
<th>finite differences</th><th></th></tr></thead><tbody></tbody></table>
</section>
<section id="quiz" hidden>
<h2>Quiz</h2>
<p>Fill the blanks in the steps, then check.</p>
<button id="check-answers">check answers</button>
<p id="quiz-result"></p>
</section>
</aside>
</main>
<section id="steps">
<details id="forward-steps"><summary>Forward pass</summary><ol></ol></details>
<details id="backward-steps"><summary>Backward pass</summary><ol></ol></details>
</section>
<script type="application/json" id="agrad-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
