"""Random expressions from the grammar: engine, SymPy and finite differences agree."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import EXPRESSIONS, depth

from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse
from autogradcli.verify.oracle import Tolerances, check_point, kinks_at


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(EXPRESSIONS, st.floats(-2, 2), st.floats(-2, 2), st.floats(0.1, 2))
def test_engine_sympy_and_finite_differences_agree(text, x, y, z):
    assume(depth(text) <= 6)
    graph = parse(f"f = {text} + 0*x + 0*y + 0*z\n", "t.txt")
    ev = evaluate(graph, {"x": np.array(x), "y": np.array(y), "z": np.array(z)})
    assume(ev.finite)
    assume(not kinks_at(graph, ev.values))
    values = [ev.outputs[0].value, *ev.outputs[0].gradient.values()]
    assume(all(abs(float(v)) < 1e6 for v in values))
    results = check_point(ev, Tolerances(fd_rtol=1e-4, fd_atol=1e-5), timeout=5.0)
    for r in results:
        assume(not r.status.startswith("skipped"))
        assert r.status == "pass", (text, x, y, z, r.wrt, r.values, r.detail)
