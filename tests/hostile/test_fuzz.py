"""A fuzzer: random text made of the language's pieces and of garbage never crashes agrad.

Every file either parses or gives an AgradError with a position inside the text; every graph
that parses evaluates (values may be nan or inf, which are reported, never raised), and its
one-point answer is the same on NumPy and on Python floats, bit for bit. CI runs 5,000 files; set
AGRAD_FUZZ=300000 for a longer local run (about 3 s per 10,000 files).
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np

from autogradcli.engines import choose as choose_mod
from autogradcli.engines.evaluate import evaluate
from autogradcli.errors import AgradError
from autogradcli.language.parser import parse
from autogradcli.ops import FUNCTIONS

FILES = int(os.environ.get("AGRAD_FUZZ", "5000"))
PIECES = [
    "x", "y", "z", "u", "f", "pi", "e", "0", "1", "2", ".5", "1e308", "-", "+", "*", "/", "^",
    "**", "@", "(", ")", "[", "]", ",", ";", "\n", "=", "==", " ", "\t", "#", "expect ",
    "diff(", "# range: x in [0, 1]", "# shape: x (2)", "\r\n", "\x00", "²", "\uff11", "é", "θ",
    "sum(", "norm(", "max(", "atan2(", "1/0", "log(0)", "\ufeff", '"', "'", "\\",
]  # fmt: skip
NAMES = sorted(n for n in FUNCTIONS if n not in ("sum", "mean", "prod", "dot", "norm"))
TWO = {"pow", "atan2", "hypot", "min", "max"}


def _expr(rng: random.Random, depth: int) -> str:
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(["x", "y", "z", "2", "0.5", "pi", "e", "1e308", "0", "-1"])
    roll = rng.random()
    if roll < 0.4:
        op = rng.choice(["+", "-", "*", "/", "^", "**"])
        return f"({_expr(rng, depth - 1)} {op} {_expr(rng, depth - 1)})"
    if roll < 0.5:
        return f"-{_expr(rng, depth - 1)}"
    name = rng.choice(NAMES)
    args = ", ".join(_expr(rng, depth - 1) for _ in range(2 if name in TWO else 1))
    return f"{name}({args})"


def _formula(rng: random.Random) -> str:
    lines = [f"v{k} = {_expr(rng, rng.randint(1, 4))}" for k in range(rng.randint(1, 4))]
    text = "\n".join(lines) + "\n"
    if rng.random() < 0.3:  # one hazard somewhere
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(PIECES) + text[at:]
    return text


def _text(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return _formula(rng)
    parts = []
    for _ in range(rng.randint(1, 30)):
        roll = rng.random()
        if roll < 0.6:
            parts.append(rng.choice(PIECES))
        elif roll < 0.85:
            parts.append(rng.choice(NAMES) + "(")
        else:
            parts.append(chr(rng.randint(0, 0x2FFF)))
    if rng.random() < 0.5:
        parts.insert(0, "f = ")
    return "".join(parts)


def test_random_text_never_crashes():
    rng = random.Random(20261202)
    parsed = errors = 0
    old = choose_mod.FLOAT_NODES
    choose_mod.FLOAT_NODES = 0  # every eligible graph also runs on Python floats
    try:
        for _ in range(FILES):
            text = _text(rng)
            try:
                graph = parse(text, "fuzz.txt")
            except AgradError as exc:
                errors += 1
                if exc.span is not None:
                    assert 0 <= exc.span.start <= len(text), (text, exc.span)
                assert exc.render()
                continue
            parsed += 1
            inputs = {n: np.array(rng.uniform(-3, 3)) for n in graph.input_ids}
            _evaluate_both(graph, inputs, text)
    finally:
        choose_mod.FLOAT_NODES = old
    assert parsed > FILES // 50 and errors > FILES // 2


def _evaluate_both(graph, inputs, text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            numpy_ev = evaluate(graph, inputs)
        except AgradError:
            return  # mismatched shapes and the like: reported with a position
        float_ev = evaluate(graph, inputs, floats=True)
    for a, b in zip(numpy_ev.outputs, float_ev.outputs, strict=True):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value), err_msg=text)
        for w in a.gradient:
            np.testing.assert_array_equal(a.gradient[w], b.gradient[w], err_msg=text)


# Formulas that branch, at random points: Hessians symmetric where their entries are defined,
# --order consistent with the Hessian and with differences of it, and `diff --format agrad`
# read back giving the engine's gradient.

from hypothesis import HealthCheck, assume, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import PIECEWISE  # noqa: E402

from autogradcli.engines import higher  # noqa: E402
from autogradcli.verify.op_rules import kinks_at  # noqa: E402

POINTS = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _at(text: str, x: float, y: float):
    graph = parse(f"f = {text}\n", "fuzz.txt")
    values = {n: np.asarray(v) for n, v in (("x", x), ("y", y)) if n in graph.input_ids}
    assume(len(values) == 2)
    with np.errstate(all="ignore"):
        try:
            point = higher.at(graph, values)
        except AgradError:  # an op without a second derivative (prod)
            assume(False)
        assume(not kinks_at(graph, point.values))
        assume(np.isfinite(point.values[graph.outputs[0][1]]))
    return graph, values, point


def _same(a: float, b: float, rtol: float = 1e-9) -> bool:
    """Equal within rtol where both are finite; both not finite otherwise."""
    if np.isfinite(a) and np.isfinite(b):
        return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))
    return not np.isfinite(a) and not np.isfinite(b)


@FUZZ
@given(PIECEWISE, POINTS, POINTS)
@example("x ^ y", 1.5, 0.0)
@example("where((x > 0), (y ^ x), (x * y))", 1.5, 0.0)
@example("where((y > 0), (x ^ y), 0)", 0.0, 2.0)
def test_hessians_of_branching_formulas_are_symmetric(text, x, y):
    graph, _values, point = _at(text, x, y)
    with np.errstate(all="ignore"):
        h = higher.hessian(point, graph.outputs[0][1], ["x", "y"])
    a, b = float(h["x"]["y"]), float(h["y"]["x"])
    assert _same(a, b), (text, x, y, a, b)


@FUZZ
@given(PIECEWISE, POINTS, POINTS)
def test_higher_orders_agree_with_the_hessian_and_differences(text, x, y):
    graph, values, point = _at(text, x, y)
    node = graph.outputs[0][1]
    with np.errstate(all="ignore"):
        _d1, d2, d3 = higher.derivatives(point, node, "x", 3)
        h = higher.hessian(point, node, ["x"])
        assert _same(d2, float(h["x"]["x"])), (text, x, y)
        estimates = []
        for step in (1e-4, 2e-4):
            up = higher.at(graph, {**values, "x": np.asarray(x + step)})
            down = higher.at(graph, {**values, "x": np.asarray(x - step)})
            d2_up = higher.derivatives(up, node, "x", 2)[1]
            d2_down = higher.derivatives(down, node, "x", 2)[1]
            estimates.append((d2_up - d2_down) / (2 * step))
    fine, coarse = estimates
    steady = np.isfinite(fine) and abs(fine - coarse) <= 1e-4 * max(1.0, abs(fine))
    assume(steady and np.isfinite(d3) and abs(d3) < 1e6)
    assert abs(d3 - fine) <= 1e-3 * max(1.0, abs(fine)), (text, x, y, d3, fine)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@example(text="-((x > digamma(2)) * y)", x=1.0, y=1.0)  # SymPy's 1 - EulerGamma
@given(PIECEWISE, POINTS, POINTS)
def test_diff_in_agrad_syntax_reads_back_as_the_engine_gradient(text, x, y):
    from autogradcli.verify.diff_text import diff_text
    from autogradcli.verify.oracle import SYMPY_FAILURES
    from autogradcli.verify.symbolic import Budget, SympyTimeout, derivatives

    graph, values, _point = _at(text, x, y)
    budget = Budget.of(5.0)
    try:
        pairs = derivatives(graph, graph.outputs, ["x", "y"], False, budget)
        written = diff_text(pairs, "agrad", budget)
    except (AgradError, SympyTimeout, *SYMPY_FAILURES):
        assume(False)  # a function agrad has no name for, SymPy out of time or refusing
        return
    back = parse(written + "\n", "d.txt")
    with np.errstate(all="ignore"):
        engine = evaluate(graph, values).outputs[0].gradient
        read = {r.name: float(r.value) for r in evaluate(back, values).outputs}
    for w in ("x", "y"):  # a nan from an untaken branch stays nan in the engine (as in
        if np.isfinite(engine[w]):  # PyTorch), while SymPy's where drops it: judged where finite
            assert _same(read[f"df_d{w}"], float(engine[w]), 1e-7), (text, written, x, y)
