"""The compiled plan (trace + plan) against the interpreter, op by op and on random graphs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write
from hypothesis import given, settings
from hypothesis import strategies as st
from test_batch import load

from autogradcli.codegen.compile import compile_graph
from autogradcli.engines import plan as plan_mod
from autogradcli.engines.batch import PLAN_ROWS
from autogradcli.engines.evaluate import evaluate
from autogradcli.engines.plan import Plan
from autogradcli.engines.pyfloat import SCALAR
from autogradcli.engines.tracer import NotTraceable, trace
from autogradcli.graph import Graph
from autogradcli.language.parser import parse, parse_file
from autogradcli.ops import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.txt"))
ELEMENTWISE = sorted(
    n
    for n, op in REGISTRY.items()
    if op.kind == "elementwise" and op.traceable and op.symbol is None
)
UNTRACEABLE = sorted(
    n for n, op in REGISTRY.items() if op.kind == "elementwise" and not op.traceable
)


def interpreted(graph: Graph, values: dict) -> list[np.ndarray]:
    """The engine's answers in the plan's order: per output, value then each gradient."""
    ev = evaluate(graph, {n: np.asarray(v, dtype=float) for n, v in values.items()})
    flat = []
    for r in ev.outputs:
        flat.append(r.value)
        flat.extend(r.gradient[w] for w in graph.input_ids)
    return flat


def assert_same(got, want, rtol=1e-12, atol=1e-300):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g, dtype=float), np.broadcast_to(np.asarray(w, dtype=float), np.shape(g))
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(np.signbit(g) & (g == 0), np.signbit(w) & (w == 0))
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def test_seed_program_is_the_chain_rule_and_nothing_more():
    graph = parse_file(str(ROOT / "samples/seed.txt"))
    program = trace(graph)
    # 7 forward steps; the backward pass seeded with 1 needs 6 more: 2*b, (a+b)*2b, + b^2 and
    # 2*d, (c-d)*2d, - d^2 (the VJP's negation folded into a subtraction; multiplications by
    # the seed 1 are dropped).
    assert len(program.code) == 13
    assert [name for name, _, _ in program.code] == [
        "add", "square", "multiply", "subtract", "square", "multiply", "add",
        "multiply", "multiply", "subtract", "multiply", "multiply", "add",
    ]  # fmt: skip
    plan = Plan(program)
    values, grads = plan.value_and_grad(a=1.0, b=2.0, c=3.0, d=4.0)
    assert values == {"f": -4.0}
    assert grads == {"f": {"a": 4.0, "b": 16.0, "c": 16.0, "d": -24.0}}
    values_only = Plan.of(graph, grad=False)
    assert len(values_only.program.code) == 7
    assert values_only.value(a=1.0, b=2.0, c=3.0, d=4.0) == {"f": -4.0}
    assert plan.value(a=1.0, b=2.0, c=3.0, d=4.0) == {"f": -4.0}
    # Liveness: 13 temporaries fit in 6 buffers.
    assert len(plan.buffers) == 6


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_traces_or_says_why(sample):
    graph = parse_file(str(sample))
    arrays = any(np.ndim(v) for v in graph.consts.values())
    elementwise = all(REGISTRY[op].kind == "elementwise" for op in graph.ops if op in REGISTRY)
    if elementwise and not arrays:
        rng = np.random.default_rng(0)
        plan = Plan.of(graph)
        for _ in range(5):
            point = {n: float(rng.uniform(0.2, 2)) for n in graph.input_ids}
            assert_same(plan.run(list(point.values())), interpreted(graph, point))
        column = {n: rng.uniform(0.2, 2, size=33) for n in graph.input_ids}
        assert_same(plan.run(list(column.values())), interpreted(graph, column))
    else:
        with pytest.raises(NotTraceable, match=r"not elementwise|array constant"):
            trace(graph)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_elementwise_op_matches_the_engine(name):
    op = REGISTRY[name]
    args = ", ".join("xyz"[: op.arity])
    graph = parse(f"f = {name}({args})\n", "t.txt")
    plan = Plan.of(graph)
    rng = np.random.default_rng(1)
    columns = [rng.uniform(lo, hi, size=200) for lo, hi in op.domain]
    # Points the docs make promises about: kinks, ties, zeros.
    for inputs, _, _ in op.conventions:
        for k, v in enumerate(inputs):
            columns[k] = np.append(columns[k], v)
    for k in range(op.arity):
        columns[k] = np.append(columns[k], [0.0, -0.0, 1.0, -1.0, np.inf, np.nan])
    n = max(len(c) for c in columns)
    columns = [np.resize(c, n) for c in columns]
    values = dict(zip("xyz", columns, strict=False))
    with np.errstate(all="ignore"):
        want = interpreted(graph, values)
    assert_same(plan.run(columns), want)
    missing = {step for step, _, _ in plan.program.code} - set(SCALAR)
    assert not missing, f"pyfloat.SCALAR needs a Python-float counterpart of {missing}"
    for row in range(0, n, 7):  # one point at a time: Python floats, or NumPy on an error
        point = [float(c[row]) for c in columns]
        # math and NumPy may differ in the last bit of sin, tanh, ...; 1 - tanh^2 amplifies it
        assert_same(plan.run(point), [w[row] for w in want], rtol=1e-12, atol=1e-14)


def test_scalar_path_falls_back_to_numpy_semantics():
    plan = Plan.of(parse("f = log(x) + 1/y + sqrt(z)\n", "t.txt"))
    assert plan.run_scalar([0.0, 1.0, 1.0]) is None  # math.log(0) raises; NumPy says -inf
    out = plan.run([0.0, 0.0, -1.0])
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == -np.inf and np.isnan(out[3])


def test_chunks_and_threads_cover_every_row():
    graph = parse("u = x * y\nf = sin(u) + u^2 - max(x, y)\n", "t.txt")
    plan = Plan.of(graph)
    plan.chunk = 7
    rng = np.random.default_rng(2)
    for n in (0, 1, 6, 7, 8, 15, 100):
        cols = [rng.uniform(-2, 2, size=n), rng.uniform(-2, 2, size=n)]
        assert_same(plan.run(cols), interpreted(graph, dict(zip("xy", cols, strict=True))))


def test_constant_outputs_and_inputs_as_outputs():
    graph = parse("f = x\ng = 2 * 3\nh = x + y\n", "t.txt")
    plan = Plan.of(graph, [(n, graph.symbols[n]) for n in "fgh"])
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    got = plan.run([x, y])
    np.testing.assert_array_equal(got[0], x)  # f = x, df/dx = 1, df/dy = 0
    assert got[1].tolist() == [1.0, 1.0] and got[2].tolist() == [0.0, 0.0]
    assert got[3].tolist() == [6.0, 6.0] and got[4].tolist() == got[5].tolist() == [0.0, 0.0]
    assert got[6].tolist() == [4.0, 7.0] and got[7].tolist() == got[8].tolist() == [1.0, 1.0]


def test_the_tracer_module_does_not_shadow_the_package_trace_function():
    import autogradcli as ag

    Plan.of(parse("f = x\n", "t.txt"))
    assert ag.trace.__module__ == "autogradcli.tensors.autograd"


def test_reductions_and_array_constants_do_not_trace():
    with pytest.raises(NotTraceable, match=r"sum.*not elementwise"):
        trace(parse("f = sum(x)\n", "t.txt"))
    with pytest.raises(NotTraceable, match="array constant"):
        trace(parse("f = x * [1, 2]\n", "t.txt"))


TRACEABLE_UNARY = [n for n in ELEMENTWISE if REGISTRY[n].arity == 1]
TRACEABLE_BINARY = [n for n in ELEMENTWISE if REGISTRY[n].arity == 2]


def _expr(children):
    unary = st.tuples(st.sampled_from(TRACEABLE_UNARY), children).map(lambda t: f"{t[0]}({t[1]})")
    binary = st.tuples(st.sampled_from(TRACEABLE_BINARY), children, children).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})"
    )
    infix = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    return st.one_of(unary, binary, infix, children.map(lambda c: f"-{c}"))


ELEMENTWISE_EXPRESSIONS = st.recursive(
    st.sampled_from(["x", "y", "z", "2", "0.5", "3", "pi"]), _expr, max_leaves=12
)


@settings(max_examples=150, deadline=None)
@given(ELEMENTWISE_EXPRESSIONS, st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_plan_matches_interpreter_on_random_expressions(text, point):
    graph = parse(f"f = {text}\ng = f * x + y\n", "t.txt")
    outs = [("f", graph.symbols["f"]), ("g", graph.symbols["g"])]
    plan = Plan.of(graph, outs)
    names = list(graph.input_ids)
    values = dict(zip(["x", "y", "z"], point, strict=True))
    one = {n: values[n] for n in names}
    with np.errstate(all="ignore"):
        evaluation = evaluate(graph, {n: np.array(v) for n, v in one.items()}, ["f", "g"])
    want = []
    for r in evaluation.outputs:
        want += [r.value, *(r.gradient[w] for w in names)]
    assert_same(plan.run([one[n] for n in names]), want, rtol=1e-9)
    columns = [np.array([one[n], one[n] * 0.5, -one[n]]) for n in names]
    with np.errstate(all="ignore"):
        batch = evaluate(graph, dict(zip(names, columns, strict=True)), ["f", "g"])
    want = []
    for r in batch.outputs:
        want += [r.value, *(r.gradient[w] for w in names)]
    assert_same(plan.run(columns), want, rtol=1e-9)


def points(tmp_path, rows, names="a,b,c,d"):
    text = names + "\n" + "\n".join(",".join(map(repr, r)) for r in rows) + "\n"
    return write(tmp_path, text, "points.csv")


def test_eval_engines_agree_and_json_says_which_ran(tmp_path):
    rng = np.random.default_rng(3)
    path = points(tmp_path, rng.uniform(-2, 2, size=(PLAN_ROWS, 4)).tolist())
    seed = str(ROOT / "samples/seed.txt")
    tables = {}
    for engine in ("compiled", "interpreted"):
        result = agrad("eval", seed, "--at-file", path, "--engine", engine)
        assert result.exit_code == 0, result.output
        tables[engine] = list(csv.reader(result.stdout.splitlines()))
    assert len(tables["compiled"]) == PLAN_ROWS + 1
    assert tables["compiled"] == tables["interpreted"]  # the same ufuncs: equal to the bit

    def engine_used(expr: str, rows: str, *extra: str) -> str:
        result = agrad("eval", expr, "--at-file", rows, "--format", "json", *extra)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["engine"]

    assert engine_used(seed, path) == "compiled"  # enough rows for tracing to pay
    few = points(tmp_path, [[1.0, 2.0, 3.0, 4.0]] * (PLAN_ROWS - 1))
    assert engine_used(seed, few) == "interpreted"
    assert engine_used(seed, few, "--engine", "compiled") == "compiled"
    assert engine_used(seed, path, "--chunk", "10") == "interpreted"  # decided on one block
    weights = write(tmp_path, "f = a * sum([1, 2, 3]) + b * c * d\n", "w.txt")
    assert engine_used(weights, path) == "interpreted"
    result = agrad("eval", weights, "--at-file", path, "--engine", "compiled")
    assert result.exit_code == 2
    assert "--engine compiled" in result.stderr and "array constant" in result.stderr
    assert "w.txt:1:13: error" in result.stderr and "^^^" in result.stderr


def test_compiled_engine_names_the_node_behind_nonfinite_rows(tmp_path):
    expr = write(tmp_path, "u = a - b\nf = log(u) * c\n", "f.txt")
    path = points(tmp_path, [[2.0, 1.0, 1.0], [1.0, 3.0, 1.0], [1.0, 1.0, 2.0]], "a,b,c")
    result = agrad("eval", expr, "--at-file", path, "--engine", "compiled")
    assert result.exit_code == 0
    assert "2 of 3 rows have nan or inf" in result.stderr
    assert "row 2 (first non-finite: n3 (log) at " in result.stderr
    assert "f.txt:2:5" in result.stderr


def test_results_are_recycled_only_when_the_caller_dropped_them():
    plan = Plan.of(parse("f = x * y\n", "t.txt"))
    x, y = np.arange(5.0), np.full(5, 2.0)
    kept = plan.run_batch([x, y], 5)
    view = kept[0][1:3]
    before = [k.copy() for k in kept]
    again = plan.run_batch([x + 1, y], 5)
    assert not any(a is k for a in again for k in kept)  # the caller still holds every one
    for k, b in zip(kept, before, strict=True):
        np.testing.assert_array_equal(k, b)
    np.testing.assert_array_equal(view, [2.0, 4.0])
    ids = {id(a) for a in again}
    del again
    third = plan.run_batch([x, y], 5)
    assert {id(a) for a in third} == ids  # dropped: reused, and holding the right values
    np.testing.assert_array_equal(third[0], x * 2)


def test_compiled_module_is_the_plan_and_keeps_nonfinite_constants(tmp_path):
    graph = parse("f = x * log(0) + y / 0 + 0 * (x - x)\n", "t.txt")
    text = compile_graph(graph)
    assert "np.multiply(" in text and "float('-inf')" in text
    module = load(text, tmp_path)
    x, y = np.array([1.0, -2.0]), np.array([3.0, 0.0])
    values, grads = module.value_and_grad(x=x, y=y)
    with np.errstate(all="ignore"):
        want = interpreted(graph, {"x": x, "y": y})
    assert_same([values["f"], grads["f"]["x"], grads["f"]["y"]], want)
    empty, _ = module.value_and_grad(x=np.zeros(0), y=np.zeros(0))
    assert empty["f"].shape == (0,)


def test_large_programs_take_fewer_rows_per_step(monkeypatch):
    lines = [f"v{i} = sin(x) * {i + 1}" for i in range(40)]
    lines.append("f = " + " + ".join(f"v{i}" for i in range(40)))
    graph = parse("\n".join(lines) + "\n", "t.txt")  # forty values live at once
    assert Plan.of(graph).chunk == plan_mod.CHUNK
    monkeypatch.setattr(plan_mod, "SCRATCH", 8 * 1000 * 40)
    plan = Plan.of(graph)
    assert len(plan.buffers) == 40 and plan.chunk == 1000
    x = np.linspace(-1, 1, 5000)
    assert_same(plan.run([x]), interpreted(graph, {"x": x}))


def test_batched_eval_runs_the_plan_without_sympy(tmp_path):
    import subprocess
    import sys

    rows = np.random.default_rng(4).uniform(-2, 2, size=(PLAN_ROWS, 4)).tolist()
    path = points(tmp_path, rows)
    seed = str(ROOT / "samples/seed.txt")
    command = ["-X", "importtime", "-m", "autogradcli", "eval", seed, "--at-file", path]
    out = subprocess.run(
        [sys.executable, *command, "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0
    assert "autogradcli.engines.plan" in out.stderr and "sympy" not in out.stderr
    assert json.loads(out.stdout)["engine"] == "compiled"


def test_value_and_grad_names_missing_and_unknown_inputs():
    plan = Plan.of(parse("f = x * y\n", "t.txt"))
    with pytest.raises(TypeError, match="no value for y; the inputs are: x, y"):
        plan.value_and_grad(x=1.0)
    with pytest.raises(TypeError, match="no input 'z'"):
        plan.value_and_grad(x=1.0, y=2.0, z=3.0)
    assert plan.value_and_grad(y=2.0, x=3.0) == ({"f": 6.0}, {"f": {"x": 2.0, "y": 3.0}})
    values, grads = plan.value_and_grad(x=np.array([1.0, 2.0]), y=3.0)
    assert values["f"].tolist() == [3.0, 6.0] and grads["f"]["x"].tolist() == [3.0, 3.0]
    assert grads["f"]["y"].tolist() == 3.0  # y was broadcast over both points: summed


@pytest.mark.parametrize(
    ("forward", "message"),
    [
        (lambda x: x * x.shape[0], "needs a concrete array"),
        (lambda x: np.asarray(x) * 2, "converts a traced value to an array"),
    ],
)
def test_a_rule_that_needs_a_real_array_makes_the_graph_untraceable(forward, message):
    from autogradcli.ops import Op, register, unregister

    register(Op("twice", 1, forward, lambda g, out, x: (g,), lambda sp, x: x, "1", ((0, 1),), "t"))
    try:
        graph = Graph()
        x = graph.add_input("x")
        graph.add_output("f", graph.add_op("twice", (x,)))
        with pytest.raises(NotTraceable, match=message) as caught:
            trace(graph)
        assert caught.value.node == 1
    finally:
        unregister("twice")


@settings(max_examples=40, deadline=None)
@given(ELEMENTWISE_EXPRESSIONS, st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_compiled_module_one_point_matches_the_engine(tmp_path_factory, text, point):
    graph = parse(f"f = {text}\n", "t.txt")
    module = load(compile_graph(graph), tmp_path_factory.mktemp("m"))
    assert module.POINT  # every elementwise op has a Python-float step
    names = list(graph.input_ids)
    one = dict(zip(["x", "y", "z"], point, strict=True))
    values, grads = module.value_and_grad(**{n: one[n] for n in names})
    with np.errstate(all="ignore"):
        want = interpreted(graph, {n: one[n] for n in names})
    got = [values["f"], *(grads["f"][n] for n in names)]
    assert all(type(g) is float or np.ndim(g) == 0 for g in got)
    assert_same(got, want, rtol=1e-9, atol=1e-12)


def test_engine_without_at_file_is_a_usage_error():
    result = agrad("eval", str(ROOT / "samples/seed.txt"), "--at", "a=1", "b=2", "c=3", "d=4")
    assert result.exit_code == 0
    result = agrad(
        "eval", str(ROOT / "samples/seed.txt"), "--at", "a=1", "b=2", "c=3", "d=4", "--engine",
        "compiled",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--engine cannot be used here: one point (--at) runs the interpreter" in result.stderr
    assert "Traceback" not in result.stderr


def test_batched_memory_is_bounded_by_the_chunk_not_the_rows(tmp_path):
    import tracemalloc

    from autogradcli.engines.batch import run_batch

    graph = parse_file(str(ROOT / "samples/seed.txt"))
    rng = np.random.default_rng(5)
    peaks = {}
    for rows in (20_000, 80_000):
        path = tmp_path / f"p{rows}.csv"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("a,b,c,d\n")
            np.savetxt(fh, rng.uniform(-2, 2, size=(rows, 4)), delimiter=",", fmt="%.6f")
        seen: list[int] = []
        write = seen.append
        tracemalloc.start()
        result = run_batch(graph, str(path), {}, 5_000, lambda cols, t, w=write: w(len(t)))
        peaks[rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.rows == rows == sum(seen) and result.engine == "compiled"
    # Four times the rows, about the same peak: one chunk of 5,000 rows is in memory at a time.
    assert peaks[80_000] < 1.5 * peaks[20_000]


def test_broadcast_inputs_get_gradients_of_their_own_shape(tmp_path):
    graph = parse("f = x * y + sin(z) * y\n", "t.txt")
    values = {"x": np.array([1.0, 2.0, 3.0]), "y": np.array(2.0), "z": np.array([[0.5], [1.5]])}
    want = interpreted(graph, values)  # the engine: gradient of the sum, summed to each shape
    got = Plan.of(graph).run(list(values.values()))
    assert [np.shape(g) for g in got] == [(2, 3), (3,), (), (2, 1)]
    assert_same(got, want)
    module = load(compile_graph(graph), tmp_path)
    v, g = module.value_and_grad(**values)
    assert_same([v["f"], g["f"]["x"], g["f"]["y"], g["f"]["z"]], want)
    assert g["f"]["y"].shape == ()


@pytest.mark.parametrize("name", UNTRACEABLE)
def test_an_op_without_a_ufunc_program_is_run_by_the_interpreter_and_declined_by_the_plan(name):
    op = REGISTRY[name]
    graph = parse(f"f = {name}({', '.join('xyz'[: op.arity])})", "t.txt")
    with pytest.raises(NotTraceable, match="has no NumPy ufunc program"):
        Plan.of(graph)
    xs = {
        n: np.linspace(lo + 0.1, hi - 0.1, 5) for n, (lo, hi) in zip("xyz", op.domain, strict=False)
    }
    ev = evaluate(graph, xs)
    assert ev.finite and np.shape(ev.outputs[0].value) == (5,)
    space: dict = {}
    exec(compile(compile_graph(graph, "t.txt"), "generated.py", "exec"), space)  # our own code
    values, _ = space["value_and_grad"](**xs)
    np.testing.assert_allclose(values["f"], ev.outputs[0].value, rtol=1e-15)


def test_the_plan_traces_only_what_the_outputs_read():
    graph = parse("# output: f\nv = sum(x * [1, 2])\nw = max(v, x)\nf = x * x + 1\n", "t.txt")
    plan = Plan.of(graph)  # `v` and `w` are not elementwise, but nothing reads them
    assert plan.inputs == ["x"]
    values, grads = plan.value_and_grad(x=3.0)
    assert values["f"] == 10.0 and grads["f"]["x"] == 6.0
    assert len(plan.program.dtypes) < len(graph)
