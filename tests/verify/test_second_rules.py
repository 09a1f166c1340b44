"""Second derivatives of every op as the recorded backward graph gives them: the check passes
for the registry and catches a wrong rule one level down."""

from __future__ import annotations

import dataclasses

import numpy as np

from autogradcli.ops import REGISTRY, register
from autogradcli.verify.op_rules import sample_inputs
from autogradcli.verify.second_rules import check_second


def test_sin_second_derivative_passes():
    r = check_second(REGISTRY["sin"], sample_inputs(REGISTRY["sin"], 20))
    assert r.passed and r.points == 20 and r.sympy_error is not None and r.sympy_error < 1e-9


def test_a_wrong_rule_shows_in_the_second_derivative_of_the_ops_built_on_it():
    cos = REGISTRY["cos"]

    def wrong(g, out, x):
        return (g * np.sin(x),)  # the sign is wrong

    register(dataclasses.replace(cos, vjp=wrong))
    try:
        r = check_second(REGISTRY["sin"], sample_inputs(REGISTRY["sin"], 20))
    finally:
        register(cos)
    assert not r.passed and r.worst is not None


def test_kinks_are_skipped_and_prod_is_recorded():
    x = np.array([[0.0], [1e-5], [0.5]])
    r = check_second(REGISTRY["abs"], [x])
    assert r.points == 1 and r.kinks == 2 and r.passed
    r = check_second(REGISTRY["prod"], sample_inputs(REGISTRY["prod"], 3))
    assert r.passed and r.points == 3  # prod's rule is written in registry ops


def test_a_rule_the_graph_cannot_hold_is_declined():
    prod = REGISTRY["prod"]

    def running(g, out, x):  # np.cumprod has no registry op
        return (g * np.cumprod(x),)

    register(dataclasses.replace(prod, vjp=running))
    try:
        r = check_second(REGISTRY["prod"], sample_inputs(REGISTRY["prod"], 3))
    finally:
        register(prod)
    assert r.worst is not None and r.worst[0] == "not recorded"
