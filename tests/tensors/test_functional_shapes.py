"""Every `ag.functional` function against torch.autograd.functional with 0-d inputs and outputs:
scalars in and out, scalars beside vectors, tuples of both, with and without create_graph.
The same nesting, shapes and values as torch 2.13, and create_graph results that differentiate
again."""

from __future__ import annotations

import numpy as np
import pytest

import autogradcli as ag
from autogradcli.tensors import functional as F

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


def _mk(like, data):
    """A constant in the library of `like`."""
    if isinstance(like, torch.Tensor):
        return torch.tensor(np.asarray(data, dtype=float))
    return ag.tensor(data)


def _sin(t):
    return torch.sin(t) if isinstance(t, torch.Tensor) else t.sin()


# name -> (function, inputs, output is a single element)
FUNCS = {
    "scalar_to_scalar": (lambda x: x**3 * _sin(x), (1.3,), True),
    "scalar_to_vector": (lambda x: x**2 * _mk(x, [1.0, -2.0, 0.5]), (0.7,), False),
    "vector_to_scalar": (lambda v: (v**3).sum() * _sin(v).sum(), ([0.5, -1.0, 2.0],), True),
    "scalar_and_vector_to_scalar": (
        lambda x, v: (x * v**2).sum() * x,
        (0.8, [1.0, 2.0, -0.5]),
        True,
    ),
    "scalar_and_vector_to_tuple": (
        lambda x, v: (x**2 * _sin(x), v * x),
        (0.8, [1.0, 2.0, -0.5]),
        False,
    ),
}


def _flat(result) -> list:
    """The tensors of a nested tuple result, depth first, with their nesting paths."""
    out, stack = [], [((), result)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(((*path, k), x) for k, x in reversed(list(enumerate(item))))
        else:
            out.append((path, item))
    return out


def _same(mine, theirs) -> None:
    a, b = _flat(mine), _flat(theirs)
    assert [p for p, _ in a] == [p for p, _ in b]  # the same tuple nesting
    for (path, x), (_, t) in zip(a, b, strict=True):
        assert x.shape == tuple(t.shape), path
        np.testing.assert_allclose(x.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def _inputs(values, tuple_form: bool):
    mine = tuple(ag.tensor(v) for v in values)
    theirs = tuple(torch.tensor(np.asarray(v, dtype=float)) for v in values)
    if len(values) == 1 and not tuple_form:
        return mine[0], theirs[0]
    return mine, theirs


def _vectors(shapes, seed):
    rng = np.random.default_rng(seed)
    vs = [rng.normal(size=s) for s in shapes]
    mine = tuple(ag.tensor(v) for v in vs)
    theirs = tuple(torch.tensor(v) for v in vs)
    return (mine, theirs) if len(vs) > 1 else (mine[0], theirs[0])


CASES = [(name, tf, cg) for name in FUNCS for tf in (False, True) for cg in (False, True)]


@pytest.mark.parametrize(("name", "tuple_form", "create_graph"), CASES)
def test_jacobian(name, tuple_form, create_graph):
    fn, values, _ = FUNCS[name]
    mine, theirs = _inputs(values, tuple_form)
    _same(
        F.jacobian(fn, mine, create_graph=create_graph),
        TF.jacobian(fn, theirs, create_graph=create_graph),
    )


@pytest.mark.parametrize(("name", "tuple_form", "create_graph"), CASES)
def test_hessian_hvp_vhp(name, tuple_form, create_graph):
    fn, values, scalar = FUNCS[name]
    if not scalar:
        return
    mine, theirs = _inputs(values, tuple_form)
    _same(
        F.hessian(fn, mine, create_graph=create_graph),
        TF.hessian(fn, theirs, create_graph=create_graph),
    )
    va, vt = _vectors([np.shape(v) for v in values], 1)
    if tuple_form and len(values) == 1:
        va, vt = (va,), (vt,)
    for mine_fn, their_fn in ((F.hvp, TF.hvp), (F.vhp, TF.vhp)):
        _same(
            mine_fn(fn, mine, va, create_graph=create_graph),
            their_fn(fn, theirs, vt, create_graph=create_graph),
        )


@pytest.mark.parametrize(("name", "tuple_form", "create_graph"), CASES)
def test_vjp_and_jvp(name, tuple_form, create_graph):
    fn, values, scalar = FUNCS[name]
    mine, theirs = _inputs(values, tuple_form)
    out = fn(*(mine if isinstance(mine, tuple) else (mine,)))
    out_shapes = [o.shape for o in out] if isinstance(out, tuple) else [out.shape]
    ua, ut = _vectors(out_shapes, 2)
    if isinstance(out, tuple) and not isinstance(ua, tuple):
        ua, ut = (ua,), (ut,)
    _same(
        F.vjp(fn, mine, ua, create_graph=create_graph),
        TF.vjp(fn, theirs, ut, create_graph=create_graph),
    )
    if scalar:  # v may be left out for a single-element output
        _same(F.vjp(fn, mine), TF.vjp(fn, theirs))
    va, vt = _vectors([np.shape(v) for v in values], 3)
    if tuple_form and len(values) == 1:
        va, vt = (va,), (vt,)
    _same(
        F.jvp(fn, mine, va, create_graph=create_graph),
        TF.jvp(fn, theirs, vt, create_graph=create_graph),
    )


def test_the_reported_defect_and_its_second_derivative():
    """hessian(x^3) at 2 is 12 (it raised TypeError); with create_graph it differentiates
    again, to d/dx 6x = 6."""
    assert F.hessian(lambda x: x**3, ag.tensor(2.0)).shape == ()
    assert F.hessian(lambda x: x**3, ag.tensor(2.0)).item() == 12.0
    x = ag.tensor(2.0, requires_grad=True)
    h = F.hessian(lambda x: x**3, x, create_graph=True)
    (third,) = ag.grad(h, x)
    assert third.item() == 6.0
    j = F.jacobian(lambda x: x**3, ag.tensor(2.0))
    assert j.shape == () and j.item() == 12.0
    out, jv = F.jvp(lambda x: x**3, ag.tensor(2.0))
    assert (out.item(), jv.item()) == (8.0, 12.0)
