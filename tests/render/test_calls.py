"""Calls of user functions in drawings: clusters, collapsed boxes, JSON groups."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import agrad, write

from autogradcli.language.parser import parse
from autogradcli.render import calls
from autogradcli.render.dot import dot
from autogradcli.render.mermaid import mermaid
from autogradcli.render.view import build

TEXT = """\
softplus2(x) = log(1 + exp(x))
def sq(a):
    m = a * a
    return softplus2(m) + 1
y = softplus2(sq(x)) * b
"""


def test_dot_draws_each_call_as_a_nested_cluster():
    text = dot(build(parse(TEXT, "t.txt")))
    assert text.count("subgraph cluster_g") == 3
    assert 'subgraph cluster_g0 {\n    label="sq";' in text
    assert '    subgraph cluster_g1 {\n      label="softplus2";' in text
    inner = text.split("subgraph cluster_g1 {")[1].split("}")[0]
    assert [line.split()[0] for line in inner.splitlines()[2:] if line.strip()] == [
        "n2",
        "n3",
        "n4",
        "n5",
    ]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_graphviz_accepts_the_clusters():
    text = dot(build(parse(TEXT, "t.txt")))
    done = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert b"softplus2" in done.stdout


def test_collapse_calls_draws_one_box_per_outermost_call(tmp_path):
    path = write(tmp_path, TEXT)
    result = agrad("graph", path, "--collapse-calls", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    boxes = {n["id"]: (n["label"], n["members"]) for n in doc["nodes"]}
    assert boxes["n7"] == ("sq", ["n1", "n2", "n3", "n4", "n5", "n6", "n7"])
    assert boxes["n11"] == ("softplus2", ["n8", "n9", "n10", "n11"])
    edges = {(e["from"], e["to"]) for e in doc["edges"]}
    assert edges == {("n0", "n7"), ("n7", "n11"), ("n11", "n13"), ("n12", "n13")}
    assert doc["groups"][1] == {
        "name": "softplus2",
        "first": "n2",
        "last": "n5",
        "call": f"{path}:4:12",
        "parent": 0,
    }


def test_collapsed_dot_has_no_clusters_and_names_the_boxes(tmp_path):
    path = write(tmp_path, TEXT)
    result = agrad("graph", path, "--collapse-calls", "--at", "x=1", "b=2")
    assert result.exit_code == 0, result.output
    assert "subgraph" not in result.stdout
    assert 'n11 [label="softplus2\\nvalue 2.408' in result.stdout


def test_collapse_calls_refuses_the_backward_drawing(tmp_path):
    path = write(tmp_path, TEXT)
    result = agrad("graph", path, "--collapse-calls", "--backward", "--at", "x=1", "b=2")
    assert result.exit_code == 2
    assert "--collapse-calls" in result.stderr


def test_collapse_calls_and_collapse_are_two_groupings(tmp_path):
    result = agrad("graph", write(tmp_path, TEXT), "--collapse-calls", "--collapse")
    assert result.exit_code == 2
    assert "two groupings" in result.stderr


def test_the_tree_view_shows_collapsed_calls(tmp_path):
    result = agrad("graph", write(tmp_path, TEXT), "--collapse-calls", "--format", "tree")
    assert result.exit_code == 0, result.output
    assert "n11 softplus2   softplus2(sq(x))" in result.stdout
    assert "n7 sq   sq(x)" in result.stdout


def test_mermaid_draws_calls_as_subgraphs():
    text = mermaid(build(parse(TEXT, "t.txt")))
    assert '  subgraph g0["sq"]\n' in text
    assert '    subgraph g1["softplus2"]\n' in text
    assert text.count("end\n") == 3


def test_a_file_without_calls_draws_as_before():
    view = build(parse("y = exp(x) * 2", "t.txt"))
    assert "subgraph" not in dot(view)
    assert calls.collapse_calls(view) is view
    assert calls.clusters(view) == ({}, {})


def test_nested_walks_depth_first():
    order = list(calls.nested({None: [0, 2], 0: [1]}))
    assert order == [
        ("open", 0),
        ("open", 1),
        ("close", 1),
        ("close", 0),
        ("open", 2),
        ("close", 2),
    ]
