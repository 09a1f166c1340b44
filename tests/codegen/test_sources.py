"""Generated modules: assembled from real functions, safe docstrings, the plan written out."""

from __future__ import annotations

import numpy as np

from autogradcli.codegen.plan_source import plan_source
from autogradcli.codegen.source import docstring_name, reference
from autogradcli.engines.plan import Plan
from autogradcli.language.parser import parse
from autogradcli.ops.numeric import unbroadcast


def test_references_and_copies():
    sources: dict[str, str] = {}
    assert reference(np.sin, sources) == "np.sin" and sources == {}
    assert reference(unbroadcast, sources) == "unbroadcast"
    assert sources["unbroadcast"].startswith("def unbroadcast(")


def test_docstring_names_cannot_end_the_docstring():
    assert docstring_name('a"""\nb\\.txt') == "a????b?.txt"
    assert docstring_name("") == "a graph"


def test_plan_source_runs_standalone():
    text = plan_source(Plan.of(parse("f = x * y + sin(x)", "t.txt")), "t.txt")
    space: dict = {}
    exec(compile(text, "generated.py", "exec"), space)  # our own generated code
    values, grads = space["value_and_grad"](x=1.0, y=2.0)
    assert values["f"] == 2.0 + np.sin(1.0) and grads["f"]["y"] == 1.0


def test_plan_modules_carry_the_runtime_verbatim():
    import inspect

    from autogradcli.codegen import runtime

    text = plan_source(Plan.of(parse("f = x * y", "t.txt")), "t.txt")
    for fn in runtime.SHARED:
        assert inspect.getsource(fn) in text


def test_the_runtime_runs_as_ordinary_python(monkeypatch):
    from autogradcli.codegen import runtime

    def rows(x, t, r, lo, hi):  # f = x0 * 2, df/dx0 = 2
        np.multiply(x[0][lo:hi], 2.0, out=r[0][lo:hi])

    monkeypatch.setattr(runtime, "_rows", rows)
    monkeypatch.setattr(runtime, "INPUTS", ("x",))
    monkeypatch.setattr(runtime, "OUTPUTS", ("f",))
    monkeypatch.setattr(runtime, "RESULTS", 2)
    monkeypatch.setattr(runtime, "CONSTANT_RESULTS", {1: 2.0})
    monkeypatch.setattr(runtime, "CHUNK", 3)
    monkeypatch.setattr(runtime, "THREADS", 2)
    values, grads = runtime.value_and_grad(x=np.arange(7.0))
    assert values["f"].tolist() == [0, 2, 4, 6, 8, 10, 12]
    assert grads["f"]["x"].tolist() == [2.0] * 7
    values, grads = runtime.value_and_grad(x=np.float64(1.5))  # no float path: the arrays'
    assert values["f"] == 3.0 and grads["f"]["x"] == 2.0


def test_rule_modules_run_the_one_reverse_sweep():
    from autogradcli.codegen.compile import rule_source
    from autogradcli.engines.evaluate import evaluate

    graph = parse("x = [1, 2, 3]\ny = sum(x * x * w) + w * w + w", "t.txt")
    text = rule_source(graph, "t.txt")
    assert "for " not in text.split("def value_and_grad")[1]  # straight-line code
    space: dict = {}
    exec(compile(text, "generated.py", "exec"), space)  # our own generated code
    values, grads = space["value_and_grad"](w=2.0)
    ev = evaluate(graph, {"w": np.array(2.0)})
    assert values["y"] == ev.values[graph.outputs[0][1]] == 14 * 2 + 4 + 2
    assert grads["y"]["w"] == 14 + 2 * 2 + 1
