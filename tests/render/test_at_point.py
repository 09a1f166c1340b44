"""`evaluate_point` from Python: one point's values, checks and second derivatives as a report."""

from __future__ import annotations

import json

import pytest

from autogradcli.cli.second_order import Second
from autogradcli.language.parser import parse
from autogradcli.render.at_point import EvalRequest, evaluate_point, point_json, point_tables


def test_value_gradient_and_check_by_hand():
    # f = x^2 * y at (3, 2): f = 18, df/dx = 2xy = 12, df/dy = x^2 = 9
    request = EvalRequest(["x=3", "y=2"], check=True)
    report = evaluate_point(parse("f = x^2 * y"), request)
    (out,) = report.ev.outputs
    assert out.value == 18.0
    assert not report.failed and report.notices == []
    doc = json.loads(point_json(report, request))
    assert doc["outputs"]["f"]["gradient"] == {"x": 12.0, "y": 9.0}
    assert [c["status"] for c in doc["check"]] == ["pass", "pass"]
    assert len(point_tables(report, request)) == 2  # values, then the check


def test_hessian_and_a_non_finite_notice():
    # f = x^3 + log(y) at (2, 0): d2f/dx2 = 6x = 12; log(0) is -inf, which is a notice
    second = Second(True, None, None, None, False)
    request = EvalRequest(["x=2", "y=0"], second=second)
    report = evaluate_point(parse("f = x^3 + log(y)"), request)
    assert report.notices
    doc = json.loads(point_json(report, request))
    assert doc["outputs"]["f"]["hessian"]["x"]["x"] == pytest.approx(12.0)
