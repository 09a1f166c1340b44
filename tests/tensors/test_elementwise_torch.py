"""The Tensor API's elementwise functions under PyTorch's names against torch 2.13: values,
first derivatives, second derivatives (grad of grad with create_graph) and grad_fn names."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import autogradcli as ag

torch = pytest.importorskip("torch")

# name -> (agrad function, torch function, input ranges, grad_fn name)
CASES = {
    "remainder": (lambda x, y: x % y, lambda x, y: x % y, [(-3, 3), (0.5, 2)], "Remainder"),
    "remainder_method": (
        lambda x, y: x.remainder(y),
        lambda x, y: x.remainder(y),
        [(-3, 3), (-2, -0.5)],
        "Remainder",
    ),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7), [(-2, 2)], "Clamp1"),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), [(-2, 2)], "Clamp1"),
    "clip_tensors": (
        lambda x, lo, hi: x.clip(lo, hi),
        lambda x, lo, hi: x.clip(lo, hi),
        [(-2, 2), (-1, -0.2), (0.2, 1)],
        "Clamp0",
    ),
    "lgamma": (lambda x: x.lgamma(), torch.lgamma, [(0.2, 5)], "Lgamma"),
    "lgamma_negative": (lambda x: x.lgamma(), torch.lgamma, [(-2.9, -2.1)], "Lgamma"),
    "digamma": (lambda x: x.digamma(), torch.digamma, [(0.2, 5)], "Digamma"),
    "digamma_negative": (lambda x: x.digamma(), torch.digamma, [(-1.9, -1.1)], "Digamma"),
    "polygamma2": (lambda x: x.polygamma(2), lambda x: x.polygamma(2), [(0.3, 4)], "Polygamma"),
    "erfc": (lambda x: x.erfc(), torch.erfc, [(-3, 3)], "Erfc"),
    "exp2": (lambda x: x.exp2(), torch.exp2, [(-3, 3)], "Exp2"),
    "floor": (lambda x: x.floor(), torch.floor, [(-3, 3)], "Floor"),
    "ceil": (lambda x: x.ceil(), torch.ceil, [(-3, 3)], "Ceil"),
    "round": (lambda x: x.round(), torch.round, [(-3, 3)], "Round"),
    "sinc": (lambda x: x.sinc(), torch.sinc, [(-3, 3)], "Sinc"),
    "logaddexp": (lambda x, y: x.logaddexp(y), torch.logaddexp, [(-3, 3), (-3, 3)], "Logaddexp"),
    "logaddexp_far": (
        lambda x, y: x.logaddexp(y),
        torch.logaddexp,
        [(700, 800), (-800, -700)],
        "Logaddexp",
    ),
    "deg2rad": (lambda x: x.deg2rad(), torch.deg2rad, [(-180, 180)], "Deg2Rad"),
    "rad2deg": (lambda x: x.rad2deg(), torch.rad2deg, [(-3, 3)], "Rad2Deg"),
}
# torch.special's names, the same functions in both libraries' namespaces
SPECIAL = {
    "gammaln": [(0.2, 5)], "digamma": [(0.2, 5)], "psi": [(0.2, 5)], "erfc": [(-3, 3)],
    "erf": [(-3, 3)], "expit": [(-3, 3)], "exp2": [(-3, 3)], "expm1": [(-3, 3)],
    "log1p": [(-0.5, 3)], "sinc": [(-3, 3)], "round": [(-3, 3)],
}  # fmt: skip
for _name, _ranges in SPECIAL.items():
    CASES[f"special.{_name}"] = (
        lambda x, n=_name: getattr(ag.special, n)(x),
        lambda x, n=_name: getattr(torch.special, n)(x),
        _ranges,
        None,
    )
CASES["special.polygamma"] = (
    lambda x: ag.special.polygamma(1, x), lambda x: torch.special.polygamma(1, x),
    [(0.3, 4)], "Polygamma",
)  # fmt: skip

# torch's trigamma is good to about 5e-10 (tests/ops/test_special.py checks agrad's against
# mpmath), and sinc's second derivative loses digits to cancellation near 0 in both.
LOOSE = {
    "digamma", "digamma_negative", "special.digamma", "special.psi", "special.polygamma",
    "polygamma2", "lgamma", "lgamma_negative", "special.gammaln", "sinc", "special.sinc",
}  # fmt: skip


def _grad(lib, out, xs, create_graph):
    if lib is torch:
        return torch.autograd.grad(out, xs, create_graph=create_graph, allow_unused=True)
    return ag.grad(out, xs, create_graph=create_graph, allow_unused=True)


def _values(t) -> np.ndarray:
    if t is None:
        return np.zeros(())
    return t.detach().numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_elementwise_op_matches_torch_to_second_order(name):
    mine_fn, torch_fn, ranges, grad_fn = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    data = [rng.uniform(lo, hi, size=5) for lo, hi in ranges]
    if name.startswith(("floor", "ceil", "round", "special.round")):
        data[0][0] = 2.5  # a tie: halves go to even in both
    rtol = 1e-8 if name in LOOSE else 1e-12
    results = {}
    for lib, fn in ((ag, mine_fn), (torch, torch_fn)):
        xs = [lib.tensor(d, requires_grad=True) for d in data]
        out = fn(*xs)
        w = lib.tensor(np.linspace(-1.0, 1.5, 5))
        first = _grad(lib, (out * w).sum(), xs, True)
        inner = sum(((g * lib.tensor(d)).sum() for g, d in zip(first, data, strict=True)
                     if g is not None and g.requires_grad), lib.tensor(0.0))  # fmt: skip
        second = _grad(lib, inner, xs, False) if inner.requires_grad else [None] * len(xs)
        results[lib] = (out, first, second)
    (out_a, first_a, second_a), (out_t, first_t, second_t) = results[ag], results[torch]
    np.testing.assert_allclose(_values(out_a), _values(out_t), rtol=rtol, atol=1e-300)
    if grad_fn is not None:
        assert type(out_a.grad_fn).__name__ == type(out_t.grad_fn).__name__
        assert type(out_a.grad_fn).__name__.startswith(grad_fn.rstrip("01"))
    if name == "logaddexp_far":  # torch's second derivative overflows to nan; the true one is
        # exp(x + y - 2 out) = exp(-1500 or so), 0 in floats
        assert all(np.all(_values(a) == 0) for a in second_a)
        second_a = second_t = []
    for a, t in zip([*first_a, *second_a], [*first_t, *second_t], strict=True):
        np.testing.assert_allclose(_values(a), _values(t), rtol=rtol, atol=1e-12, err_msg=name)


def test_clamp_needs_a_bound_and_mod_follows_pythons_sign():
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        ag.tensor([1.0]).clamp()
    x = ag.tensor([-7.0, 7.0, -7.0, 7.0])
    y = ag.tensor([3.0, 3.0, -3.0, -3.0])
    np.testing.assert_array_equal((x % y).numpy(), [-7 % 3, 7 % 3, -7 % -3, 7 % -3])
    np.testing.assert_array_equal((5.0 % ag.tensor(3.0)).numpy(), 2.0)


@pytest.mark.parametrize(
    "data",
    [[2.0, -3.0, 0.5, 4.0], [2.0, 0.0, 0.5, 4.0], [0.0, -3.0, 0.0, 4.0], [0.0, 0.0, 0.0, 4.0]],
)
def test_prod_to_second_order_with_zeros_as_torch(data):
    """create_graph through prod (it was refused), first and second derivatives with no, one,
    two and three zeros among the elements."""
    from autogradcli.tensors import functional as F

    results = {}
    for lib in (ag, torch):
        x = lib.tensor(data, requires_grad=True)
        (g,) = _grad(lib, (x.prod() * 3.0).sum(), [x], True)
        w = lib.tensor([1.0, -2.0, 0.5, 3.0])
        (h,) = _grad(lib, (g * w).sum(), [x], False)
        results[lib] = (g, h)
    for a, t in zip(results[ag], results[torch], strict=True):
        np.testing.assert_array_equal(_values(a), _values(t))
    mine = F.hessian(lambda x: x.prod(), ag.tensor(data))
    theirs = torch.autograd.functional.hessian(lambda x: x.prod(), torch.tensor(data))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
