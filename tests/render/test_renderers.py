"""Each renderer module on the seed: JSON documents, text tables, numbers, library export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse_file
from autogradcli.render.export import to_dot, to_text
from autogradcli.render.jsondoc import dumps, evaluation_dict, view_chunks
from autogradcli.render.numfmt import fmt
from autogradcli.render.table import evaluation_tables, keep_numbers_whole
from autogradcli.render.view import build

SEED = Path(__file__).resolve().parents[2] / "samples/seed.txt"
AT = {"a": np.array(1.0), "b": np.array(2.0), "c": np.array(3.0), "d": np.array(4.0)}


def test_json_document_and_streamed_graph_json():
    graph = parse_file(str(SEED))
    ev = evaluate(graph, AT, edges=True)
    doc = json.loads(dumps(evaluation_dict(ev)))
    assert doc["outputs"]["f"]["gradient"] == {"a": 4.0, "b": 16.0, "c": 16.0, "d": -24.0}
    streamed = json.loads("".join(view_chunks(build(graph, ev))))
    assert streamed["gradient_of"] == "f" and len(streamed["nodes"]) == len(graph)


def test_numbers_and_tables():
    assert fmt(2.0 / 3.0, 3) == "0.667" and fmt(-0.0) == "0" and fmt(np.inf) == "inf"
    assert fmt(np.array([1.5, -2.0])) == "[1.5, -2]"
    group = evaluation_tables(evaluate(parse_file(str(SEED)), AT))
    table = keep_numbers_whole(group.renderables[0])
    assert [c.min_width for c in table.columns][1:] == [1, 3]  # "4", "-24"


def test_library_export_round_trips():
    graph = parse_file(str(SEED))
    assert to_dot(graph, at={"a": 1, "b": 2, "c": 3, "d": 4}).startswith("digraph")
    assert "u = (a + b) * (b ^ 2.0)" in to_text(graph)


def test_rounding_noise_beside_larger_neighbours_shows_as_zero():
    import numpy as np

    from autogradcli.render.numfmt import fmt

    assert fmt(np.array([0.3, 1.1102230246251565e-16])) == "[0.3, 0]"
    assert fmt(np.array([1e-16, 2e-16])) == "[1e-16, 2e-16]"  # no larger neighbour: kept
    assert fmt(np.array([1e-9, 1.0])) == "[1e-09, 1]"  # 9 orders apart: not noise at 6 digits
    assert fmt(1e-16) == "1e-16"
