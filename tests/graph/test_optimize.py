"""Optimization passes, proved by translation validation, and `agrad optimize` / `agrad stats`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import EXPRESSIONS
from typer.testing import CliRunner

from autogradcli.cli import app
from autogradcli.engines.evaluate import evaluate
from autogradcli.graph.passes import (
    PASSES,
    eliminate_common,
    eliminate_dead,
    fold_constants,
    identities,
    optimize,
)
from autogradcli.graph.stats import stats
from autogradcli.language.parser import parse, parse_file
from autogradcli.language.printer import graph_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.txt"))
runner = CliRunner()


def random_inputs(graph, rng):
    """Values for a sample's inputs: scalars, or the shapes the sample's comment uses."""
    shapes = {"w": (2,), "x": (2,), "W1": (3, 2), "b1": (3,), "W2": (3,)}
    mlp = "W1" in graph.input_ids
    values = {}
    for name in graph.input_ids:
        shape = shapes.get(name, ()) if (mlp or name == "w") else ()
        shape = graph.shapes.get(name, shape)  # a `# shape:` directive decides
        values[name] = rng.uniform(-2, 2, size=shape)
    return values


def same_results(before, after, values):
    """Values agree exactly; gradients up to rounding, since merging shared nodes changes the
    order in which contributions are summed (nan matches nan, -0.0 matches 0.0)."""
    a, b = evaluate(before, values, edges=True), evaluate(after, values)
    assert [r.name for r in a.outputs] == [r.name for r in b.outputs]
    for ra, rb in zip(a.outputs, b.outputs, strict=True):
        np.testing.assert_array_equal(ra.value, rb.value)
        # Rounding of a sum is relative to its terms: when contributions cancel (x*z - x*z),
        # the result's own size says nothing, so the tolerance scales with the largest term.
        terms = [np.abs(c).max() for c in ra.contributions.values() if np.size(c)]
        scale = max([t for t in terms if np.isfinite(t)], default=0.0)
        for w in ra.gradient:
            np.testing.assert_allclose(
                ra.gradient[w], rb.gradient[w], rtol=1e-12, atol=max(1e-300, 1e-14 * scale)
            )


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "name_and_pass", [*PASSES, ("all", lambda g: optimize(g)[0])], ids=lambda p: p[0]
)
def test_every_pass_preserves_every_sample(sample, name_and_pass):
    graph = parse_file(str(sample))
    after = name_and_pass[1](graph)
    rng = np.random.default_rng(0)
    for _ in range(5):
        same_results(graph, after, random_inputs(graph, rng))


@settings(max_examples=150, deadline=None)
@given(EXPRESSIONS, st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_passes_preserve_random_expressions(text, x, y, z):
    graph = parse(f"u = {text}\nv = u * 1 + 0 + ({text})\nf = -(-v) ^ 1 + u\n", "t.txt")
    values = {n: np.array(v) for n, v in (("x", x), ("y", y), ("z", z)) if n in graph.input_ids}
    optimized, _ = optimize(graph)
    same_results(graph, optimized, values)
    written = parse(graph_text(optimized), "w.txt")
    same_results(graph, written, values)


def test_identities_that_are_safe_and_the_one_that_is_not():
    text = "f = x*1 + 1*y + z/1 + w^1 + (v - 0) + (0 + u) + --s + t*0"
    g = eliminate_dead(identities(parse(text, "t.txt")))
    assert sorted(op for op in g.ops if op not in ("input", "const")) == ["add"] * 7 + ["mul"]
    inf = evaluate(g, {n: np.array(np.inf if n == "t" else 1.0) for n in g.input_ids})
    assert np.isnan(inf.outputs[0].value)  # inf * 0 stays nan


def test_identities_keep_shapes():
    g = identities(parse("f = sum(x * [1, 1])", "t.txt"))
    assert "mul" in g.ops  # a non-scalar 1 broadcasts, so it is kept


def test_constant_folding_and_cse_and_dead_nodes():
    g = fold_constants(parse("f = x * (2 * 3) + log(0)", "t.txt"))
    assert 6.0 in [float(c) for c in g.consts.values()]
    assert "log" in g.ops  # a non-finite result is not folded, so its warning still points here
    g = eliminate_common(parse("f = (a + b) * (b + a) + sin(a) / sin(a)", "t.txt"))
    assert g.ops.count("add") == 2 and g.ops.count("sin") == 1
    g = eliminate_dead(parse("unused = exp(x)\nf = x + y", "t.txt"))
    assert "exp" not in g.ops and set(g.input_ids) == {"x", "y"}


def test_optimize_command_reports_and_writes(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text(
        "u = x*1 + (2*3)*y\nw = u + 0\ndead = sin(x)\nf = (u + w) * (w + u)\n", encoding="utf-8"
    )
    out = tmp_path / "out.txt"
    result = runner.invoke(app, ["optimize", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "→" in line]
    assert [r.split("│")[1].strip() for r in rows] == [
        "constant folding",
        "algebraic identities",
        "common subexpressions",
        "dead nodes",
    ]
    before, after = parse_file(str(src)), parse_file(str(out))
    assert len(after) < len(before)
    same_results(before, after, {"x": np.array(0.7), "y": np.array(-1.3)})


def test_graph_optimize_draws_fewer_nodes(tmp_path):
    src = tmp_path / "r.txt"
    src.write_text("u = sin(x) * 1\nf = u + sin(x) + 2*3\n", encoding="utf-8")
    plain = json.loads(runner.invoke(app, ["graph", str(src), "-f", "json"]).stdout)
    small = json.loads(runner.invoke(app, ["graph", str(src), "--optimize", "-f", "json"]).stdout)
    assert [n["op"] for n in plain["nodes"]].count("sin") == 2
    assert [n["op"] for n in small["nodes"]].count("sin") == 1
    assert len(small["nodes"]) < len(plain["nodes"])


def test_stats_of_the_seed():
    s = stats(parse_file(str(ROOT / "samples/seed.txt")))
    assert (s.nodes, s.edges, s.inputs, s.constants, s.operations, s.outputs) == (
        12,
        14,
        4,
        1,
        7,
        1,
    )
    assert s.depth == 3 and s.levels == [4, 2, 1]
    assert s.ops == {"pow": 2, "mul": 2, "add": 2, "sub": 1}
    assert (s.reused, s.duplicates) == (3, 0)  # b, d and the constant 2 are each used twice


def test_stats_counts_sharing_and_duplicates():
    s = stats(parse("u = sin(x)\nf = u * u + sin(x) + sin(x)", "t.txt"))
    assert s.reused == 2 and s.duplicates == 2  # x feeds three sin nodes; u is used twice
    result = runner.invoke(app, ["stats", str(ROOT / "samples/seed.txt"), "-f", "json"])
    doc = json.loads(result.stdout)
    assert doc["levels"] == [4, 2, 1] and doc["depth"] == 3
    table = runner.invoke(app, ["stats", str(ROOT / "samples/seed.txt")]).stdout
    assert "parallel levels" in table and "duplicate subexpressions" in table
