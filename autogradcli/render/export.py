"""Library helpers to show a Graph (parsed or traced) the way the command line does."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Graph


def to_dot(graph: Graph, at: dict[str, Any] | None = None, **view: Any) -> str:
    """DOT text for a graph; with `at`, every node shows its value and gradient.

    `view` takes the `agrad graph` options: focus, depth, collapse, backward.
    """
    from ..engines.evaluate import evaluate
    from .dot import dot
    from .view import build

    ev = None
    if at is not None:
        ev = evaluate(graph, {k: np.asarray(v, dtype=float) for k, v in at.items()}, edges=True)
    return dot(build(graph, ev, **view))


def to_text(graph: Graph) -> str:
    """An expression file that computes the graph's outputs (for `agrad` commands)."""
    from ..language.printer import graph_text

    return graph_text(graph)


def notebook_svg(obj: Any) -> str | None:
    """SVG of a Graph, an Evaluation (with its values) or a Tensor's recorded graph, as Jupyter
    shows it; None without Graphviz, so the text form is shown instead."""
    import shutil

    if shutil.which("dot") is None:
        return None
    from ..engines.evaluate import Evaluation
    from .dot import dot, render_or_none
    from .view import build, fold_constants

    if isinstance(obj, Evaluation):
        view = build(obj.graph, obj if obj.partials is not None else None)
    elif isinstance(obj, Graph):
        view = build(obj)
    else:
        view = build(obj.graph())
    svg = render_or_none(dot(fold_constants(view)), "svg", "the notebook shows the text form")
    return None if svg is None else svg.decode("utf-8")


def register_notebook(shell: Any) -> None:
    """Show graphs, evaluations and tensors as pictures in an IPython shell (Jupyter)."""
    from ..engines.evaluate import Evaluation
    from ..tensors.tensor import Tensor

    formatter = shell.display_formatter.formatters["image/svg+xml"]
    for cls in (Graph, Evaluation, Tensor):
        formatter.for_type(cls, notebook_svg)
