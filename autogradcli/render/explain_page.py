"""`agrad explain --format html`: one self-contained page (no network) that steps through the
forward and backward passes on a drawing of the graph.

The drawing comes from explain_draw (Graphviz's layout when `dot` is installed, else a simple
layered one); a graph of more than DRAW_LIMIT boxes is not drawn. The steps, numbers and
finite differences are data in the page; the page's script (explain_page.js) only shows them,
pans and zooms. A quiz's hidden numbers are in the data as secrets (`secret`), so that no
answer is in the page's text until it is answered or revealed.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources

import numpy as np

from ..engines.evaluate import Evaluation
from ..graph import INPUT
from .explain import Explanation, Step, step_names
from .explain_draw import Hidden, call_boxes, drawing, short_value
from .jsondoc import jsonable
from .numfmt import fmt
from .view import View, build, fold_constants

DRAW_LIMIT = 400  # boxes; beyond this the page lists the steps without a drawing
OPEN_LIMIT = 200  # steps; longer lists start folded


def page(x: Explanation, ev: Evaluation, check: dict, digits: int = 6, title: str = "") -> str:
    """The whole HTML page."""
    view = build(ev.graph, ev, ev.outputs[0].name, None, x.collapsed)
    if not x.collapsed:
        view = fold_constants(view)
        _titled_as_steps(view, step_names(ev))
    boxes = call_boxes(view, getattr(ev.graph, "groups", None) or [])
    hidden = _hidden(x)
    drawn = len(view.items) <= DRAW_LIMIT
    picture = drawing(view, 4, hidden) if drawn else ""
    data = {
        "output": x.output,
        "steps": [
            *(_step(s, "forward") for s in x.forward),
            *(_step(s, "backward") for s in x.backward),
            *(_step(s, "update") for s in x.update),
        ],
        "nodes": _nodes(view, digits, x.hidden),
        "inputs": _inputs(ev, check, digits, x.hidden),
        "answers": [{"n": n, "code": secret(v)} for n, v in x.answers],
        "hidden": {str(node): blanks for node, blanks in x.hidden.items()},
        "box": {str(i): b for i, b in boxes.items()},
        "open": len(x.forward) + len(x.backward) <= OPEN_LIMIT,
    }
    note = (
        ""
        if drawn
        else (
            f'<p class="note">The graph has {len(view.items):,} boxes: it is not drawn '
            f"(at most {DRAW_LIMIT}). The steps are listed below.</p>"
        )
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


def secret(text: str) -> str:
    """A quiz's hidden text, kept out of the page's readable text until answered or revealed
    (the page decodes it then): UTF-8 bytes XOR 0x5A, in base64."""
    return base64.b64encode(bytes(b ^ 0x5A for b in text.encode("utf-8"))).decode("ascii")


def _hidden(x: Explanation) -> Hidden:
    """The gradients and edge partials the drawing must not show while a quiz is open."""
    edges = {tuple(s.edge) for s in x.backward if s.blanks and s.edge}
    return Hidden(set(x.hidden), edges)


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
    if s.blanks:  # a quiz's step: what it adds to the gradient check stays secret
        row["blanks"] = s.blanks
        partial = s.numbers.get("partial")
        edge = "" if partial is None else "∂ " + short_value(partial, 4)
        row["code"] = secret(json.dumps({"add": row.pop("add", None), "edge": edge},
                                        allow_nan=False))  # fmt: skip
    if phase == "update":  # the new weight drawn into its box, the numbers in the panel
        row.update({k: s.numbers[k] for k in ("short", "rows") if k in s.numbers})
    return row


def _finite(value):
    """A JSON number or nested list, with nan and infinities as None."""
    value = jsonable(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value if isinstance(value, (int, float)) and np.isfinite(value) else None


def _nodes(view: View, digits: int, hidden: dict) -> dict[str, dict]:
    """What a click on a box shows: name, value, adjoint (a quiz's secret while its blanks are
    open), source position."""
    out = {}
    for item in view.items:
        value, adjoint = view.value(item.id), view.adjoint(item.id)
        shown = None if adjoint is None else fmt(adjoint, digits)
        out[str(item.id)] = {
            "title": item.title,
            "source": item.source,
            "where": item.location,
            "value": None if value is None else fmt(value, digits),
            "adjoint": shown,
        }
        if item.id in hidden:
            out[str(item.id)]["adjoint"] = "?"
            out[str(item.id)]["code"] = secret(json.dumps({
                "adjoint": shown, "short": short_value(adjoint, 4)}))  # fmt: skip
    return out


def _inputs(ev: Evaluation, check: dict, digits: int, hidden: dict) -> list[dict]:
    """Each input's gradient from the engine and from finite differences (a quiz's secret
    while its blanks are open)."""
    g, result = ev.graph, ev.outputs[0]
    rows = []
    for name, node in g.input_ids.items():
        if g.ops[node] != INPUT or result.adjoints[node] is None:
            continue
        fd = check.get(name)
        row = {
            "grad": _finite(result.adjoints[node]),
            "shown": fmt(result.adjoints[node], digits),
            "fd": None if fd is None else _finite(fd),
        }
        if node in hidden:
            row = {"code": secret(json.dumps(row, allow_nan=False))}
        rows.append({"name": name, "node": node, **row})
    return rows


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
<div id="zoom"><button id="fit" title="Fit the width (legibly)">fit</button>
<button id="actual" title="Actual size">1:1</button>
<button id="zoom-out" title="Zoom out">−</button><button id="zoom-in" title="Zoom in">+</button>
<span id="zoom-level"></span> <span class="hint">drag to pan, wheel to zoom</span></div>
<div id="canvas">
{svg}
</div>
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
<button id="reveal">reveal the answers</button>
<p id="quiz-result"></p>
</section>
</aside>
</main>
<section id="steps">
<details id="forward-steps"><summary>Forward pass</summary><ol></ol></details>
<details id="backward-steps"><summary>Backward pass</summary><ol></ol></details>
<details id="update-steps" hidden><summary>Training step</summary><ol></ol></details>
</section>
<script type="application/json" id="agrad-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
