"""The functions users reach for on every engine: a compiled module of each kind, the Dask
partitions, the Hessian plan, and the interpreter, on the same rows."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import autogradcli as ag
from autogradcli.codegen.compile import compile_graph
from autogradcli.engines.evaluate import evaluate
from autogradcli.engines.higher import hessian_plan
from autogradcli.engines.tracer import NotTraceable
from autogradcli.language.parser import parse

TRACEABLE = (
    "f = exp2(x) * degrees(y) + radians(x) * floor(y) + ceil(x) * round(y) + sinc(x)\n"
    "g = logaddexp(x, y) * clip(x, -0.5, y) + x % y + mod(y, x) + log(y, 3)\n"
)
SPECIAL = "f = gamma(y) * lgamma(x) + digamma(y) * polygamma(x) + erfc(x * y)\n"
X = np.array([0.35, 1.7, 2.2, 0.8, 3.1])
Y = np.array([1.3, 0.45, 2.9, 1.1, 0.7])


def _interpreted(graph, x, y) -> dict:
    rows = []
    for a, b in zip(x, y, strict=True):
        ev = evaluate(graph, {"x": np.array(a), "y": np.array(b)})
        rows.append({o.name: (float(o.value), {k: float(v) for k, v in o.gradient.items()})
                     for o in ev.outputs})  # fmt: skip
    return {name: [r[name] for r in rows] for name in rows[0]}


def _module(tmp_path, graph, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(compile_graph(graph, "t.txt"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("text", "kind"), [(TRACEABLE, "plan"), (SPECIAL, "rules")])
def test_compiled_modules_give_the_interpreters_values_and_gradients(tmp_path, text, kind):
    graph = parse(text, "t.txt")
    source = compile_graph(graph, "t.txt")
    assert ("def call(" in source) == (kind == "rules")  # rules call registry ops by name
    module = _module(tmp_path, graph, f"m_{kind}")
    values, grads = module.value_and_grad(x=X, y=Y)
    want = _interpreted(graph, X, Y)
    for name, rows in want.items():
        np.testing.assert_allclose(values[name], [v for v, _ in rows], rtol=1e-13)
        for wrt in ("x", "y"):
            np.testing.assert_allclose(grads[name][wrt], [g[wrt] for _, g in rows], rtol=1e-12)


def test_the_dask_partitions_run_the_new_ops_row_by_row():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    plan = ag.Plan.of(parse(TRACEABLE, "t.txt"))
    frame = pd.DataFrame({"x": np.tile(X, 40), "y": np.tile(Y, 40)})
    got = plan.map_partitions(dd.from_pandas(frame, npartitions=3)).compute(scheduler="sync")
    values, grads = plan.value_and_grad(x=frame["x"].to_numpy(), y=frame["y"].to_numpy())
    np.testing.assert_array_equal(got["g"].to_numpy(), values["g"])
    np.testing.assert_array_equal(got["dg/dy"].to_numpy(), grads["g"]["y"])
    with pytest.raises(NotTraceable, match="has no NumPy ufunc program"):
        ag.Plan.of(parse(SPECIAL, "t.txt"))  # the Dask path needs a plan: declined, with why


def test_the_hessian_plan_runs_the_new_ops():
    graph = parse("f = sinc(x) * logaddexp(x, y) + x % y * exp2(y)\n", "t.txt")
    plan = hessian_plan(graph)
    values, rows = plan.value_and_grad(x=0.7, y=1.3)
    point = ag.tensor(0.7, requires_grad=True), ag.tensor(1.3, requires_grad=True)
    x, y = point
    f = x.sinc() * x.logaddexp(y) + x % y * y.exp2()
    gx, gy = ag.grad(f, point, create_graph=True)
    assert values["df/dx"] == pytest.approx(gx.item(), rel=1e-13)
    hxy = ag.grad(gx, point, retain_graph=True)
    assert rows["df/dx"]["x"] == pytest.approx(hxy[0].item(), rel=1e-12)
    assert rows["df/dx"]["y"] == pytest.approx(hxy[1].item(), rel=1e-12)
    assert rows["df/dy"]["y"] == pytest.approx(ag.grad(gy, point)[1].item(), rel=1e-12)


def test_the_python_float_engine_runs_a_large_graph_of_the_new_ops(monkeypatch):
    """(Three-input ops, clip and where, are left to NumPy: the float engine's columns hold two
    inputs per node.)"""
    from autogradcli.engines import choose, floats

    lines = ["a0 = x"] + [
        f"a{i} = sinc(a{i - 1}) + exp2(a{i - 1}) % 1.3 + logaddexp(a{i - 1}, y) * 0.01"
        f" + floor(y) + round(x) * degrees(radians(ceil(x)))"
        for i in range(1, 80)
    ]
    graph = parse("\n".join(lines) + "\n", "t.txt")
    assert len(graph) >= choose.FLOAT_NODES
    used = []
    forward = floats.forward
    monkeypatch.setattr(floats, "forward", lambda *a: used.append(1) or forward(*a))
    at = {"x": np.array(0.3), "y": np.array(1.7)}
    on_floats = evaluate(graph, at, floats=True).outputs[-1]
    assert used  # the float engine took it
    on_numpy = evaluate(graph, at).outputs[-1]
    assert float(on_floats.value) == pytest.approx(float(on_numpy.value), rel=1e-12)
    for name in ("x", "y"):
        assert float(on_floats.gradient[name]) == pytest.approx(
            float(on_numpy.gradient[name]), rel=1e-10
        )
