"""The Tensor API against PyTorch (when installed) and against finite differences (always).

Each program runs on both libraries through a small adapter and returns the tensors to compare:
values, gradients of leaves, grad_fn names, is_leaf and requires_grad must all match torch.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import autogradcli as ag

OURS = SimpleNamespace(
    name="agrad",
    tensor=lambda d, rg=False: ag.tensor(d, requires_grad=rg),
    no_grad=ag.no_grad,
    grad=ag.grad,
    softplus=lambda t: t.softplus(),
    atan2=lambda a, b: a.atan2(b),
    hypot=lambda a, b: a.hypot(b),
    maximum=lambda a, b: a.maximum(b),
    minimum=lambda a, b: a.minimum(b),
    norm=lambda t: t.norm(),
    value=lambda t: t.data,
)


def torch_lib():
    """The same adapter for PyTorch, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return SimpleNamespace(
        name="torch",
        tensor=lambda d, rg=False: torch.tensor(d, dtype=torch.float64, requires_grad=rg),
        no_grad=torch.no_grad,
        grad=torch.autograd.grad,
        softplus=torch.nn.functional.softplus,
        atan2=torch.atan2,
        hypot=torch.hypot,
        maximum=torch.maximum,
        minimum=torch.minimum,
        norm=torch.linalg.vector_norm,
        value=lambda t: t.detach().numpy(),
    )


V = [0.5, -1.5, 2.0]
M = [[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]]
PROGRAMS = {}


def program(fd: bool = True):
    """Register a program; fd=False when its result is not d(first output)/d(leaves)."""

    def wrap(fn):
        PROGRAMS[fn.__name__] = (fn, fd)
        return fn

    return wrap


@program()
def micrograd_sanity_check(L):
    x = L.tensor(-4.0, True)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return [y, x, z, q]


@program()
def micrograd_more_ops(L):
    a, b = L.tensor(-4.0, True), L.tensor(2.0, True)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return [g, a, b, f]


@program()
def broadcast_scalar_vector(L):
    s, v = L.tensor(1.5, True), L.tensor(V, True)
    y = ((s + v) * (v - s)).sum()
    y.backward()
    return [y, s, v]


@program()
def broadcast_row(L):
    m, r = L.tensor(M, True), L.tensor(V, True)
    y = (m * r + r).sum()
    y.backward()
    return [y, m, r]


@program()
def broadcast_column(L):
    m, c = L.tensor(M, True), L.tensor([[2.0], [-1.0]], True)
    y = (m / c).sum()
    y.backward()
    return [y, m, c]


@program()
def sum_dim(L):
    m, w = L.tensor(M, True), L.tensor(V, True)
    s = m.sum(dim=0)
    y = (s * w).sum()
    y.backward()
    return [y, m, w, s]


@program()
def sum_keepdim(L):
    m = L.tensor(M, True)
    s = m.sum(dim=1, keepdim=True)
    y = (s * m).sum()
    y.backward()
    return [y, m, s]


@program()
def mean_dim_and_all(L):
    m = L.tensor(M, True)
    y = (m.mean(dim=1) ** 2).sum() + m.mean()
    y.backward()
    return [y, m]


@program()
def matmul_matrices(L):
    a, b = L.tensor(M, True), L.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.1]], True)
    p = a @ b
    y = (p * p).sum()
    y.backward()
    return [y, a, b, p]


@program()
def matmul_matrix_vector(L):
    a, v = L.tensor(M, True), L.tensor(V, True)
    p = a @ v
    y = p.tanh().sum()
    y.backward()
    return [y, a, v, p]


@program()
def matmul_vectors(L):
    v, w = L.tensor(V, True), L.tensor([1.0, 2.0, 3.0], True)
    y = v @ w
    y.backward()
    return [y, v, w]


@program()
def index_and_slice(L):
    x = L.tensor(V, True)
    a, b = x[1], x[0:2]
    y = a * 2 + b.sum()
    y.backward()
    return [y, x, a, b]


