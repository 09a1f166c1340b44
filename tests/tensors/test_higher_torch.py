"""Second and third derivatives in the Tensor API against torch 2.13: create_graph, a gradient
penalty, torch.autograd.functional's six functions, and PyTorch's errors for misuse."""

from __future__ import annotations

import numpy as np
import pytest

import autogradcli as ag
from autogradcli.tensors import functional as F

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


def pair(data):
    """The same leaf in both libraries."""
    return ag.tensor(data, requires_grad=True), torch.tensor(
        np.asarray(data, dtype=float), requires_grad=True
    )


def same(a, b, rtol=1e-12):
    a = a.data if isinstance(a, ag.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol)


def lib(t):
    return torch if isinstance(t, torch.Tensor) else None


def sin(t):
    return torch.sin(t) if lib(t) else t.sin()


def exp(t):
    return torch.exp(t) if lib(t) else t.exp()


def log(t):
    return torch.log(t) if lib(t) else t.log()


def tanh(t):
    return torch.tanh(t) if lib(t) else t.tanh()


def sigmoid(t):
    return torch.sigmoid(t) if lib(t) else t.sigmoid()


def sqrt(t):
    return torch.sqrt(t) if lib(t) else t.sqrt()


def relu(t):
    return torch.relu(t) if lib(t) else t.relu()


# Scalar programs of one variable: second and third derivatives by nested grad.
SCALAR = [
    lambda x: x**3,
    lambda x: sin(x) * exp(x),
    lambda x: log(1 + x**2),
    lambda x: tanh(x) ** 2,
    lambda x: sigmoid(3 * x) / (1 + x**2),
    lambda x: sqrt(x**2 + 1) * sin(2 * x),
    lambda x: x**4 - 2 * x**2 + relu(x) * x,
    lambda x: exp(-(x**2)) * x,
    lambda x: (x - 1) / (x + 2),
    lambda x: x**2.5,
    lambda x: log(x**2 + 2) * tanh(x),
    lambda x: sigmoid(x) ** 3 - exp(2 * x) / 5,
]


@pytest.mark.parametrize("k", range(len(SCALAR)))
def test_second_and_third_derivatives_by_nested_grad(k):
    fn = SCALAR[k]
    a, t = pair(0.7)
    ga = fa = fn(a)
    gt = ft = fn(t)
    for _ in range(3):
        (ga,) = ag.grad(ga, a, create_graph=True)
        (gt,) = torch.autograd.grad(gt, t, create_graph=True)
        same(ga, gt, rtol=1e-10)
    same(fa, ft)


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


@pytest.mark.parametrize("n", [3, 10])
def test_rosenbrock_hessian(n):
    x = np.linspace(-1.2, 1.0, n)
    same(F.hessian(rosenbrock, ag.tensor(x)), TF.hessian(rosenbrock, torch.tensor(x)))


def two_inputs(x, y):
    return (x * sin(y)).sum() + (x**2).sum() * (y**3).sum()


def vector_function(x, y):
    return x * sin(y) + y**2, (x**2).sum() * y


X, Y = np.array([1.0, 2.0, -0.5]), np.array([0.3, -0.4, 1.1])


def both(*arrays):
    return tuple(ag.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def test_hessian_of_two_inputs_is_a_tuple_of_tuples():
    (ax, ay), (tx, ty) = both(X, Y)
    mine, theirs = F.hessian(two_inputs, (ax, ay)), TF.hessian(two_inputs, (tx, ty))
    for i in range(2):
        for j in range(2):
            assert mine[i][j].shape == tuple(theirs[i][j].shape)
            same(mine[i][j], theirs[i][j])


def test_jacobian_of_a_vector_function():
    (ax, ay), (tx, ty) = both(X, Y)
    mine, theirs = F.jacobian(vector_function, (ax, ay)), TF.jacobian(vector_function, (tx, ty))
    for i in range(2):
        for j in range(2):
            same(mine[i][j], theirs[i][j])


def test_jvp_and_vjp_of_a_vector_function():
    (ax, ay), (tx, ty) = both(X, Y)
    (av, aw), (tv, tw) = both([1.0, 0.0, 2.0], [0.5, -1.0, 0.0])
    out_a, jvp_a = F.jvp(vector_function, (ax, ay), (av, aw))
    out_t, jvp_t = TF.jvp(vector_function, (tx, ty), (tv, tw))
    for a, t in zip([*out_a, *jvp_a], [*out_t, *jvp_t], strict=True):
        same(a, t)
    (au, az), (tu, tz) = both([1.0, 3.0, -1.0], [0.5, 2.0, 0.25])
    _, vjp_a = F.vjp(vector_function, (ax, ay), (au, az))
    _, vjp_t = TF.vjp(vector_function, (tx, ty), (tu, tz))
    for a, t in zip(vjp_a, vjp_t, strict=True):
        same(a, t)


def test_hvp_and_vhp():
    x, v = np.linspace(-1.2, 1.0, 5), np.arange(5.0)
    for mine, theirs in ((F.hvp, TF.hvp), (F.vhp, TF.vhp)):
        out_a, hv_a = mine(rosenbrock, ag.tensor(x), ag.tensor(v))
        out_t, hv_t = theirs(rosenbrock, torch.tensor(x), torch.tensor(v))
        same(out_a, out_t)
        same(hv_a, hv_t)


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph=True")
def test_a_gradient_penalty():
    """loss.backward(create_graph=True), then backward through the gradient's norm."""
    w_a, w_t = pair([0.5, -1.0, 2.0])
    data = np.array([[1.0, 2.0, 0.5], [0.3, -0.2, 1.0]])
    for w, d in ((w_a, ag.tensor(data)), (w_t, torch.tensor(data))):
        loss = (tanh(d @ w) ** 2).sum()
        loss.backward(create_graph=True)
        penalty = (w.grad**2).sum()
        w.grad = None
        penalty.backward()
    same(w_a.grad, w_t.grad)


def test_backward_of_backward_nodes_have_pytorchs_names():
    a, t = pair(0.7)
    (ga,) = ag.grad(a * sin(a), a, create_graph=True)
    (gt,) = torch.autograd.grad(t * torch.sin(t), t, create_graph=True)
    assert type(ga.grad_fn).__name__ == type(gt.grad_fn).__name__ == "AddBackward0"
    assert ga.requires_grad and gt.requires_grad


def test_misuse_raises_pytorchs_errors():
    a, t = pair([1.0, 2.0])
    for grad, x in ((ag.grad, a), (torch.autograd.grad, t)):
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
            grad(x * 2, x)
    a, t = pair(1.5)
    for grad, x in ((ag.grad, a), (torch.autograd.grad, t)):
        y = sin(x) * x
        grad(y, x)
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            grad(y, x)
    with pytest.raises(RuntimeError, match="single element"):
        F.hessian(lambda x: x * 2, ag.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="single element"):
        TF.hessian(lambda x: x * 2, torch.tensor([1.0, 2.0]))


def test_strict_mode_refuses_an_input_the_output_ignores():
    (ax, ay), (tx, ty) = both(X, Y)
    for fn, args in ((F.vjp, (ax, ay)), (TF.vjp, (tx, ty))):
        v = ag.tensor(X) if fn is F.vjp else torch.tensor(X)
        with pytest.raises(RuntimeError, match=r"is independent of input 1\. This is not"):
            fn(lambda x, y: x * 2, args, v, strict=True)
