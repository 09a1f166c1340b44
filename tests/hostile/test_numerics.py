"""No silent wrong answer at the edges of floating point: scaled norms and spreads, Hessians
symmetric where defined, second derivatives of 0^y, minimizers past 1e154."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from conftest import agrad

import autogradcli as ag
from autogradcli.engines import higher
from autogradcli.language.parser import parse


def _hessian(text: str, **at) -> dict:
    g = parse(text, "t.txt")
    p = higher.at(g, {k: np.asarray(float(v)) for k, v in at.items()})
    return higher.hessian(p, g.outputs[0][1], list(at))


def test_mixed_second_derivative_of_a_power_is_symmetric_at_exponent_zero():
    X, Y = sp.symbols("x y")
    want = float(sp.diff(X**Y, X, Y).subs({X: 1.5, Y: 0}))  # 1/1.5
    h = _hessian("f = x^y\n", x=1.5, y=0.0)
    assert float(h["x"]["y"]) == pytest.approx(want, rel=1e-15)
    assert float(h["y"]["x"]) == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize(
    "text, x, y",
    [
        ("f = where(x > 0, x^y, 0)\n", 0.0, 2.0),
        ("f = where(x > 0, y^x, x*y)\n", 1.5, 0.0),
        ("f = where(y > 0, y^x, 0)\n", 2.0, 0.0),
        ("f = where(x < 0, x^y, x*y)\n", 0.0, 2.0),
    ],
)
def test_hessians_through_where_are_symmetric(text, x, y):
    h = _hessian(text, x=x, y=y)
    a, b = float(h["x"]["y"]), float(h["y"]["x"])
    assert a == b or (math.isnan(a) and math.isnan(b)), (a, b)


def test_second_derivative_of_zero_to_the_y_is_zero():
    result = agrad("eval", "-e", "pow(0.0, y)", "--at", "y=0.4556", "--hessian", "-f", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)["outputs"]["out"]
    assert out["hessian"] == {"y": {"y": 0.0}} and not json.loads(result.stdout)["warnings"]
    result = agrad("eval", "-e", "pow(0.0, y)", "--at", "y=0.4556", "--wrt", "y",
                   "--order", "3", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["out"]["derivatives"] == [0.0, 0.0, 0.0]
    y = ag.tensor(0.4556, requires_grad=True)
    (g,) = ag.grad(ag.tensor(0.0) ** y, y, create_graph=True)
    (h,) = ag.grad(g, y)
    assert g.item() == 0.0 and h.item() == 0.0


def _json(*args: str) -> dict:
    result = agrad(*args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no NumPy warning, no notice
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "w, want",
    [
        ([1e308], 1e308),
        ([1e308, 1e308], math.sqrt(2) * 1e308),
        ([-1.2e308, 0.5e308], math.hypot(1.2e308, 0.5e308)),
        ([1e-300, 1e-300], math.sqrt(2) * 1e-300),
        ([3e-310, 4e-310], 5e-310),
    ],
)
def test_norm_is_scaled_both_ways(w, want):
    doc = _json("eval", "-e", "f = norm(w)", "--at", f"w={json.dumps(w)}")
    f = doc["outputs"]["f"]
    assert f["value"] == pytest.approx(want, rel=1e-15)
    grad = np.array(f["gradient"]["w"])
    np.testing.assert_allclose(grad, np.array(w) / want, rtol=1e-3 if want < 1e-307 else 1e-15)


def test_sigma_is_scaled_before_squaring():
    doc = _json("eval", "samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4",
                "--sigma", "a=1e200")  # fmt: skip
    assert doc["outputs"]["f"]["sigma"] == pytest.approx(4e200, rel=1e-15)  # df/da = b^2 = 4
    doc = _json("eval", "-e", "f = x * 1e160", "--at", "x=1", "--sigma", "x=1")
    assert doc["outputs"]["f"]["sigma"] == pytest.approx(1e160, rel=1e-15)
    doc = _json("eval", "-e", "f = x*y", "--at", "x=1e200", "y=1e100", "--sigma", "x=1e150",
                "y=1e50", "--sigma-order", "2")  # fmt: skip
    assert doc["outputs"]["f"]["sigma"] == pytest.approx(math.sqrt(2) * 1e250, rel=1e-15)


def test_minimize_with_a_huge_gradient_moves():
    from autogradcli.tensors.minimize import grad_norm, minimize

    assert grad_norm([np.array([3e200]), np.array(4e200)]) == pytest.approx(5e200, rel=1e-15)
    graph = parse("f = 1e150*(x-1)^2 + 1e150\n", "t.txt")
    run = minimize(graph, {"x": np.array(1e6)}, steps=50, lr=1e-151, optimizer="sgd")
    assert run.start[2] == pytest.approx(2e156, rel=1e-6)  # the gradient norm, not inf
    assert run.reason == "reached --steps 50" and abs(float(run.end[3]["x"]) - 1) < 100
    run = minimize(graph, {"x": np.array(1e6)}, steps=5, optimizer="newton")
    assert float(run.end[3]["x"]) == pytest.approx(1.0) and run.reason.startswith("converged")
    run = minimize(graph, {"x": np.array(1e6)}, steps=5, optimizer="adam")
    assert run.reason.startswith("stopped: Adam's running square of the gradient overflowed")


def test_newton_names_a_hessian_that_is_not_finite():
    from autogradcli.tensors.minimize import minimize

    graph = parse("f = (x-1)^2 + y^2 + x^1.5\n", "t.txt")
    run = minimize(graph, {"x": np.array(0.0), "y": np.array(1.0)}, steps=5, optimizer="newton")
    assert run.reason == (
        "stopped: the Hessian is not finite at step 0 (H[x][x] = inf); try --optimizer adam, "
        "or start elsewhere"
    )
