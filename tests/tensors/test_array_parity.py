"""The Tensor API's array methods against PyTorch: values, first and second derivatives
(`grad(..., create_graph=True)` twice against `torch.autograd.grad`), 0-d cases included."""

from __future__ import annotations

import numpy as np
import pytest

import autogradcli as ag
from autogradcli.tensors.arrays import ArrayMethods
from autogradcli.tensors.joins import cat, stack, where

torch = pytest.importorskip("torch")

# (id, shapes, f(*tensors) written once for both libraries: `lib` is ag or torch)
CASES = [
    ("sum_dim", [(2, 3)], lambda lib, x: (x.sum(dim=1, keepdim=True) ** 2).sum()),
    ("mean_dim", [(2, 3)], lambda lib, x: (x.mean(dim=0) ** 3).sum()),
    ("prod_dim", [(2, 3)], lambda lib, x: x.prod(dim=1).sum()),
    ("prod_all", [(4,)], lambda lib, x: x.prod()),
    ("prod_0d", [()], lambda lib, x: x.prod() * x),
    ("amax", [(2, 3)], lambda lib, x: (x.amax(dim=1) ** 2).sum()),
    ("amin_all", [(2, 3)], lambda lib, x: x.amin() ** 2),
    ("amax_0d", [()], lambda lib, x: x.amax() ** 3),
    ("std", [(2, 3)], lambda lib, x: x.std() ** 3),
    ("std_dim", [(2, 3)], lambda lib, x: x.std(dim=1).sum()),
    ("var_biased", [(2, 3)], lambda lib, x: x.var(dim=0, unbiased=False).sum() ** 2),
    ("var_correction", [(4,)], lambda lib, x: x.var(correction=0) * x.sum()),
    ("logsumexp", [(2, 3)], lambda lib, x: (x.logsumexp(dim=1) ** 2).sum()),
    ("logsumexp_0d", [()], lambda lib, x: x.logsumexp(dim=0) ** 2),
    ("softmax", [(2, 3)], lambda lib, x: (x.softmax(1) * x).sum()),
    ("softmax_0d", [()], lambda lib, x: x.softmax(0) * x),
    ("log_softmax", [(2, 3)], lambda lib, x: (x.log_softmax(0) ** 2).sum()),
    ("cumsum", [(2, 3)], lambda lib, x: (x.cumsum(1) ** 2).sum()),
    ("reshape", [(2, 3)], lambda lib, x: (x.reshape(3, 2)[0] * x.reshape(6)[1:3]).sum()),
    ("flatten", [(2, 3)], lambda lib, x: (x.flatten() ** 2)[::2].sum()),
    ("ravel", [(2, 3)], lambda lib, x: (x.ravel() ** 3).sum()),
    ("transpose", [(2, 3)], lambda lib, x: (x.transpose(0, 1) @ x).sum()),
    ("T", [(2, 3)], lambda lib, x: (x.T**2 * x.T[:, :1]).sum()),
    ("squeeze", [(2, 1, 3)], lambda lib, x: (x.squeeze() ** 2).sum() + x.squeeze(1)[0, 0]),
    ("unsqueeze", [(3,)], lambda lib, x: (x.unsqueeze(0) * x.unsqueeze(1) ** 2).sum()),
    ("flip", [(2, 3)], lambda lib, x: (x.flip([1]) * x**2).sum()),
    ("tril", [(3, 3)], lambda lib, x: (x.tril(-1) * x).sum() + (x.triu(1) ** 3).sum()),
    ("outer", [(3,), (2,)], lambda lib, x, y: (x.outer(y) ** 2).sum()),
    ("diag", [(3, 3)], lambda lib, x: (x.diag() ** 2).sum() + (x.diag(1) ** 3).sum()),
    ("diag_vector", [(3,)], lambda lib, x: (x.diag() @ x**2).sum()),
    ("trace", [(3, 3)], lambda lib, x: x.trace() ** 2 + (x @ x).trace()),
    ("index", [(3, 4)], lambda lib, x: (x[1:, ::2] ** 2).sum() + x[-1, 0] * x[0, -1]),
    ("index_0d", [(3,)], lambda lib, x: x[1] ** 3),
    ("stack", [(3,), (3,)], lambda lib, x, y: (lib.stack([x, y * x], 1) ** 2).sum()),
    ("stack_0d", [(), ()], lambda lib, x, y: (lib.stack([x, x * y]) ** 2).sum()),
    ("cat", [(2, 3), (2, 2)], lambda lib, x, y: (lib.cat([x, y**2], dim=1) ** 2).sum()),
    ("where", [(3,), (3,)], lambda lib, x, y: (lib.where(x > y, x**2, y**3)).sum()),
]


