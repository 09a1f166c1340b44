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
