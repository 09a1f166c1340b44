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


def test_the_sample_notebook_runs():
    """samples/notebook.ipynb in a real kernel: a picture, the explain page inline, a tensor."""
    import os
    from pathlib import Path

    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must install nbclient and ipykernel (the test extra)")
        pytest.skip("needs nbclient and ipykernel")
    samples = Path(__file__).resolve().parents[2] / "samples"
    nb = nbformat.read(samples / "notebook.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(samples)}}).execute()  # fmt: skip
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert all(c.outputs for c in nb.cells if c.cell_type == "code")  # each cell shows something
    shown = [o["data"] for o in outputs if o.output_type in ("execute_result", "display_data")]
    for data in shown:  # every picture has boxes, every page its steps
        if "image/svg+xml" in data:
            assert data["image/svg+xml"].count('class="node') >= 2, data["text/plain"]
        if "text/html" in data:
            assert "agrad-data" in data["text/html"] and "&lt;svg" in data["text/html"]
    kinds = [sorted(data) for data in shown]
    if shutil.which("dot"):
        assert "image/svg+xml" in kinds[0] and "image/svg+xml" in kinds[-1]
        assert sum("image/svg+xml" in k for k in kinds) == 3  # the file, y, loss
    page = next(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    assert page.startswith("<iframe srcdoc=") and "agrad-data" in page
    texts = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "∂f/∂b = 12 + 4 = 16" in texts
    assert "1.8185948536513634 0.0770037537313969" in texts  # 2 sin 2, sin 2 + 2 cos 2
    training = [o["data"]["text/plain"] for o in outputs if "text/html" in o.get("data", {})][-1]
    assert "Training step (SGD, lr 0.1)" in training and "W ← W − 0.1 · ∂loss/∂W" in training


def test_a_tensor_graph_marks_its_output():
    x = ag.tensor(2.0, requires_grad=True)
    y = x * x.sin()
    graph = y.graph()
    assert graph.outputs == [("out", 2)]
    text = ag.to_dot(graph)
    assert text.count("label=") >= 3 and "n0 -> n1" in text  # boxes and edges, not empty


def test_explain_in_python_renders_every_format():
    steps = ag.explain("samples/seed.txt", a=1, b=2, c=3, d=4)
    assert repr(steps) == str(steps) and str(steps).startswith("Forward pass (f)")
    assert steps._repr_markdown_().startswith("## Forward pass (f)")
    assert "\\begin{align*}" in steps.render("latex")
    assert steps.render("html").startswith("<!DOCTYPE html>")
    short = ag.explain("samples/seed.txt", at={"a": 1, "b": 2, "c": 3, "d": 4}, collapse=True)
    assert "u = (a + b) * b^2 = 12" in str(short)
