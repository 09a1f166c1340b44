"""Jupyter shows graphs, evaluations and tensors as pictures (text when Graphviz is missing)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import autogradcli as ag
from autogradcli.engines.evaluate import evaluate
from autogradcli.render import export

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")


@needs_dot
def test_svg_for_a_graph_an_evaluation_and_a_tensor():
    graph = ag.parse_file("samples/seed.txt")
    assert "<svg" in export.notebook_svg(graph)
    ev = evaluate(graph, {k: np.array(v) for k, v in zip("abcd", (1.0, 2, 3, 4), strict=True)},
                  edges=True)  # fmt: skip
    assert ">grad 1<" in export.notebook_svg(ev)  # values and gradients drawn
    x = ag.tensor(2.0, requires_grad=True)
    assert "<svg" in export.notebook_svg(x * x.sin())


def test_text_when_graphviz_is_missing(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert export.notebook_svg(ag.parse_file("samples/seed.txt")) is None


@needs_dot
def test_an_ipython_shell_gets_the_formatters():
    interactive = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactive.InteractiveShell.instance()
    export.register_notebook(shell)
    data, _ = shell.display_formatter.format(ag.parse_file("samples/seed.txt"))
    assert "<svg" in data["image/svg+xml"]


def test_importing_agrad_in_jupyter_registers_the_pictures(monkeypatch):
    import sys
    import types

    interactive = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactive.InteractiveShell.instance()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    ag._notebook()
    printers = shell.display_formatter.formatters["image/svg+xml"].type_printers
    assert ag.Graph in printers and ag.Tensor in printers
