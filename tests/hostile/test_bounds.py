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
    for bad in ("abc", "-5", "1e6", "200,000", "0"):
        monkeypatch.setenv("AGRAD_ORDER_NODES", bad)
        result = agrad("eval", "-e", "f = sin(x)", "--at", "x=1", "--wrt", "x", "--order", "2")
        assert result.exit_code == 2 and "not a whole number of nodes" in result.stderr


def _check_json(path: str, *extra: str) -> dict:
    import json

    result = agrad("check", path, "-f", "json", *extra)
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def test_check_of_large_shapes_uses_random_directions(tmp_path):
    text = "# shape: W (300, 300), x (300)\nf = sum(tanh(W @ x))\n"
    doc = _check_json(write(tmp_path, text))
    rows = {r["wrt"]: r for r in doc["results"]}
    assert rows["W"]["detail"] == "along 3 random directions per point (90,000 elements)"
    assert rows["x"]["detail"] == "along 3 random directions per point (300 elements)"
    for r in rows.values():
        assert r["points"] == 20 and r["max_error"] < 1e-4
        assert r["status"] == "skipped: too large for SymPy (90,300 input elements > 2,000)"


def test_check_of_very_large_shapes_takes_one_point_and_one_direction(tmp_path):
    text = "# shape: W (3000, 3000), x (3000)\nf = sum(tanh(W @ x))\n"
    rows = {r["wrt"]: r for r in _check_json(write(tmp_path, text))["results"]}
    assert rows["W"]["points"] == 1 and rows["W"]["max_error"] < 1e-4
    assert rows["W"]["detail"] == "along 1 random direction per point (9,000,000 elements)"


def test_random_directions_still_catch_a_wrong_rule(tmp_path, monkeypatch):
    from autogradcli.engines import interpreter

    def wrong(g, out, x):
        return (g * (1 - out * out) * 1.01,)

    monkeypatch.setitem(interpreter.VJP, "tanh", wrong)
    text = "# shape: W (300, 300), x (300)\nf = sum(tanh(W @ x))\n"
    doc = _check_json(write(tmp_path, text), "--points", "2")
    assert [r["status"] for r in doc["results"]] == ["fail", "fail"]
    assert "along 3 random directions per point" in doc["results"][0]["detail"]


def test_small_inputs_keep_the_check_per_element(tmp_path):
    text = "# shape: W (3, 3), x (3)\nf = sum(tanh(W @ x))\n"
    doc = _check_json(write(tmp_path, text), "--points", "3")
    assert [r["status"] for r in doc["results"]] == ["pass", "pass"]
    assert [r["detail"] for r in doc["results"]] == ["", ""]


def test_explain_refuses_a_graph_past_its_size_with_a_hint(tmp_path):
    text = "x0 = x\n" + "".join(f"x{k} = sin(x{k - 1}) * 1.0001\n" for k in range(1, 30_000))
    for fmt in ("text", "html"):
        result = agrad("explain", write(tmp_path, text), "--at", "x=0.5", "-f", fmt)
        assert result.exit_code == 2
        assert "nodes; agrad explain writes out graphs of up to 50,000" in result.stderr
        assert "hint: explain the part you want" in result.stderr
