"""Every registry op's VJP against central finite differences, with no per-op test code."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from autogradcli.engines.interpreter import fp_watch, unbroadcast
from autogradcli.ops import REGISTRY

OPS = sorted(REGISTRY)


def _sample(op, rng, broadcast: bool):
    shapes = op.shapes or tuple(() for _ in op.domain)
    if broadcast and op.kind == "elementwise":
        shapes = ((3,), *(() for _ in op.domain[1:]))
    return [
        rng.uniform(lo, hi, size=shape) for (lo, hi), shape in zip(op.domain, shapes, strict=True)
    ]


def _check_vjp(op, xs, rng, h=1e-6):
    attrs = op.example_attrs or {}
    out = np.asarray(op.forward(*xs, **attrs))
    g = rng.normal(size=out.shape)
    with fp_watch():
        grads = op.vjp(g, out, *xs, **attrs)
    assert len(grads) == op.arity, f"{op.name}: one VJP entry per input"
    for k, x in enumerate(xs):
        if grads[k] is None:  # only where the record says so: a condition's entry
            assert k in op.no_grad, f"{op.name}: no VJP entry for input {k}"
            analytic = np.zeros(np.shape(x))
        else:
            analytic = unbroadcast(grads[k], np.shape(x))
        v = rng.normal(size=np.shape(x))
        plus = [*xs]
        minus = [*xs]
        plus[k] = x + h * v
        minus[k] = x - h * v
        numeric = (
            np.sum(g * op.forward(*plus, **attrs)) - np.sum(g * op.forward(*minus, **attrs))
        ) / (2 * h)
        np.testing.assert_allclose(
            np.sum(analytic * v), numeric, rtol=1e-5, atol=1e-7, err_msg=f"{op.name}: d/d input {k}"
        )


@pytest.mark.parametrize("name", OPS)
def test_vjp_matches_finite_differences(name):
    op = REGISTRY[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for _ in range(20):
        _check_vjp(op, _sample(op, rng, broadcast=False), rng)


@pytest.mark.parametrize("name", [n for n in OPS if REGISTRY[n].kind == "elementwise"])
def test_vjp_with_broadcasting(name):
    op = REGISTRY[name]
    rng = np.random.default_rng(7)
    for _ in range(5):
        _check_vjp(op, _sample(op, rng, broadcast=True), rng)


@pytest.mark.parametrize("name", OPS)
def test_registry_entry_is_complete(name):
    op = REGISTRY[name]
    assert op.arity == len(op.domain)
    assert op.derivative and op.doc
    assert all(lo < hi for lo, hi in op.domain)
    assert op.vjp.__name__.startswith("_") and op.vjp.__name__ != "<lambda>"


@pytest.mark.parametrize(
    "shapes",
    [((2, 3), (3,)), ((3,), (3, 2)), ((3,), (3,)), ((4, 2, 3), (3, 2)), ((2, 3), (4, 3, 2))],
)
def test_matmul_vjp_all_rank_cases(shapes):
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=s) for s in shapes]
    _check_vjp(REGISTRY["matmul"], xs, rng)


def test_prod_vjp_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 0.0])
    (g,) = REGISTRY["prod"].vjp(np.array(1.0), np.prod(x), x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.0])
    x = np.array([2.0, 0.0, 3.0])
    (g,) = REGISTRY["prod"].vjp(np.array(1.0), np.prod(x), x)
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])


def test_reductions_with_axis_attrs():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3))
    for name in ("sum", "mean"):
        op = REGISTRY[name]
        for axis, keep in ((0, False), (1, True), (None, False)):
            out = op.forward(x, axis=axis, keepdims=keep)
            g = rng.normal(size=np.shape(out))
            (gx,) = op.vjp(g, out, x, axis=axis, keepdims=keep)
            v = rng.normal(size=x.shape)
            numeric = np.sum(g * op.forward(v, axis=axis, keepdims=keep))  # linear ops
            assert np.isclose(np.sum(gx * v), numeric)


def test_torch_agrees_on_every_elementwise_op():
    torch = pytest.importorskip("torch")
    names = {
        "asin": "asin",
        "acos": "acos",
        "atan": "atan",
        "asinh": "asinh",
        "acosh": "acosh",
        "atanh": "atanh",
        "relu": "relu",
        "sigmoid": "sigmoid",
        "softplus": "nn.functional.softplus",
        "max": "maximum",
        "min": "minimum",
        "pow": "pow",
        "atan2": "atan2",
        "hypot": "hypot",
        "add": "add",
        "sub": "sub",
        "mul": "mul",
        "div": "div",
        "neg": "neg",
        "mod": "remainder",
        "degrees": "rad2deg",
        "radians": "deg2rad",
        "clip": "clamp",
    }
    rng = np.random.default_rng(5)
    for name, op in REGISTRY.items():
        if op.kind != "elementwise":
            continue
        if name == "cbrt":  # torch has no cbrt; compare with the real cube root it implies

            def fn(t):
                return torch.sign(t) * torch.abs(t) ** (1 / 3)
        elif len(op.no_grad) == op.arity:  # a comparison: torch's bool, as our 1.0 / 0.0
            xs = _sample(op, rng, broadcast=True)
            want = getattr(torch, name)(*[torch.tensor(x) for x in xs]).double().numpy()
            np.testing.assert_array_equal(op.forward(*xs), want)
            continue
        elif name == "where":

            def fn(c, a, b):
                return torch.where(c != 0, a, b)
        elif name == "gamma":  # torch has lgamma only; gamma > 0 on the op's domain

            def fn(t):
                return torch.exp(torch.lgamma(t))
        elif name == "polygamma":  # n = 1 unless given

            def fn(t):
                return torch.polygamma(1, t)
        else:
            fn = torch
            for part in names.get(name, name).split("."):
                fn = getattr(fn, part)
        xs = _sample(op, rng, broadcast=True)
        ts = [torch.tensor(x, requires_grad=True) for x in xs]
        out = fn(*ts)
        g = rng.normal(size=tuple(out.shape))
        out.backward(torch.tensor(g))
        mine = op.vjp(g, op.forward(*xs), *xs)
        # exp(lgamma) rounds twice; torch's trigamma is good to about 5e-10 (mpmath's values
        # are checked in tests/ops/test_special.py)
        rtol = {"gamma": 1e-13, "polygamma": 1e-9, "digamma": 1e-9}.get(name, 1e-12)
        np.testing.assert_allclose(op.forward(*xs), out.detach().numpy(), rtol=rtol)
        for t, x, m in zip(ts, xs, mine, strict=True):
            if m is None:  # no gradient through a condition, in either library
                assert t.grad is None, name
                continue
            np.testing.assert_allclose(
                unbroadcast(m, np.shape(x)), t.grad.numpy(), rtol=max(rtol, 1e-10), err_msg=name
            )


CONVENTIONS = [(name, c) for name in OPS for c in REGISTRY[name].conventions]


@pytest.mark.parametrize(("name", "convention"), CONVENTIONS)
def test_documented_conventions_at_kinks(name, convention):
    op = REGISTRY[name]
    inputs, value, partials = convention
    xs = [np.array(v) for v in inputs]
    with fp_watch():
        out = op.forward(*xs)
        grads = op.vjp(np.ones_like(out), out, *xs)
    assert float(out) == value
    np.testing.assert_array_equal([float(g) for g in grads], partials)


@pytest.mark.parametrize("name", [n for n in OPS if REGISTRY[n].takes_needs])
def test_needs_mask_skips_only_what_is_not_needed(name):
    op = REGISTRY[name]
    rng = np.random.default_rng(11)
    xs = _sample(op, rng, broadcast=False)
    out = op.forward(*xs)
    g = rng.normal(size=np.shape(out))
    full = op.vjp(g, out, *xs)
    for k in range(op.arity):
        needs = tuple(j == k for j in range(op.arity))
        masked = op.vjp(g, out, *xs, needs=needs)
        assert all(m is None for j, m in enumerate(masked) if j != k)
        np.testing.assert_array_equal(masked[k], full[k])