@program()
def advanced_index_repeats(L):
    x = L.tensor(V, True)
    y = (x[[0, 0, 2]] * L.tensor([1.0, 2.0, 3.0])).sum()
    y.backward()
    return [y, x]


@program()
def matrix_slices(L):
    m = L.tensor(M, True)
    c, r = m[:, 1], m[0, 1:3]
    y = c.sum() + (r * r).sum()
    y.backward()
    return [y, m, c, r]


@program()
def reuse_of_a_tensor(L):
    x = L.tensor(V, True)
    y = (x * x * x + x).sum()
    y.backward()
    return [y, x]


@program()
def fan_out_regression(L):
    a = L.tensor(1.0, True)
    b = a + a
    c = b + b
    c.backward()
    return [c, a, b]


@program(fd=False)
def retain_graph_accumulates(L):
    x = L.tensor(V, True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = L.value(x.grad).copy()
    y.backward()
    assert np.allclose(L.value(x.grad), 2 * first)
    return [y, x]


@program(fd=False)
def accumulation_across_graphs(L):
    x = L.tensor(V, True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    return [x]


@program(fd=False)
def no_grad_records_nothing(L):
    x = L.tensor(V, True)
    with L.no_grad():
        y = x * 2
    z = (x * 3).sum()
    z.backward()
    return [y, z, x]


@program(fd=False)
def detach_stops_gradients(L):
    x = L.tensor(V, True)
    y = (x.detach() * x).sum()
    y.backward()
    return [y, x]


@program()
def retain_grad_on_intermediate(L):
    x = L.tensor(V, True)
    h = x * 2
    h.retain_grad()
    y = (h * h).sum()
    y.backward()
    return [y, x, h]


@program(fd=False)
def backward_with_gradient(L):
    x = L.tensor(V, True)
    y = x.exp() * 2
    y.backward(L.tensor([1.0, 0.5, -2.0]))
    return [y, x]


@program()
def elementwise_chain(L):
    x = L.tensor(V, True)
    y = x.sin().exp().tanh().sigmoid().sum() + L.softplus(x).sum() + x.cos().atan().sum()
    y.backward()
    return [y, x]


@program()
def logs_roots_and_abs(L):
    x = L.tensor(V, True)
    y = (x.abs().sqrt() + x.abs().log() + (x * x).log1p() + x.expm1()).sum()
    y.backward()
    return [y, x]


@program()
def power_with_tensor_exponent(L):
    x, p = L.tensor([0.5, 1.5, 2.0], True), L.tensor([2.0, -1.0, 0.5], True)
    y = (x**p).sum() + (x**2).sum()
    y.backward()
    return [y, x, p]


@program()
def reflected_operators(L):
    x = L.tensor([0.5, 1.5, 2.0], True)
    y = ((2 - x) * (2**x) + 3 / (1 + x) + 1 * x).sum()
    y.backward()
    return [y, x]


@program()
def maximum_minimum_ties(L):
    x, w = L.tensor([1.0, 2.0, 3.0], True), L.tensor([1.0, 0.0, 4.0], True)
    y = (L.maximum(x, w) * 2 + L.minimum(x, w)).sum()
    y.backward()
    return [y, x, w]


@program()
def two_argument_functions(L):
    a, b = L.tensor([0.5, -1.0, 2.0], True), L.tensor([1.5, 2.0, -0.5], True)
    y = (L.atan2(a, b) + L.hypot(a, b)).sum()
    y.backward()
    return [y, a, b]


@program()
def reductions_prod_norm(L):
    x = L.tensor(V, True)
    y = x.prod() + L.norm(x) + x.mean()
    y.backward()
    return [y, x]


@program()
def reshape_and_transpose(L):
    m, v = L.tensor(M, True), L.tensor([1.0, -1.0, 2.0], True)
    r = m.reshape(3, 2)
    y = ((r.T @ v) ** 2).sum() + m.t().sum()
    y.backward()
    return [y, m, v, r]


@program()
def comparisons_do_not_require_grad(L):
    x = L.tensor(V, True)
    mask = x > 0
    y = (x * mask).sum()
    y.backward()
    return [y, x, mask]


@program()
def loop_built_graph(L):
    x = L.tensor(0.3, True)
    y = L.tensor(1.0)
    for _ in range(50):
        y = y * 0.9 + x.sin()
    y.backward()
    return [y, x]


@program()
def two_layer_network(L):
    rng = np.random.default_rng(0)
    w1 = L.tensor(rng.normal(size=(4, 2)).tolist(), True)
    b1 = L.tensor([0.1, -0.2, 0.0, 0.3], True)
    w2 = L.tensor(rng.normal(size=(4,)).tolist(), True)
    x = L.tensor([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]])
    h = (x @ w1.T + b1).tanh()
    y = ((h @ w2 - L.tensor([1.0, 0.0, 1.0])) ** 2).mean()
    y.backward()
    return [y, w1, b1, w2, h]


@program(fd=False)
def functional_grad(L):
    x, w = L.tensor(V, True), L.tensor([1.0, 2.0, 3.0], True)
    y = (x * w).sum() * (x * x).sum()
    gx, gw = L.grad(y, [x, w])
    return [y, gx, gw]


ERRORS = {
    "non-scalar backward": lambda L: (L.tensor(V, True) * 2).backward(),
    "second backward": lambda L: _twice(L),
    "requires_grad_ off a non-leaf": lambda L: (L.tensor(V, True) * 2).requires_grad_(False),
    "numpy of a grad tensor": lambda L: L.tensor(V, True).numpy(),
    "unused input": lambda L: L.grad((L.tensor(V, True) * 2).sum(), [L.tensor(V, True)]),
    "backward of a constant": lambda L: L.tensor(1.0).backward(),
    "item of a vector": lambda L: L.tensor(V, True).item(),
    "retain_grad without grad": lambda L: L.tensor(V).retain_grad(),
}


def _twice(L):
    x = L.tensor(V, True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def snapshot(L, items) -> list[dict]:
    """What to compare about each returned tensor."""
    out = []
    for t in items:
        leaf = bool(t.is_leaf)
        grad = None
        if (leaf and t.requires_grad) or getattr(t, "retains_grad", False):
            grad = None if t.grad is None else np.array(L.value(t.grad))
        out.append(
            {
                "value": np.array(L.value(t)),
                "grad": grad,
                "leaf": leaf,
                "requires_grad": bool(t.requires_grad),
                "fn": None if t.grad_fn is None else t.grad_fn.name(),
            }
        )
    return out


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_parity_with_torch(name):
    torch_l = torch_lib()
    if torch_l is None:
        pytest.skip("torch is not installed")
    fn, _ = PROGRAMS[name]
    mine, theirs = snapshot(OURS, fn(OURS)), snapshot(torch_l, fn(torch_l))
    for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        where = f"{name}: item {k}"
        assert (a["leaf"], a["requires_grad"], a["fn"]) == (
            b["leaf"],
            b["requires_grad"],
            b["fn"],
        ), where
        np.testing.assert_allclose(a["value"], b["value"], rtol=1e-12, err_msg=where)
        assert (a["grad"] is None) == (b["grad"] is None), where
        if a["grad"] is not None:
            np.testing.assert_allclose(a["grad"], b["grad"], rtol=1e-10, atol=1e-12, err_msg=where)


@pytest.mark.parametrize("name", sorted(n for n, (_, fd) in PROGRAMS.items() if fd))
def test_against_finite_differences(name):
    """Without torch too: each leaf's gradient against central differences of the output."""
    fn, _ = PROGRAMS[name]
    items = fn(OURS)
    leaves = [t for t in items[1:] if t.is_leaf and t.requires_grad]
    out = items[0]
    h = 1e-6
    for leaf in leaves:
        grad = leaf.grad.data
        numeric = np.zeros(leaf.shape)
        original = leaf.data.copy()
        for k in range(leaf.data.size):
            values = []
            for step in (h, -h):
                leaf.data = original.copy()
                leaf.data.flat[k] += step
                values.append(_rerun_value(fn, leaf, items))
            numeric.flat[k] = (values[0] - values[1]) / (2 * h)
        leaf.data = original
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6, err_msg=name)
        assert out.shape == ()


def _rerun_value(fn, leaf, items) -> float:
    """Re-run a program with one leaf's data replaced (matched by position among leaves)."""
    leaves = [t for t in items if t.is_leaf and t.requires_grad]
    position = next(k for k, t in enumerate(leaves) if t is leaf)
    original_tensor = ag.tensor

    def patched(data, requires_grad=False):
        t = original_tensor(data, requires_grad=requires_grad)
        if requires_grad:
            patched.count += 1
            if patched.count == position + 1:
                t.data = leaf.data.copy()
        return t

    patched.count = 0
    lib = SimpleNamespace(**{**vars(OURS), "tensor": lambda d, rg=False: patched(d, rg)})
    with np.errstate(all="ignore"):
        return float(fn(lib)[0].data)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_misuse_raises_what_torch_raises(name):
    with pytest.raises(RuntimeError) as mine:
        ERRORS[name](OURS)
    torch_l = torch_lib()
    if torch_l is None:
        return
    with pytest.raises(RuntimeError) as theirs:
        ERRORS[name](torch_l)
    assert str(mine.value) in str(theirs.value)


def test_non_leaf_grad_warns_like_torch():
    x = ag.tensor(V, requires_grad=True)
    y = x * 2
    (y * y).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None


def test_grad_fn_links_and_leaf_flags():
    x = ag.tensor(V, requires_grad=True)
    c = ag.tensor(V)
    y = x * c
    assert x.is_leaf and x.grad_fn is None and not y.is_leaf
    assert type(y.grad_fn).__name__ == "MulBackward0"
    (acc, _), (none, _) = y.grad_fn.next_functions
    assert acc.name() == "AccumulateGrad" and acc.variable is x and none is None
    assert (x + 1).grad_fn.next_functions[0][0] is acc
    assert repr(y) == "tensor([0.25, 2.25, 4.  ], grad_fn=<MulBackward0>)"


def test_hundred_thousand_step_loop_backpropagates():
    x = ag.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 0.99999 + 0.00001
    y.backward()
    assert x.grad.item() == pytest.approx(0.99999**100_000, rel=1e-9)
    del y


def test_trace_and_graph_export_reach_the_static_tools():
    from autogradcli.engines.evaluate import evaluate
    from autogradcli.graph.passes import optimize
    from autogradcli.render.dot import dot
    from autogradcli.render.view import build
    from autogradcli.verify.oracle import Tolerances, check_point

    def f(x, y):
        z = x
        for _ in range(3):
            z = z * y + x.sin()
        return z

    graph = ag.trace(f, 0.5, 2.0)
    assert list(graph.input_ids) == ["x", "y"] and graph.outputs[0][0] == "out"
    values = {"x": np.array(0.5), "y": np.array(2.0)}
    ev = evaluate(graph, values, edges=True)
    x, y = ag.tensor(0.5, requires_grad=True), ag.tensor(2.0, requires_grad=True)
    f(x, y).backward()
    assert float(ev.outputs[0].gradient["x"]) == pytest.approx(x.grad.item(), rel=1e-14)
    assert all(r.status == "pass" for r in check_point(ev, Tolerances(), 10.0))
    text = dot(build(graph, ev))
    assert text.count('[label="sin') == 3 and "digraph" in text
    smaller, _ = optimize(graph)
    assert smaller.ops.count("sin") == 1  # CSE merges the three x.sin() calls
    exported = (x * y).graph()
    assert exported.ops == ["input", "input", "mul"]


def test_warnings_are_errors_here():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ag.tensor([0.0], requires_grad=True)
        y = x.log()  # -inf, but no RuntimeWarning escapes
        assert np.isneginf(y.data).all()
