"""`ag.explain(...)` and `agrad explain`: one evaluation explained step by step, in every
format, and shown inline in a notebook as the interactive page."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from ..engines.evaluate import Evaluation, evaluate
from ..graph import CONST, INPUT
from . import explain as steps_mod
from .explain_lines import collapsed

LONG = 400  # operations feeding the output beyond which the steps are one per line by default
FD_LIMIT = 64  # input numbers beyond which the page's gradient check is not estimated


@dataclass(repr=False)
class Explained:
    """An explanation, renderable as text, Markdown, LaTeX, JSON or the HTML page."""

    steps: steps_mod.Explanation
    ev: Evaluation
    inputs: dict
    digits: int = 6
    title: str = ""

    def render(self, fmt: str) -> str:
        """The explanation in one of: text, markdown, latex, json, html."""
        if self.steps.answers and fmt in ("latex", "json"):
            raise ValueError(f"a quiz is text, markdown or html, not {fmt} (it would show answers)")
        if self.steps.update and fmt == "latex":
            raise ValueError("the training step is text, markdown, json or html, not latex")
        if fmt == "html":
            from .explain_page import page

            check = gradient_check(self.ev, self.inputs)
            return page(self.steps, self.ev, check, self.digits, self.title)
        return {"text": steps_mod.text, "markdown": steps_mod.markdown, "latex": steps_mod.latex,
                "json": steps_mod.as_json}[fmt](self.steps)  # fmt: skip

    def __str__(self) -> str:
        return self.render("text")

    __repr__ = __str__  # a notebook's text/plain, and the REPL

    def _repr_markdown_(self) -> str:
        return self.render("markdown")

    def _repr_html_(self) -> str:
        """The interactive page in a sandboxed frame (scripts only, no network)."""
        page = html.escape(self.render("html"), quote=True)
        return (f'<iframe srcdoc="{page}" sandbox="allow-scripts" '
                'style="width:100%;height:720px;border:0"></iframe>')  # fmt: skip


def explain(
    source,
    at: dict | None = None,
    output: str | None = None,
    wrt: list[str] | None = None,
    collapse: bool | None = None,
    quiz: int | None = None,
    seed: int = 0,
    digits: int = 6,
    step=None,
    **inputs,
) -> Explained:
    """Explain the backward pass of `source` (a Graph, or a file's path) at the inputs given
    by `at` or as keywords; a notebook shows the result as the interactive page.

    `source` may be a Tensor (a loss, after `loss.backward()`): its recorded graph is
    explained at the tensors' values, with `at` naming them ({"W1": W1, ...}). `step` (an
    optimizer: a Tensor API SGD or Adam, or a Rule) adds its update of the parameters (`wrt`,
    default every input; with an optimizer, its parameters) and the loss after it.
    """
    from ..tensors.tensor import Tensor

    if isinstance(source, Tensor):
        graph, values, params, rule = _recorded(source, at, step)
        wrt = wrt or params
    else:
        from ..language.parser import parse_file

        graph = parse_file(source) if isinstance(source, str) else source
        values = {k: np.asarray(v, dtype=float) for k, v in {**(at or {}), **inputs}.items()}
        rule = step
    ev = evaluate(graph, values, [output] if output else None, wrt, edges=True)
    title = source if isinstance(source, str) else ""
    training = None if rule is None else (rule, wrt or list(graph.input_ids))
    return explained(ev, values, collapse, quiz, seed, digits, title, training)


def _recorded(loss, at: dict | None, optimizer) -> tuple:
    """A Tensor's recorded graph, its inputs' values, the optimizer's parameters among them
    and the optimizer's Rule (None without one)."""
    from ..tensors.autograd import to_graph
    from .explain_step import Rule, rule_of

    names = {id(t): name for name, t in (at or {}).items()}
    graph, vals, index = to_graph([loss], names)
    name = names.get(id(loss), "loss")
    if graph.names[index[id(loss)]] is None:
        graph.name_node(index[id(loss)], name)
    graph.add_output(name, index[id(loss)])
    values = {n: np.asarray(vals[i], dtype=float) for n, i in graph.input_ids.items()}
    if optimizer is None or isinstance(optimizer, Rule):
        return graph, values, None, optimizer
    params = [graph.names[index[id(p)]] for p in optimizer.params if id(p) in index]
    by_id = {id(p): graph.names[index[id(p)]] for p in optimizer.params if id(p) in index}
    return graph, values, params, rule_of(optimizer, by_id)


def explained(ev, values, collapse, quiz, seed, digits, title, training=None) -> Explained:
    """The steps of an evaluation: collapsed as asked, or when long (None); with `training`
    (a Rule and the parameters), the update that follows."""
    if collapse is None:
        collapse = is_long(ev)
    x = collapsed(ev, digits) if collapse else steps_mod.explain(ev, digits)
    if quiz is not None:
        if training is not None:
            raise ValueError("a quiz hides gradients that the training step would show")
        x = steps_mod.quiz(x, quiz, seed)
    if training is not None:
        from .explain_step import training_step

        rule, params = training
        x.update, _ = training_step(ev, values, params, rule, digits)
        x.rule = rule.describe()
    return Explained(x, ev, values, digits, title)


def operations(ev: Evaluation) -> int:
    """How many operations feed the first output."""
    g = ev.graph
    feeds = g.ancestors([ev.outputs[0].node])
    return sum(1 for i, op in enumerate(g.ops) if feeds[i] and op not in (INPUT, CONST))


def is_long(ev: Evaluation) -> bool:
    """Whether the full explanation is too long to read: many operations, some named lines."""
    return operations(ev) > LONG and any(ev.graph.names)


def gradient_check(ev: Evaluation, inputs: dict, limit: int = FD_LIMIT) -> dict:
    """Central finite differences of the first output by each input, while the inputs hold
    at most `limit` numbers in all: {input: estimate, or None when not estimated}."""
    from ..verify.oracle import fd_gradient

    result, graph = ev.outputs[0], ev.graph
    small = sum(int(np.size(v)) for v in inputs.values()) <= limit
    return {
        name: fd_gradient(graph, inputs, result.node, name)
        if small and result.adjoints[node] is not None else None
        for name, node in graph.input_ids.items()
    }  # fmt: skip
