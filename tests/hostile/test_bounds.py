"""Every step a user can make unbounded has a bound: Graphviz layouts, `--order`, `agrad
check` on large shapes, `explain` on large files."""

from __future__ import annotations

import pytest
from conftest import agrad, write

from autogradcli.render import export

CHAIN = "u0 = a*b + c - d\n" + "".join(
    f"u{k} = sin(u{k - 1}) * 1.0001 + a\n" for k in range(1, 100)
)
needs_dot = pytest.mark.skipif(
    __import__("shutil").which("dot") is None, reason="Graphviz is not installed"
)


@needs_dot
def test_graph_svg_past_the_layout_limit_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("AGRAD_DOT_TIMEOUT", "0.5")
    out = tmp_path / "x.svg"
    result = agrad("graph", write(tmp_path, CHAIN), "-o", str(out))
    assert result.exit_code == 2
    assert "did not lay out this graph within 0.5 s (AGRAD_DOT_TIMEOUT)" in result.stderr
    assert "--format dot" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "f.txt"]


@needs_dot
def test_explain_page_falls_back_to_its_own_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("AGRAD_DOT_TIMEOUT", "0.5")
    out = tmp_path / "p.html"
    result = agrad("explain", write(tmp_path, CHAIN), "--at", "a=1", "b=2", "c=3", "d=4",
                   "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "the page uses its built-in layout" in result.stderr
    page = out.read_text()
    assert "<svg" in page and 'id="graph0"' not in page  # not Graphviz's


@needs_dot
def test_notebook_picture_falls_back_to_text(tmp_path, monkeypatch, capsys):
    from autogradcli.language.parser import parse

    monkeypatch.setenv("AGRAD_DOT_TIMEOUT", "0.5")
    assert export.notebook_svg(parse(CHAIN, "chain.txt")) is None
    assert "the notebook shows the text form" in capsys.readouterr().err
    monkeypatch.setenv("AGRAD_DOT_TIMEOUT", "30")
    assert export.notebook_svg(parse("f = a*b\n", "f.txt")).lstrip().startswith("<?xml")


def test_a_bad_layout_limit_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("AGRAD_DOT_TIMEOUT", "soon")
    result = agrad("graph", write(tmp_path, "f = a*b\n"), "-o", str(tmp_path / "x.svg"))
    assert result.exit_code == 2
    assert "AGRAD_DOT_TIMEOUT='soon' is not a number of seconds" in result.stderr


def test_order_past_its_bound_refuses_with_the_estimate(tmp_path):
    result = agrad("eval", "-e", "f = sin(x)*exp(x)/(1+x^2)", "--at", "x=1", "--wrt", "x",
                   "--order", "12")  # fmt: skip
    assert result.exit_code == 2
    assert "--order 12 would record a derivative graph of about" in result.stderr
    assert "the bound is 200,000 nodes (AGRAD_ORDER_NODES)" in result.stderr
    assert "hint: ask for --order" in result.stderr and "Traceback" not in result.stderr


def test_order_bound_follows_its_variable(monkeypatch):
    monkeypatch.setenv("AGRAD_ORDER_NODES", "100")
    result = agrad("eval", "-e", "f = sin(x)*exp(x)", "--at", "x=1", "--wrt", "x",
                   "--order", "6", "-f", "json")  # fmt: skip
    assert result.exit_code == 2 and "the bound is 100 nodes" in result.stderr
    monkeypatch.setenv("AGRAD_ORDER_NODES", "1000000")
    result = agrad("eval", "-e", "f = sin(x)*exp(x)", "--at", "x=1", "--wrt", "x",
                   "--order", "6", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
