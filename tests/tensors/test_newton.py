"""Newton's method: the Rosenbrock minimum in tens of steps, a gradient step at saddles."""

from __future__ import annotations

import numpy as np
from conftest import agrad

from autogradcli.language.parser import parse
from autogradcli.tensors.minimize import minimize

ROSENBROCK = "f = (1 - x)^2 + 100 * (y - x^2)^2\n"


def test_newton_reaches_the_rosenbrock_minimum_in_tens_of_steps():
    graph = parse(ROSENBROCK, "r.txt")
    start = {"x": np.array(-1.2), "y": np.array(1.0)}
    run = minimize(graph, start, steps=100, optimizer="newton", tol=1e-10)
    step, _, _, point = run.end
    assert run.reason.startswith("converged") and step < 50
    assert abs(point["x"] - 1) < 1e-10 and abs(point["y"] - 1) < 1e-10
    adam = minimize(graph, start, steps=step, lr=0.05, optimizer="adam")
    assert adam.end[1] > 1e-3  # Adam is nowhere near after as many steps


def test_an_indefinite_hessian_falls_back_to_a_gradient_step():
    graph = parse("f = x^2 - y^2 + y^4\n", "s.txt")  # a saddle at the origin
    run = minimize(graph, {"x": np.array(0.3), "y": np.array(0.1)}, steps=100,
                   optimizer="newton", tol=1e-12)  # fmt: skip
    point = run.end[3]
    assert run.reason.startswith("converged")
    assert abs(point["x"]) < 1e-9 and abs(abs(point["y"]) - 2**-0.5) < 1e-9  # a minimum
    losses = [row[1] for row in run.rows]
    assert losses == sorted(losses, reverse=True)


def test_three_parameters():
    graph = parse("f = 100 * (y - x^2)^2 + (1 - x)^2 + 100 * (z - y^2)^2 + (1 - y)^2\n", "r.txt")
    start = {"x": np.array(-1.2), "y": np.array(1.0), "z": np.array(0.5)}
    run = minimize(graph, start, steps=200, optimizer="newton", tol=1e-10)
    assert run.reason.startswith("converged")
    assert all(abs(v - 1) < 1e-8 for v in run.end[3].values())


def test_the_command_line_refuses_a_learning_rate_for_newton():
    result = agrad("minimize", "-e", ROSENBROCK.split("= ", 1)[1], "--at", "x=-1.2", "y=1",
                   "--optimizer", "newton", "--lr", "0.1")  # fmt: skip
    assert result.exit_code == 2 and "Newton's method finds its own" in result.stderr
    result = agrad("minimize", "-e", ROSENBROCK.split("= ", 1)[1], "--at", "x=-1.2", "y=1",
                   "--optimizer", "newton", "--tol", "1e-10")  # fmt: skip
    assert result.exit_code == 0 and "converged" in result.stdout
