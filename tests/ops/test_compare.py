"""Comparisons and `where`: 1.0 / 0.0 values, gradients that follow the branch taken."""

from __future__ import annotations

import numpy as np
from conftest import agrad, write

from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse
from autogradcli.ops import compare


def test_comparisons_are_numbers():
    x, y = np.array([1.0, 2.0, 3.0]), np.array(2.0)
    assert compare._gt(x, y).tolist() == [0.0, 0.0, 1.0]
    assert compare._ge(x, y).tolist() == [0.0, 1.0, 1.0]
    assert compare._lt(x, y).tolist() == [1.0, 0.0, 0.0]
    assert compare._le(x, y).tolist() == [1.0, 1.0, 0.0]
    assert compare._eq(x, y).tolist() == [0.0, 1.0, 0.0]
    assert compare._ne(x, y).tolist() == [1.0, 0.0, 1.0]
    assert compare._where(np.array([1.0, 0.0, 2.0]), x, -x).tolist() == [1.0, -2.0, 3.0]


def test_a_piecewise_formula_follows_the_branch_taken():
    graph = parse("f = where(x > 0, x^2, -3 * x)\n", "t.txt")
    out = graph.outputs[0][1]
    for x, value, slope in ((2.0, 4.0, 4.0), (-1.0, 3.0, -3.0), (0.0, 0.0, -3.0)):
        ev = evaluate(graph, {"x": np.array(x)})
        assert ev.values[out] == value and ev.outputs[0].gradient["x"] == slope


def test_huber_loss_from_the_command_line(tmp_path):
    text = "r = y - t\nf = where(abs(r) <= 1, 0.5 * r^2, abs(r) - 0.5)\n"
    path = write(tmp_path, text, "huber.txt")
    result = agrad("eval", path, "--at", "y=3", "t=0.5", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    doc = json.loads(result.stdout)
    assert doc["outputs"]["f"]["value"] == 2.0
    assert doc["outputs"]["f"]["gradient"] == {"y": 1.0, "t": -1.0}
