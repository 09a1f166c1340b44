"""The functions users reach for: special functions against mpmath, poles, rounding ties,
Python's %, log(x, base) in the language, and each new op on every engine."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from autogradcli.engines import floats, pyfloat
from autogradcli.engines.evaluate import evaluate
from autogradcli.engines.plan import Plan
from autogradcli.engines.tracer import NotTraceable
from autogradcli.errors import AgradError
from autogradcli.language.parser import parse
from autogradcli.ops import REGISTRY, special
from autogradcli.tensors import special as tensor_special

XS = np.array([0.05, 0.3, 0.5, 1.0, 1.4616321449683622, 2.7, 7.5, 25.0, 300.0, -0.3, -2.6, -7.25])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_polygamma_against_mpmath(n):
    xs = XS if n <= 1 else XS[XS > -3]  # n >= 2 on the left goes by the recurrence
    got = special._polygamma(xs, n)
    want = np.array([float(mpmath.polygamma(n, x)) for x in xs])
    # digamma's root (x = 1.4616...) is a relative error's worst case: absolute there
    np.testing.assert_allclose(got, want, rtol=2e-14, atol=1e-15)


def test_gamma_lgamma_erfc_against_mpmath():
    np.testing.assert_allclose(
        special._gamma(XS[XS < 100]), [float(mpmath.gamma(x)) for x in XS[XS < 100]], rtol=1e-14
    )
    np.testing.assert_allclose(
        special._lgamma(XS), [float(mpmath.log(abs(mpmath.gamma(x)))) for x in XS], rtol=1e-14
    )
    tail = np.array([-3.0, 0.0, 2.0, 10.0, 26.0])  # erfc(26) ~ 5.7e-296: no 1 - erf(x) here
    np.testing.assert_allclose(special._erfc(tail), [float(mpmath.erfc(x)) for x in tail], 1e-14)


def test_poles_give_pytorchs_values_without_warnings():
    at = np.array([0.0, -1.0, -2.0])
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(special._digamma(at), [-np.inf, np.nan, np.nan])
        np.testing.assert_array_equal(special._polygamma(at, 1), [np.inf] * 3)
        np.testing.assert_array_equal(special._lgamma(at), [np.inf] * 3)
        assert np.isnan(special._gamma(at)).all()
        assert np.isnan(special._polygamma(np.array(1.0), 1.5))  # n must be whole
        assert special._polygamma(np.array(2.0), 1).shape == ()
    with np.errstate(over="ignore"):  # an overflow is one: math.gamma raised OverflowError
        assert special._gamma(np.array(200.0)) == np.inf


def test_rounding_ties_go_to_even_and_mod_is_pythons():
    r = REGISTRY["round"].forward(np.array([0.5, 1.5, 2.5, -0.5, -2.5]))
    np.testing.assert_array_equal(r, [0.0, 2.0, 2.0, -0.0, -2.0])
    x, y = np.array([-7.0, 7.0, -7.0, 7.0, 5.5]), np.array([3.0, 3.0, -3.0, -3.0, 2.0])
    got = REGISTRY["mod"].forward(x, y)
    np.testing.assert_array_equal(got, [a % b for a, b in zip(x, y, strict=True)])
    gx, gy = REGISTRY["mod"].vjp(np.ones(5), got, x, y)
    np.testing.assert_array_equal(gx, 1.0)
    np.testing.assert_array_equal(gy, -np.floor(x / y))


def _grad(text: str, **at) -> tuple[float, dict]:
    out = evaluate(parse(text, "t.txt"), {k: np.array(v) for k, v in at.items()}).outputs[0]
    return float(out.value), {k: float(v) for k, v in out.gradient.items()}


def test_percent_binds_like_times_and_mod_is_the_same_op():
    value, grads = _grad("f = 2 + x % y * 3\n", x=7.5, y=2.0)
    assert value == 2 + (7.5 % 2.0) * 3
    assert grads == {"x": 3.0, "y": -3.0 * math.floor(7.5 / 2.0)}
    assert _grad("f = mod(x, y)\n", x=7.5, y=2.0) == _grad("f = x % y\n", x=7.5, y=2.0)


def test_log_with_a_base_is_log_over_log():
    graph = parse("f = log(x, 2)\n", "t.txt")
    assert [op for op in graph.ops if op not in ("input", "const")] == ["log", "log", "div"]
    value, grads = _grad("f = log(x, b)\n", x=8.0, b=2.0)
    assert value == pytest.approx(3.0, rel=1e-15)
    assert grads["x"] == pytest.approx(1 / (8 * math.log(2)), rel=1e-14)
    assert grads["b"] == pytest.approx(-math.log(8) / (2 * math.log(2) ** 2), rel=1e-14)
    assert _grad("f = log(x)\n", x=2.0)[1]["x"] == 0.5  # one argument: unchanged
    with pytest.raises(AgradError, match=r"log\(\) takes 1 or 2 arguments, got 3"):
        parse("f = log(x, 2, 3)\n", "t.txt")


TRACEABLE = ["exp2", "degrees", "radians", "floor", "ceil", "round", "sinc", "logaddexp",
             "clip", "mod"]  # fmt: skip
CALLS = {"logaddexp": "logaddexp(x, y)", "clip": "clip(x, -0.5, y)", "mod": "x % y"}


@pytest.mark.parametrize("name", TRACEABLE)
def test_the_plan_and_python_floats_run_each_traceable_new_op(name):
    text = f"f = {CALLS.get(name, f'{name}(x)')} * x + y\n"
    graph = parse(text, "t.txt")
    plan = Plan.of(graph)
    xs = np.array([-2.3, -0.7, 0.4, 1.6, 2.9])
    ys = np.array([0.6, 1.3, 2.2, 0.9, 1.7])
    (value, gx, gy), *_ = [plan.run([xs, ys])]
    for k in range(len(xs)):
        want_v, want = _grad(text, x=xs[k], y=ys[k])
        assert value[k] == pytest.approx(want_v, rel=1e-14)
        assert gx[k] == pytest.approx(want["x"], rel=1e-13, abs=1e-15)
        assert gy[k] == pytest.approx(want["y"], rel=1e-13, abs=1e-15)
        one = plan.run_scalar([float(xs[k]), float(ys[k])])  # the steps on Python floats
        assert one is not None and one[0] == pytest.approx(want_v, rel=1e-14)
    assert all(step in pyfloat.SCALAR for step, _, _ in plan.program.code)
    assert floats.rules(name) is not None  # the one-point float path has rules for it


@pytest.mark.parametrize("name", ["gamma", "lgamma", "digamma", "polygamma", "erfc"])
def test_special_functions_are_declined_by_the_plan_with_the_reason(name):
    graph = parse(f"f = {name}(x) * y\n", "t.txt")
    with pytest.raises(NotTraceable, match="has no NumPy ufunc program"):
        Plan.of(graph)
    assert floats.rules(name) is None


def test_the_tensor_api_special_namespace_names_torchs_functions():
    assert tensor_special.psi is tensor_special.digamma
    x = tensor_special.polygamma(3, [0.5, 2.0])
    want = [float(mpmath.polygamma(3, v)) for v in (0.5, 2.0)]
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-14)


def test_sympys_polygamma_is_written_back_in_agrads_names():
    import sympy as sp

    from autogradcli.language.printer import agrad_text

    x = sp.Symbol("x", real=True)
    assert agrad_text(sp.diff(sp.loggamma(x), x)) == "digamma(x)"
    assert agrad_text(sp.diff(sp.polygamma(0, x), x)) == "polygamma(x)"
    with pytest.raises(AgradError, match="cannot write"):
        agrad_text(sp.polygamma(2, x))


def test_the_whole_file_parser_takes_percent_and_log_with_a_base(monkeypatch):
    from autogradcli.language import bulk, lexer

    lines = ["a0 = x"] + [
        f"a{i} = a{i - 1} % 1.7 + log(a{i - 1} + 3, 2) * 0.5 - a{i - 1}**2 % 3"
        for i in range(1, 40)
    ]
    text = "\n".join(lines) + "\n"
    taken = []
    build = bulk.build
    monkeypatch.setattr(bulk, "build", lambda *a: taken.append(build(*a)) or taken[-1])
    monkeypatch.setattr(lexer, "BULK_MIN_CHARS", 0)
    whole = parse(text, "t.txt")
    assert taken and taken[0] is not None  # not declined to the line parser
    monkeypatch.setattr(lexer, "BULK_MIN_CHARS", 10**12)
    lines_graph = parse(text, "t.txt")
    assert list(whole.ops) == list(lines_graph.ops)
    assert [tuple(a) for a in whole.inputs] == [tuple(a) for a in lines_graph.inputs]


def test_percent_is_bmod_in_latex_not_a_comment():
    from conftest import agrad

    result = agrad("explain", "-e", "f = x % y * 2", "--at", "x=1.3", "y=0.7", "-f", "latex")
    assert result.exit_code == 0, result.output
    body = [line for line in result.stdout.splitlines() if not line.startswith("%")]
    assert any("x \\bmod y" in line for line in body)
    assert not any("%" in line for line in body)
