"""What every drawing and every written file tells a student: legends on the backward
drawings, array constants under their names, the explain page's short labels and layout, and
a "wrote FILE" line after every -o."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import agrad

from autogradcli.language.parser import parse_file
from autogradcli.render.boxes import Item, Link
from autogradcli.render.explain_draw import (
    call_boxes,
    rank_direction,
    short_title,
    short_value,
)
from autogradcli.render.view import View, build

SEED_AT = ["--at", "a=1", "b=2", "c=3", "d=4"]


def test_backward_drawings_carry_a_legend():
    recorded = agrad("graph", "samples/seed.txt", *SEED_AT, "--backward").stdout
    assert "legend [label=" in recorded and "1*, 2*: the incoming gradient times" in recorded
    assert "d∇f·1/dx" not in recorded  # only the second order draws those boxes
    second = agrad("graph", "samples/seed.txt", *SEED_AT, "--backward", "--order", "2").stdout
    assert 'label="d∇f·1/da = *1' in second and "d∇f·1/dx: the gradient by x of ∇f·1" in second
    plain = agrad("graph", "samples/seed.txt", *SEED_AT).stdout
    assert "legend" not in plain


def test_array_constants_keep_their_names_on_every_drawing():
    at = ["--at", "w=[0.5,-0.25]", "b=0.1"]
    for extra in ([], ["--backward"], ["--collapse"]):
        out = agrad("graph", "samples/logistic.txt", *at, *extra).stdout
        assert 'label="X"' in out and 'label="y"' in out, extra


@pytest.mark.parametrize(
    ("command", "target"),
    [
        (["eval", "samples/seed.txt", *SEED_AT], "out.json"),
        (["graph", "samples/seed.txt"], "out.dot"),
        (["explain", "samples/seed.txt", *SEED_AT], "out.html"),
        (["explain", "samples/seed.txt", *SEED_AT], "out.md"),
        (["optimize", "samples/seed.txt"], "out.txt"),
        (["compile", "samples/seed.txt"], "out.py"),
        (["check", "samples/seed.txt"], "out.json"),
    ],
)
def test_every_out_file_is_announced_once(tmp_path, command, target):
    out = tmp_path / target
    done = agrad(*command, "-o", str(out))
    assert done.exit_code == 0, done.output
    assert out.exists()
    assert done.stderr.count(f"wrote {out}") == 1, done.stderr


def test_short_values_and_titles():
    assert short_value(np.float64(0.123456)) == "0.1235"
    assert short_value([1.0, 2.0]) == "[1, 2]"
    assert short_value(np.arange(6.0).reshape(3, 2)) == "(3×2) [0, 1, 2, …]"
    assert short_value(np.arange(4.0)) == "(4) [0, 1, 2, …]"
    long = "a_rather_long_name_for_a_weight = *"
    assert short_title(long) == long[:21] + "…" and len(short_title(long)) == 22
    assert short_title("u = *") == "u = *"


def _chain_view(n: int) -> View:
    items = [Item(i, "op", f"y{i}", "sin", "", "") for i in range(n)]
    return View(None, items, [Link(i, i + 1, 0) for i in range(n - 1)])


def test_the_layout_runs_a_chain_down_and_a_shallow_graph_across():
    assert rank_direction(_chain_view(300)) == "TB"
    seed = build(parse_file("samples/seed.txt"))
    assert rank_direction(seed) == "LR"


def test_calls_collapse_to_their_result_box():
    view = _chain_view(6)
    boxes = call_boxes(view, [SimpleNamespace(name="f", first=1, last=3, parent=None),
                              SimpleNamespace(name="g", first=2, last=2, parent=0)])  # fmt: skip
    assert boxes == {1: 3, 2: 3}
    assert [it.title for it in view.items] == ["y0", "f(…)", "y4", "y5"]
    assert [(lk.src, lk.dst, lk.arg) for lk in view.links] == [(0, 3, -1), (3, 4, 0), (4, 5, 0)]
    assert call_boxes(_chain_view(3), []) == {}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_page_boxes_show_arrays_short_and_long_names_in_full_on_hover(tmp_path):
    path = tmp_path / "long.txt"
    name = "a_rather_long_name_for_a_weight"
    path.write_text(f"{name} = W @ x\nf = sum({name})\n", encoding="utf-8")
    out = tmp_path / "long.html"
    done = agrad("explain", str(path), "--at", "W=[[1,2,3],[4,5,6]]", "x=[1,0,1]", "-o", str(out))
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    assert ">value (2×3) [1, 2, 3, …]<" in text  # W in its box
    assert ">a_rather_long_name_fo…<" in text
    assert 'xlink:title="a_rather_long_name_for_a_weight = @: W @ x"' in text
