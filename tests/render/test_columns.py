"""Large plain drawings are kept as columns: the same DOT and JSON as one box per node.

The oracle is the general renderer: every file is drawn twice, once with the column form
forced (threshold 0) and once with it off, and the texts must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autogradcli.language.parser import parse, parse_file
from autogradcli.render import view as view_module
from autogradcli.render.boxes import Item, Link
from autogradcli.render.columns import ItemColumns, LinkColumns
from autogradcli.render.dot import dot
from autogradcli.render.jsondoc import view_chunks
from autogradcli.render.view import build

SAMPLES = sorted(Path(__file__).parents[2].glob("samples/*.txt"))

HAZARDS = {
    "plain": "a = x * 0.5\nb = sin(a) * 1.0001\nc = b^2 + a\nc\n",
    "quotes in the file name": "y = x + 1\ny\n",
    "double spaces and tabs": "y = x  *  2\nz =\tsin( y )\nz + y\n",
    "a span over lines": "y = (x +\n  1) * 2\ny\n",
    "unused names and constants": "k = 3\nu = x * 2\nv = x + 1\nv\n",
    "non-ascii comment": "y = x * 2  # größer\ny\n",
    "a long span": "y = " + " + ".join(f"x * {k}" for k in range(60)) + "\ny\n",
    "no outputs": "y = x * 2\n",
}


def _both(graph, monkeypatch) -> tuple[tuple[str, str], tuple[str, str]]:
    """(DOT, JSON) drawn as columns, and drawn one box per node."""
    monkeypatch.setattr(view_module, "COLUMNS_FROM", 0)
    v = build(graph)
    assert isinstance(v.items, ItemColumns) and isinstance(v.links, LinkColumns)
    columns = dot(v), "".join(view_chunks(v))
    monkeypatch.setattr(view_module, "COLUMNS_FROM", 10**9)
    v = build(graph)
    assert isinstance(v.items, list)
    return columns, (dot(v), "".join(view_chunks(v)))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_draw_the_same_either_way(path, monkeypatch):
    graph = parse_file(str(path))
    if graph.groups:
        pytest.skip("a file with calls is always drawn one box per node (its groups need boxes)")
    columns, boxes = _both(graph, monkeypatch)
    assert columns == boxes
    json.loads(columns[1])


@pytest.mark.parametrize("name", HAZARDS)
def test_hazards_draw_the_same_either_way(name, monkeypatch, tmp_path):
    file = tmp_path / ('we"ird\\name.txt' if "quotes" in name else "f.txt")
    file.write_text(HAZARDS[name], encoding="utf-8")
    columns, boxes = _both(parse_file(str(file)), monkeypatch)
    assert columns == boxes
    json.loads(columns[1])


def test_a_graph_without_a_file_draws_the_same(monkeypatch):
    columns, boxes = _both(parse("(a + b) * b^2 + (c - d) * d^2"), monkeypatch)
    assert columns == boxes


def test_columns_read_as_items_and_links(monkeypatch):
    monkeypatch.setattr(view_module, "COLUMNS_FROM", 0)
    v = build(parse("y = a * 2\ny + a"))
    items, links = list(v.items), list(v.links)
    assert [it.title for it in items] == ["a", "2", "y = *", "out = +"]
    assert [it.kind for it in items] == ["input", "const", "op", "output"]
    assert items[2].location == "<expr>:1:5" and items[1].location == ""
    edges = [(lk.src, lk.dst, lk.arg) for lk in links]
    assert edges == [(0, 2, 0), (1, 2, 1), (2, 3, 0), (0, 3, 1)]
    assert v.items[1:3] == items[1:3] and v.links[-1] == links[-1] == Link(0, 3, 1)
    assert all(isinstance(it, Item) for it in v.items)


def test_a_large_file_is_drawn_as_columns(tmp_path):
    lines = [f"v{k} = sin(v{k - 1}) * 1.0001" for k in range(1, 3000)]
    path = tmp_path / "chain.txt"
    path.write_text("v0 = x * 0.5\n" + "\n".join(lines) + "\nv2999\n")
    v = build(parse_file(str(path)))
    assert isinstance(v.items, ItemColumns) and len(v.items) > view_module.COLUMNS_FROM


@pytest.mark.parametrize("name", HAZARDS)
def test_reach_without_a_search_agrees_with_the_search(name):
    graph = parse(HAZARDS[name] + "w = x * 3\n")
    starts = view_module.roots(graph, None)
    quick = view_module._everything(graph, starts)
    if quick is not None:
        assert quick == graph.ancestors(starts)
    assert view_module._everything(graph, []) is None  # unused nodes that are not starts
