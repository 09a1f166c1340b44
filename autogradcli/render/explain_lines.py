"""`agrad explain --collapse`: one forward step per named line and one chain-rule step per
edge between named lines, as `agrad graph --collapse` draws them.

A line's local partial (∂u/∂b through the whole expression of `u`) is the engine's edge
partials multiplied along the paths inside the expression and summed; it is shown where every
value inside is a number. A contribution is always the sum of the engine's own contributions
of the edges that leave the expression for that operand.
"""

from __future__ import annotations

import numpy as np

from ..engines.evaluate import Evaluation
from ..graph import CONST, INPUT
from .explain import Explanation, Step, latex_name, number_text, sum_terms, term
from .jsondoc import jsonable
from .view import line_groups


def collapsed(ev: Evaluation, digits: int = 6) -> Explanation:
    """The steps for the first output of an evaluation made with edges=True, one per line."""
    g, result = ev.graph, ev.outputs[0]
    f, feeds = result.name, g.ancestors([result.node])
    group = line_groups(g, {i for i in range(len(g)) if feeds[i]}, {result.node})
    members: dict[int, list[int]] = {}
    for i in sorted(group):
        if group[i] is not None:
            members.setdefault(group[i], []).append(i)
    heads = sorted(members)
    names = {h: g.names[h] or (f if h == result.node else f"n{h}") for h in heads}
    forward = []
    for h in heads:
        if g.ops[h] in (INPUT, CONST):
            continue
        value = number_text(ev.values[h], digits)
        span = g.span(h)
        expr = span.source.snippet(span.start, span.end) if span else g.describe(h)
        forward.append(Step("forward", f"{names[h]} = {expr} = {value}",
                            f"{latex_name(names[h])} &= \\text{{{_tex_text(expr)}}} = {value}",
                            g.where(h), {"value": jsonable(ev.values[h])}, node=h))  # fmt: skip
    backward = [Step("seed", f"∂{f}/∂{f} = 1", f"\\frac{{\\partial {f}}}{{\\partial {f}}} &= 1",
                     g.where(result.node), {"adjoint": 1.0}, node=result.node)]  # fmt: skip
    flows = {h: _flows(ev, group, members[h], h) for h in heads if result.adjoints[h] is not None}
    uses: dict[int, int] = {}
    for out in flows.values():
        for j in out:
            uses[j] = uses.get(j, 0) + 1
    pending: dict[int, list[str]] = {}
    for h in reversed(heads):
        for j, (partial, contribution) in flows.get(h, {}).items():
            step = _chain(ev, names, f, h, j, partial, contribution, digits)
            backward.append(step)
            pending.setdefault(j, []).append(step.parts["c"])
            if len(pending[j]) == uses[j] > 1:
                total = number_text(result.adjoints[j], digits)
                terms = sum_terms(pending[j])
                tex = f"\\frac{{\\partial {f}}}{{\\partial {latex_name(names[j])}}} &= "
                adjoint = {"adjoint": jsonable(result.adjoints[j])}
                backward.append(Step("sum", f"∂{f}/∂{names[j]} = {terms} = {total}",
                                     f"{tex}{terms} = {total}", g.where(j), adjoint,
                                     node=j))  # fmt: skip
    return Explanation(f, forward, backward, collapsed=True)


def _flows(ev: Evaluation, group: dict, inside: list[int], head: int) -> dict[int, tuple]:
    """For each operand of a line's expression: the local partial through the expression (None
    unless every value inside is a number) and the summed contribution, in order of use."""
    g, result = ev.graph, ev.outputs[0]
    scalar = all(np.ndim(ev.values[m]) == 0 for m in inside)
    down: dict[int, float | None] = {head: 1.0}
    out: dict[int, list] = {}
    for i in reversed(inside):
        di = down.get(i)
        for k, j in enumerate(g.inputs[i]):
            if g.ops[j] == CONST:
                continue
            p = ev.partials.get((i, k)) if scalar else None
            step = None if di is None or p is None or np.ndim(p) else di * float(p)
            if group.get(j) == head:  # inside the same expression
                down[j] = _add(down[j], step) if j in down else step
                continue
            c = result.contributions.get((i, k))
            if result.adjoints[j] is None or c is None:
                continue
            out[j] = [_add(out[j][0], step), out[j][1] + c] if j in out else [step, c]
    return {j: (p, c) for j, (p, c) in out.items()}


def _add(a: float | None, b: float | None) -> float | None:
    """A sum of partials, unknown (None) if either part is."""
    return None if a is None or b is None else a + b


def _chain(ev, names, f, h, j, partial, contribution, digits) -> Step:
    """`∂f/∂b += ∂f/∂u · ∂u/∂b = 1 · 12 = 12` for the edge from line `j` into line `h`."""
    g, result = ev.graph, ev.outputs[0]
    child, parent = names[h], names[j]
    adj, c = number_text(result.adjoints[h], digits), number_text(contribution, digits)
    chain = f"∂{f}/∂{parent} += ∂{f}/∂{child} · ∂{child}/∂{parent}"
    plain = partial is not None
    shown = term(number_text(partial, digits)) if plain else ""
    if plain:
        text = f"{chain} = {adj} · {shown} = {c}"
    else:
        text = f"{chain} = {c}    (through the expression of {child})"
    lhs = f"\\frac{{\\partial {f}}}{{\\partial {latex_name(parent)}}} &\\mathrel{{+}}= "
    numbers = {"adjoint": jsonable(result.adjoints[h]), "contribution": jsonable(contribution)}
    if plain:
        numbers["partial"] = partial
    return Step("chain", text, lhs + (f"{adj} \\cdot {shown} = {c}" if plain else c),
                g.where(h), numbers, {"chain": chain, "adj": adj, "partial": shown, "c": c,
                                      "plain": plain}, node=j, edge=(j, h))  # fmt: skip


TEX = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "_": "\\_", "^": "\\^{}", "&": "\\&",
       "%": "\\%", "#": "\\#", "$": "\\$", "~": "\\~{}"}  # fmt: skip


def _tex_text(text: str) -> str:
    """Source text inside \\text{...}: LaTeX's special characters escaped."""
    return "".join(TEX.get(ch, ch) for ch in text)
