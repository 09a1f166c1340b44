"""Many points at once (--at-file) and the compiled module (agrad compile)."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import EXPRESSIONS

from autogradcli.codegen.compile import compile_graph
from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse, parse_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.txt"))


def load(source: str, tmp_path: Path, name: str = "compiled"):
    """Import a generated module from a file."""
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_values(graph, rng):
    shapes = {"w": (2,), "x": (2,), "W1": (3, 2), "b1": (3,), "W2": (3,)}
    mlp = "W1" in graph.input_ids
    return {
        n: rng.uniform(
            -2, 2, size=graph.shapes.get(n, shapes.get(n, ()) if (mlp or n == "w") else ())
        )
        for n in graph.input_ids
    }


def agree(graph, module, values):
    ev = evaluate(graph, values)
    got_values, got_grads = module.value_and_grad(**values)
    for r in ev.outputs:
        # One point runs on Python floats: math and NumPy may differ in the last bit.
        np.testing.assert_allclose(got_values[r.name], r.value, rtol=1e-13, atol=1e-300)
        for w, g in r.gradient.items():
            np.testing.assert_allclose(got_grads[r.name][w], g, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_compiled_matches_interpreted_for_every_sample(sample, tmp_path):
    graph = parse_file(str(sample))
    module = load(compile_graph(graph, str(sample)), tmp_path)
    rng = np.random.default_rng(0)
    for _ in range(5):
        agree(graph, module, sample_values(graph, rng))


@settings(max_examples=60, deadline=None)
@given(EXPRESSIONS, st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_compiled_matches_interpreted_for_random_expressions(tmp_path_factory, text, x, y, z):
    graph = parse(f"f = {text}\n", "t.txt")
    module = load(compile_graph(graph), tmp_path_factory.mktemp("c"))
    values = {n: np.array(v) for n, v in (("x", x), ("y", y), ("z", z)) if n in graph.input_ids}
    agree(graph, module, values)


def test_compile_command_writes_a_module_needing_only_numpy(tmp_path):
    out = tmp_path / "seed_grad.py"
    result = agrad("compile", str(ROOT / "samples/seed.txt"), "-o", str(out))
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "autogradcli" not in text.replace("agrad from", "")
    module = load(text, tmp_path, "seed_grad")
    values, grads = module.value_and_grad(a=1, b=2, c=3, d=4)
    assert float(values["f"]) == -4.0
    assert {k: float(v) for k, v in grads["f"].items()} == {
        "a": 4.0,
        "b": 16.0,
        "c": 16.0,
        "d": -24.0,
    }
    batch = module.value_and_grad(a=np.array([1.0, 0.5]), b=2.0, c=3.0, d=4.0)
    np.testing.assert_array_equal(batch[1]["f"]["a"], [4.0, 4.0])


def points_csv(tmp_path, rows, names="a,b,c,d"):
    text = names + "\n" + "\n".join(",".join(map(repr, r)) for r in rows) + "\n"
    return write(tmp_path, text, "points.csv")


def test_batch_csv_rows_are_each_points_gradient(tmp_path):
    rng = np.random.default_rng(1)
    rows = rng.uniform(-2, 2, size=(7, 4)).tolist()
    seed = str(ROOT / "samples/seed.txt")
    result = agrad("eval", seed, "--at-file", points_csv(tmp_path, rows), "--chunk", "3")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(result.stdout.splitlines()))
    assert list(table[0]) == ["a", "b", "c", "d", "f", "df/da", "df/db", "df/dc", "df/dd"]
    assert len(table) == 7
    graph = parse_file(seed)
    for row, point in zip(table, rows, strict=True):
        ev = evaluate(graph, dict(zip("abcd", map(np.array, point), strict=True)))
        assert float(row["f"]) == float(ev.outputs[0].value)
        for w in "abcd":
            assert float(row[f"df/d{w}"]) == float(ev.outputs[0].gradient[w])


@pytest.mark.parametrize("kind", ["npy", "npz", "json-columns", "json-rows", "npy-structured"])
def test_other_points_formats(tmp_path, kind):
    rows = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 1.0, 2.0, 3.0]])
    if kind == "npy":
        path = tmp_path / "p.npy"
        np.save(path, rows)
    elif kind == "npy-structured":
        path = tmp_path / "p.npy"
        data = np.zeros(2, dtype=[(n, float) for n in "dcba"])
        for k, n in enumerate("abcd"):
            data[n] = rows[:, k]
        np.save(path, data)
    elif kind == "npz":
        path = tmp_path / "p.npz"
        np.savez(path, **{n: rows[:, k] for k, n in enumerate("abcd")})
    elif kind == "json-columns":
        path = Path(
            write(
                tmp_path,
                json.dumps({n: rows[:, k].tolist() for k, n in enumerate("abcd")}),
                "p.json",
            )
        )
    else:
        path = Path(
            write(
                tmp_path,
                json.dumps([dict(zip("abcd", r, strict=True)) for r in rows.tolist()]),
                "p.json",
            )
        )
    result = agrad("eval", str(ROOT / "samples/seed.txt"), "--at-file", str(path), "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["rows"] == 2
    assert doc["outputs"]["f"]["value"] == [-4.0, -7.5]
    assert doc["outputs"]["f"]["gradient"]["d"] == [-24.0, -15.0]


def test_batch_output_file_fixed_values_and_nonfinite_rows(tmp_path):
    path = write(tmp_path, "f = log(x) * y\n", "f.txt")
    pts = points_csv(tmp_path, [[1.0], [0.0], [2.0]], names="x")
    out = tmp_path / "out.csv"
    result = agrad("eval", path, "--at-file", pts, "--at", "y=3", "-o", str(out))
    assert result.exit_code == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["f"] for r in rows] == ["0", "-inf", "2.0794415416798357"]
    assert "1 of 3 rows have nan or inf; row 2" in result.stderr
    assert f"(log) at {path}:1:5" in result.stderr
    strict = agrad("eval", path, "--at-file", pts, "--at", "y=3", "--strict", "-o", str(out))
    assert strict.exit_code == 1


def test_batch_refuses_reductions_that_mix_rows(tmp_path):
    path = write(tmp_path, "u = x * 2\nf = sum(u) + x\n", "f.txt")
    result = agrad("eval", path, "--at-file", points_csv(tmp_path, [[1.0], [2.0]], names="x"))
    assert result.exit_code == 2
    assert f"{path}:2:5: error: sum would combine values from different points" in result.stderr


def test_batch_input_errors(tmp_path):
    seed = str(ROOT / "samples/seed.txt")
    bad_col = agrad("eval", seed, "--at-file", points_csv(tmp_path, [[1.0]], names="zz"))
    assert bad_col.exit_code == 2 and "'zz' is not an input" in bad_col.stderr
    missing = agrad("eval", seed, "--at-file", points_csv(tmp_path, [[1.0]], names="a"))
    assert missing.exit_code == 2 and "no values for b, c, d" in missing.stderr
    bad_num = write(tmp_path, "a,b,c,d\n1,2,x,4\n", "bad.csv")
    result = agrad("eval", seed, "--at-file", bad_num)
    assert result.exit_code == 2 and "bad.csv:2: column 3 is not a number: 'x'" in result.stderr
    assert agrad("eval", seed, "--at", "a=1", "-f", "csv").exit_code == 2
