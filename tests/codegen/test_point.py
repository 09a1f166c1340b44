"""The point function: the plan's steps as generated Python on floats, the plan's own numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autogradcli as ag
from autogradcli.engines.plan import Plan
from autogradcli.engines.point import point_function
from autogradcli.engines.tracer import NotTraceable
from autogradcli.language.parser import parse


def test_the_seed_value_and_gradient_in_input_order():
    plan = Plan.of(parse("u = (a + b) * b^2\nv = (c - d) * d^2\nf = u + v\n", "s.txt"))
    f = ag.point_function(plan)
    assert plan.inputs == ["a", "b", "c", "d"]
    assert f(1.0, 2.0, 3.0, 4.0) == (-4.0, 4.0, 16.0, 16.0, -24.0)


def test_python_raises_where_numpy_would_give_nan_or_inf():
    f = point_function(Plan.of(parse("f = log(x) + 1 / y\n", "t.txt")))
    assert f(1.0, 2.0)[0] == 0.5
    with pytest.raises((ArithmeticError, ValueError)):
        f(0.0, 2.0)
    with pytest.raises(ZeroDivisionError):
        f(1.0, 0.0)


TEXTS = st.sampled_from([
    "sin(x) * y + exp(x - y)", "tanh(x * y) / (1 + y^2)", "atan2(y, x) + hypot(x, y)",
    "where(x > y, x^3, -y)", "max(x, y) * min(x, 2) + abs(x - y)", "sqrt(x^2 + y^2) * cos(y)",
    "log1p(x^2) - expm1(-y^2) + sigmoid(x) * softplus(y)", "x^y + cbrt(x) - 2^x",
])  # fmt: skip


def traced(text: str) -> Plan | None:
    """The plan of `f = text`, or None where the tracer declines."""
    try:
        return Plan.of(parse(f"f = {text}\n", "t.txt"))
    except NotTraceable:
        return None


@settings(max_examples=150, deadline=None)
@given(TEXTS, st.floats(-3, 3), st.floats(-3, 3))
def test_the_point_function_gives_the_plans_bits(text, x, y):
    plan = traced(text)
    if plan is None:
        return
    try:
        got = point_function(plan)(*[{"x": x, "y": y}[n] for n in plan.inputs])
    except (ArithmeticError, ValueError):
        return  # the plan's one-point path falls back to NumPy there too
    assume(all(math.isfinite(v) for v in got))
    with np.errstate(all="ignore"):
        want = plan.run([np.array({"x": x, "y": y}[n]) for n in plan.inputs])
    assert tuple(float(v) for v in want) == got


def test_no_text_from_the_formula_reaches_the_generated_function():
    from autogradcli.engines.point import point_source as _point_source

    hostile = "os_system_rm = 2\nf = os_system_rm * __import__ + exec_x\n"
    plan = Plan.of(parse(hostile, 'x"""; import os; os.system("touch PWNED").txt'))
    text = "\n".join(_point_source(plan, {}))
    for word in ("os_system_rm", "__import__", "exec_x", "PWNED", "import os"):
        assert word not in text
    assert point_function(plan)(1.0, 2.0) == (4.0, 2.0, 1.0)  # f = 2 * a + b: value, grads


def test_plan_function_is_value_and_grad_as_a_flat_tuple_with_numpy_where_python_raises():
    plan = ag.Plan.of(ag.parse_file("samples/seed.txt"))
    f = plan.function()
    assert f is plan.function()  # made once per plan
    assert f(1.0, 2.0, 3.0, 4.0) == (-4.0, 4.0, 16.0, 16.0, -24.0)
    g = Plan.of(parse("f = log(x) + 1 / y\n", "t.txt")).function()
    with np.errstate(all="ignore"):
        assert g(0.0, 2.0)[:2] == (-math.inf, math.inf)  # f, then df/dx = 1/x
        value, dx, dy = g(1.0, 0.0)
    assert (value, dx, dy) == (math.inf, 1.0, -math.inf)


@settings(max_examples=100, deadline=None)
@given(TEXTS, st.floats(-3, 3), st.floats(-3, 3))
def test_plan_function_gives_the_plans_bits_everywhere(text, x, y):
    plan = traced(text)
    if plan is None:
        return
    values = [{"x": x, "y": y}[n] for n in plan.inputs]
    with np.errstate(all="ignore"):
        got = plan.function()(*values)
        want = plan.run([np.array(v) for v in values])
    assert np.array_equal(np.array(got), np.array([float(v) for v in want]), equal_nan=True)


def test_compiled_modules_expose_the_same_function(tmp_path):
    import importlib.util

    from autogradcli.codegen.compile import compile_graph

    for text in ("f = log(x) + 1 / y\n", "f = sum(x * y)\n"):
        graph = parse(text, "t.txt")
        path = tmp_path / f"m{len(text)}.py"
        path.write_text(compile_graph(graph, "t.txt"), encoding="utf-8")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with np.errstate(all="ignore"):
            for point in ((1.0, 2.0), (0.0, 0.0), (-1.0, 3.0)):
                got = module.function(*point)
                try:
                    want = Plan.of(graph).function()(*point)
                except NotTraceable:  # a module of one line per node: its own value_and_grad
                    values, grads = module.value_and_grad(x=point[0], y=point[1])
                    want = (values["f"], grads["f"]["x"], grads["f"]["y"])
                assert np.array_equal(got, want, equal_nan=True)