def _values(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 2.0, size=s) for s in shapes]


@pytest.mark.parametrize(("name", "shapes", "f"), CASES, ids=[c[0] for c in CASES])
def test_value_first_and_second_derivatives_match_torch(name, shapes, f):
    values = _values(shapes, len(name))
    xs = [ag.tensor(v, requires_grad=True) for v in values]
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    y, yt = f(ag, *xs), f(torch, *ts)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    grads = ag.grad(y, xs, create_graph=True)
    grads_t = torch.autograd.grad(yt, ts, create_graph=True)
    for g, gt in zip(grads, grads_t, strict=True):
        np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-9, atol=1e-12)
    # second order: the gradient of a weighted sum of the first derivatives
    w = [np.random.default_rng(1).normal(size=np.shape(v)) for v in values]
    s = sum((g * ag.tensor(wk)).sum() for g, wk in zip(grads, w, strict=True))
    st = sum((g * torch.tensor(wk)).sum() for g, wk in zip(grads_t, w, strict=True))
    second = ag.grad(s, xs, allow_unused=True)
    second_t = torch.autograd.grad(st, ts, allow_unused=True)
    for h, ht in zip(second, second_t, strict=True):
        want = np.zeros(1) if ht is None else ht.numpy()
        got = np.zeros(1) if h is None else h.data
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_std_defaults_differ_as_documented():
    x = ag.tensor([1.0, 2.0, 4.0])
    assert np.isclose(x.std().item(), np.std(x.data, ddof=1))  # torch: unbiased
    assert np.isclose(x.std(unbiased=False).item(), np.std(x.data))


def test_amax_tie_splits_the_gradient_like_torch():
    x = ag.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.amax().backward()
    t = torch.tensor([3.0, 1.0, 3.0], requires_grad=True)
    t.amax().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.0, 0.5])


def test_module_functions_and_grad_fn_names():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    assert stack([a, a]).grad_fn.name() == "StackBackward0"
    assert cat([a, a]).grad_fn.name() == "CatBackward0"
    assert where(a > 1.5, a, 0.0).grad_fn.name() == "WhereBackward0"
    assert ag.stack is stack and ag.cat is cat and ag.where is where
    assert issubclass(ag.Tensor, ArrayMethods)
    with pytest.raises(RuntimeError):
        stack([])


def test_a_traced_graph_with_array_ops_is_written_back_as_a_formula():
    from autogradcli.engines.interpreter import forward
    from autogradcli.language.parser import parse
    from autogradcli.language.printer import graph_text

    fn = lambda x: ag.stack([x, x * 2, x.flip([0])], 1).softmax(0)[1:, ::2].sum()  # noqa: E731
    g = ag.trace(fn, [1.0, 2.0, 3.0])
    text = graph_text(g)
    assert "stack(x, (x * 2.0), flip(x, axis=(0,)), axis=1)" in text
    again = parse(text, "t.txt")
    value = forward(again, {"x": np.array([1.0, 2.0, 3.0])})[again.outputs[0][1]]
    assert np.isclose(value, fn(ag.tensor([1.0, 2.0, 3.0])).item())
    assert len(list(ag.tensor([1.0, 2.0]))) == 2  # an index past the end stops iteration
