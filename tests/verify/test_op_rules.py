"""One op's rule against finite differences and SymPy at sampled points."""

from __future__ import annotations

from autogradcli.ops import REGISTRY
from autogradcli.verify.op_rules import check_rule, sample_inputs


def test_a_rule_passes_at_its_sampled_points():
    op = REGISTRY["tanh"]
    result = check_rule(op, sample_inputs(op, 20))
    assert result.passed and result.points + result.kinks == 20 and result.op == "tanh"
