"""`agrad graph`: golden DOT, Mermaid and JSON, real Graphviz, and the big-graph options."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autogradcli.cli import app
from autogradcli.render.mermaid import escape

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SAMPLES = sorted(p.name for p in (ROOT / "samples").glob("*.txt"))
SEED_AT = ["--at", "a=1", "b=2", "c=3", "d=4"]
AT = {
    "seed.txt": SEED_AT,
    "logistic.txt": ["--at", "w=[0.5,-0.25]", "b=0.1"],
    "rosenbrock.txt": ["--at", "x=-1.2", "y=1"],
    "mlp.txt": [
        "--at",
        "x=[0.5,-1]",
        "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]",
        "b1=[0,0.1,-0.1]",
        "W2=[0.7,-0.8,0.9]",
        "b2=0.05",
        "t=1",
    ],
    "polar.txt": ["--at", "x=1", "y=1"],
    "mlp_batch.txt": [
        "--at",
        "W1=[[0.5,-0.4,0.3],[0.2,0.6,-0.5]]",
        "b1=[0.1,0,-0.1]",
        "W2=[[0.7,-0.3,0.2],[-0.5,0.4,0.6],[0.3,0.8,-0.7]]",
        "b2=[0,0.1,-0.1]",
    ],
}
runner = CliRunner()
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def agrad(*args: str):
    return runner.invoke(app, list(args))


def run_dot(text: str) -> str:
    done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("fmt", "golden"), [("dot", "seed.dot"), ("mermaid", "seed.mmd"), ("json", "seed.json")]
)
def test_golden_seed(fmt, golden):
    result = agrad("graph", "samples/seed.txt", *SEED_AT, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / golden).read_text(encoding="utf-8")


def test_seed_json_numbers_are_the_hand_computed_ones():
    doc = json.loads((GOLDEN / "seed.json").read_text(encoding="utf-8"))
    grads = {n["name"]: n["gradient"] for n in doc["nodes"] if n["kind"] == "input"}
    assert grads == {"a": 4.0, "b": 16.0, "c": 16.0, "d": -24.0}
    u = next(n for n in doc["nodes"] if n["name"] == "u")
    assert (u["value"], u["gradient"], u["source"]) == (12.0, 1.0, "(a + b) * b^2")
    into_u = [e for e in doc["edges"] if e["to"] == u["id"]]
    assert [(e["arg"], e["partial"], e["contribution"]) for e in into_u] == [
        (0, 4.0, 4.0),
        (1, 3.0, 3.0),
    ]
    assert doc["outputs"] == {"f": "n11"}
    assert {n["kind"] for n in doc["nodes"]} == {"input", "const", "op", "output"}


def test_dot_is_deterministic_and_shapes_differ_by_kind():
    first = agrad("graph", "samples/seed.txt").stdout
    assert first == agrad("graph", "samples/seed.txt").stdout
    assert 'n0 [label="a", tooltip="a (samples/seed.txt:3:6)", shape=ellipse' in first
    assert 'n11 [label="f = +"' in first and "penwidth=2" in first
    assert 'n4 [label="^2"' in first and 'n3 [label="2"' not in first  # folded in
    boxes = agrad("graph", "samples/seed.txt", "--constants").stdout
    assert 'n3 [label="2"' in boxes and "#f3f4f6" in boxes and "n3 -> n4" in boxes
    assert "{rank=same; n0 -> n1 -> n6 -> n7 [style=invis]}" in first  # a, b, c, d in order


@needs_dot
@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize(
    "options",
    [
        [],
        ["values"],
        ["values", "--adjoints"],
        ["values", "--backward"],
        ["--collapse"],
        ["--optimize"],
    ],
)
def test_every_sample_is_accepted_by_graphviz(sample, options):
    args = ["graph", f"samples/{sample}"]
    for opt in options:
        args += AT[sample] if opt == "values" else [opt]
    result = agrad(*args)
    assert result.exit_code == 0, result.output
    assert "<svg" in run_dot(result.stdout)


@needs_dot
def test_render_svg_and_png(tmp_path):
    svg = tmp_path / "seed.svg"
    result = agrad("graph", "samples/seed.txt", *SEED_AT, "--render", "svg", "-o", str(svg))
    assert result.exit_code == 0, result.output
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "value 12" in text
    png = tmp_path / "seed.png"
    assert agrad("graph", "samples/seed.txt", "--render", "png", "-o", str(png)).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = agrad("graph", "samples/seed.txt", "--render", "svg", "-o", str(tmp_path / "g.svg"))
    assert result.exit_code == 2
    assert "Graphviz's 'dot' program is not installed" in result.stderr
    assert "apt-get install graphviz" in result.stderr


@needs_dot
def test_labels_and_tooltips_are_escaped(tmp_path):
    path = tmp_path / 'we"ird\\name.txt'
    path.write_text("f = sum([1, 2] * x) + θ\n", encoding="utf-8")
    result = agrad("graph", str(path), "--at", "x=[3,4]", "θ=1")
    assert result.exit_code == 0
    assert 'we\\"ird\\\\name.txt' in result.stdout
    run_dot(result.stdout)
    mermaid = agrad("graph", str(path), "--format", "mermaid").stdout
    assert 'n0["[1, 2]"]:::const' in mermaid
    assert escape('say "hi" <b> & more') == "say #quot;hi#quot; &lt;b&gt; &amp; more"


def test_the_backward_pass_drawn_as_its_own_graph():
    assert agrad("graph", "samples/seed.txt", "--backward").exit_code == 2
    args = ["graph", "samples/seed.txt", *SEED_AT, "--backward", "-f", "json"]
    doc = json.loads(agrad(*args).stdout)
    kinds = {n["id"]: n["kind"] for n in doc["nodes"]}
    grads = {n["name"]: n["value"] for n in doc["nodes"] if n["kind"] == "output"}
    assert grads == {"df/da": 4.0, "df/db": 16.0, "df/dc": 16.0, "df/dd": -24.0}
    assert sum(k == "adjoint" for k in kinds.values()) >= 6  # the chain rule's products
    assert all(int(i[1:]) >= 12 for i, k in kinds.items() if k == "adjoint")  # after forward
    second = json.loads(agrad(*args, "--order", "2").stdout)
    rows = {n["name"]: n["value"] for n in second["nodes"] if n["kind"] == "output"}
    assert rows == {"d∇f·1/da": 4.0, "d∇f·1/db": 18.0, "d∇f·1/dc": 8.0, "d∇f·1/dd": -10.0}
    assert agrad("graph", "samples/seed.txt", *SEED_AT, "--order", "2").exit_code == 2


def test_adjoints_need_values_and_reverse_edges():
    assert agrad("graph", "samples/seed.txt", "--adjoints").exit_code == 2
    out = agrad("graph", "samples/seed.txt", *SEED_AT, "--adjoints").stdout
    assert 'n5 -> n2 [label="+4"' in out and 'n8 -> n7 [label="+(-16)"' in out
    assert "n3 [" not in out  # no gradient flows into a constant


def test_collapse_focus_and_depth():
    collapsed = json.loads(agrad("graph", "samples/mlp.txt", "--collapse", "-f", "json").stdout)
    labels = [n["label"] for n in collapsed["nodes"]]
    assert labels == ["W1", "x", "b1", "h", "W2", "b2", "y", "t", "loss"]
    h = next(n for n in collapsed["nodes"] if n["label"] == "h")
    assert h["members"] == ["n2", "n4", "n5"]  # matmul, add and tanh, which is named h
    focus = json.loads(agrad("graph", "samples/seed.txt", "--focus", "u", "-f", "json").stdout)
    assert {n["label"] for n in focus["nodes"]} == {"a", "b", "+", "2", "^", "u = *"}
    shallow = agrad("graph", "samples/seed.txt", "--focus", "u", "--depth", "1").stdout
    assert "n0 " not in shallow and "peripheries=2" in shallow
    assert agrad("graph", "samples/seed.txt", "--focus", "uu").exit_code == 2


def test_big_graphs_get_a_suggestion(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text(
        "v0 = x\n" + "".join(f"v{i} = v{i - 1} * 1.5\n" for i in range(1, 600)), encoding="utf-8"
    )
    result = agrad("graph", str(path), "-o", str(tmp_path / "big.dot"))
    assert result.exit_code == 0
    assert "try --collapse, --focus NAME or --depth N" in result.stderr
    small = agrad("graph", str(path), "--depth", "3", "-o", str(tmp_path / "small.dot"))
    assert "try --collapse" not in small.stderr


def test_tree_and_table_formats():
    tree = agrad("graph", "samples/seed.txt", *SEED_AT, "--format", "tree").stdout
    assert "n11 f = +  value -4  grad 1" in tree
    assert "n5 u = *  value 12  grad 1   (a + b) * b^2" in tree
    table = agrad("graph", "samples/seed.txt", *SEED_AT, "--format", "table").stdout
    assert "Nodes" in table and "Edges" in table and "∂ 4" in table


def test_deep_graph_tree_does_not_recurse(tmp_path):
    path = tmp_path / "deep.txt"
    path.write_text("f = " + "sin(" * 1500 + "x" + ")" * 1500 + "\n", encoding="utf-8")
    result = agrad("graph", str(path), "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["nodes"]) == 1501


def test_columns_stand_for_input_tuples_until_read():
    import numpy as np

    from autogradcli.graph import Graph

    g = Graph()
    x, y = g.add_input("x"), g.add_input("y")
    g.add_op("mul", (x, y))
    g.add_op("sin", (2,))
    want = list(g.inputs)
    assert g.columns() == ([-1, -1, 0, 2], [-1, -1, 1, -1])
    assert g.edge_count() == 3
    g.set_columns(np.array([-1, -1, 0, 2]), np.array([-1, -1, 1, -1]))
    assert g._inputs == []  # nothing made yet
    assert g.edge_count() == 3
    assert g.columns() == ([-1, -1, 0, 2], [-1, -1, 1, -1])
    assert g.inputs == want
    g.add_op("add", (2, 3))  # growing the graph keeps every edge
    assert g.inputs == [*want, (2, 3)]
    assert g.columns() == ([-1, -1, 0, 2, 2], [-1, -1, 1, -1, 3])
