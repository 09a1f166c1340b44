"""Each op family's module registers its ops; the shared numeric helpers do what they say."""

from __future__ import annotations

import numpy as np
import pytest

from autogradcli.ops import REGISTRY, arith, elementwise, reductions, shape
from autogradcli.ops.numeric import fp_watch, unbroadcast


@pytest.mark.parametrize(
    ("family", "names"),
    [
        (arith, {"add", "sub", "mul", "div", "pow", "matmul", "neg"}),
        (elementwise, {"sin", "tanh", "atan2", "sigmoid", "relu"}),
        (reductions, {"sum", "mean", "prod", "dot", "norm"}),
        (shape, set()),
    ],
)
def test_each_family_registers_its_ops_with_rules_from_its_module(family, names):
    mine = {n for n, op in REGISTRY.items() if op.vjp.__module__ == family.__name__}
    assert names <= mine
    assert all(REGISTRY[n].vjp.__module__ == family.__name__ for n in names)


def test_power_is_one_ufunc_and_fast_exponents_match_ndarray_pow():
    x = np.linspace(0.1, 3, 7)
    for y in (2.0, 0.5, -1.0, 3.3):
        np.testing.assert_array_equal(arith.power(x, y), x**y)


def test_fp_watch_records_and_unbroadcast_sums_back():
    with fp_watch() as events:
        np.log(np.array(0.0))
    assert events == ["divide by zero"]
    np.testing.assert_array_equal(unbroadcast(np.ones((2, 3)), (3,)), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(unbroadcast(np.ones((2, 3)), (2, 1)), [[3.0], [3.0]])
