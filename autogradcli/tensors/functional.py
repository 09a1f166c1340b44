"""`torch.autograd.functional` for agrad tensors: vjp, jvp, jacobian, hessian, hvp, vhp.

Same signatures, return shapes and tuple conventions as PyTorch. Each is built on `grad`;
second derivatives come from `grad(..., create_graph=True)`, whose result records the
backward pass as ordinary tensor operations (graph/derivative.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import grad
from .tensor import Tensor, as_tensor


def _as_tuple(x: Any, arg: str, fn: str) -> tuple[tuple[Tensor, ...], bool]:
    """(tuple of tensors, whether the user gave a tuple), PyTorch's checks included."""
    is_tuple = isinstance(x, tuple | list)
    items = tuple(x) if is_tuple else (x,)
    for k, t in enumerate(items):
        if not isinstance(t, Tensor):
            what = f"{arg} given to {fn} must be either a Tensor or a tuple of Tensors"
            raise TypeError(f"The {what} but the value at index {k} has type {type(t)}.")
    return items, is_tuple


def _leaves(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs to differentiate at: the tensors themselves when the graph is kept, else
    fresh leaves with the same values."""
    if create_graph:
        return tuple(x if x.requires_grad else Tensor(x.data, True) for x in inputs)
    return tuple(Tensor(x.data, requires_grad=True) for x in inputs)


def _call(func: Callable, xs: tuple[Tensor, ...], fn: str) -> tuple[tuple[Tensor, ...], bool]:
    out = func(*xs)
    outs, is_tuple = _as_tuple(out, "outputs of the user-provided function", fn)
    return tuple(as_tensor(o) for o in outs), is_tuple


def _grads(outs, xs, seeds, create_graph: bool, strict: bool = False) -> tuple[Tensor, ...]:
    """d(sum of seed·output)/d(each x), zeros where an input is unused (an error if strict)."""
    live = [(o, s) for o, s in zip(outs, seeds, strict=True) if o.requires_grad]
    got: tuple = (None,) * len(xs)
    if live:
        got = grad(
            [o for o, _ in live], list(xs), [s for _, s in live],
            retain_graph=True, create_graph=create_graph, allow_unused=True,
        )  # fmt: skip
    unused = [k for k, g in enumerate(got) if g is None]
    if strict and unused:
        k = unused[0]
        raise RuntimeError(
            f"Output 0 of the user-provided function is independent of input {k}. This is "
            "not allowed in strict mode."
        )
    return tuple(
        Tensor(np.zeros(x.shape)) if g is None else g for g, x in zip(got, xs, strict=True)
    )


def _detach(ts: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    return ts if create_graph else tuple(t.detach() for t in ts)


def _shape_out(ts: tuple, is_tuple: bool):
    return ts if is_tuple else ts[0]


def _single_element_check(outs: tuple[Tensor, ...], fn: str, what: str) -> None:
    if len(outs) != 1 or outs[0].numel() != 1:
        raise RuntimeError(
            f"The vector v can only be None if the {what} contains a single element."
            if fn in ("vjp", "jvp", "hvp", "vhp")
            else f"The Tensor returned by the function given to {fn} should contain a "
            "single element"
        )


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    given, in_tuple = _as_tuple(inputs, "inputs", "vjp")
    xs = _leaves(given, create_graph)
    outs, out_tuple = _call(func, xs, "vjp")
    if v is None:
        _single_element_check(outs, "vjp", "user-provided function returns a single Tensor that")
        seeds: tuple = tuple(np.ones(o.shape) for o in outs)
    else:
        seeds = _as_tuple(v, "v", "vjp")[0]
    grads = _grads(outs, xs, seeds, create_graph, strict)
    return _shape_out(_detach(outs, create_graph), out_tuple), _shape_out(grads, in_tuple)


def jacobian(
    func: Callable, inputs, create_graph: bool = False, strict: bool = False,
    vectorize: bool = False, strategy: str = "reverse-mode",
):  # fmt: skip
    """d outputs / d inputs: shape (*output.shape, *input.shape) for each pair."""
    given, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
    xs = _leaves(given, create_graph)
    outs, out_tuple = _call(func, xs, "jacobian")
    rows = []
    for out in outs:
        per_input: list[list[Tensor]] = [[] for _ in xs]
        for e in np.ndindex(out.shape):
            seed = np.zeros(out.shape)
            seed[e] = 1.0
            for k, g in enumerate(_grads((out,), xs, (seed,), create_graph, strict)):
                per_input[k].append(g)
        rows.append(
            tuple(_stack(gs, out.shape, x.shape) for gs, x in zip(per_input, xs, strict=True))
        )
    if not out_tuple:
        return _shape_out(rows[0], in_tuple)
    return tuple(_shape_out(r, in_tuple) for r in rows)


def _stack(gs: list[Tensor], out_shape: tuple, in_shape: tuple) -> Tensor:
    """One Jacobian block, shape (*out_shape, *in_shape), from its rows; rows that record a
    graph are joined with tensor operations, so the block can be differentiated again."""
    shape = (*out_shape, *in_shape)  # () for a scalar of a scalar
    if not any(g.requires_grad for g in gs):
        return Tensor(np.array([g.data for g in gs]).reshape(shape))
    if len(gs) == 1 and not out_shape:
        return gs[0]
    return _concat([g.reshape(1, *in_shape) for g in gs]).reshape(shape)


def _concat(parts: list[Tensor]) -> Tensor:
    """Rows joined along a new first axis, as a sum of zero-padded rows (differentiable)."""
    n = len(parts)
    total = None
    for k, p in enumerate(parts):
        pick = np.zeros((n, 1) + (1,) * (p.ndim - 1))
        pick[k] = 1.0
        term = p * Tensor(pick)
        total = term if total is None else total + term
    return total


def hessian(
    func: Callable, inputs, create_graph: bool = False, strict: bool = False,
    vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode",
):  # fmt: skip
    """Second derivatives of a scalar function: shape (*x.shape, *y.shape) per pair."""
    given, in_tuple = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        outs, _ = _call(func, xs, "hessian")
        _single_element_check(outs, "hessian", "")
        return _grads(outs, xs, (np.ones(outs[0].shape),), True)

    h = jacobian(gradient, given if in_tuple else given[0], create_graph=create_graph)
    if in_tuple:
        return h
    return h[0] if isinstance(h, tuple) else h


def _hv(func, inputs, v, create_graph: bool, fn: str):
    given, in_tuple = _as_tuple(inputs, "inputs", fn)
    xs = _leaves(given, True)
    outs, _ = _call(func, xs, fn)
    if len(outs) != 1 or outs[0].numel() != 1:
        raise RuntimeError(
            f"The function given to {fn} should return a single Tensor with a single element"
        )
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function "
                "is a single Tensor with a single element."
            )
        vs: tuple = (Tensor(np.ones(xs[0].shape)),)
    else:
        vs = _as_tuple(v, "v", fn)[0]
    grads = _grads(outs, xs, (np.ones(outs[0].shape),), True)
    inner = None
    for g, vec in zip(grads, vs, strict=True):
        term = (g * vec).sum()
        inner = term if inner is None else inner + term
    result = _grads((inner,), xs, (np.ones(()),), create_graph)
    return _detach(outs, create_graph)[0], _shape_out(result, in_tuple)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v)."""
    return _hv(func, inputs, v, create_graph, "hvp")


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H)."""
    return _hv(func, inputs, v, create_graph, "vhp")


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): each output's derivative along v."""
    given, _ = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(given) != 1 or given[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function "
                "is a single Tensor with a single element."
            )
        vs: tuple = (Tensor(np.ones(given[0].shape)),)
    else:
        vs = _as_tuple(v, "v", "jvp")[0]
    xs = _leaves(given, create_graph)
    outs, out_tuple = _call(func, xs, "jvp")
    result = []
    for out in outs:
        flat = []
        for e in np.ndindex(out.shape):
            seed = np.zeros(out.shape)
            seed[e] = 1.0
            row = _grads((out,), xs, (seed,), create_graph, strict)
            total = None
            for g, vec in zip(row, vs, strict=True):
                term = (g * vec).sum()
                total = term if total is None else total + term
            flat.append(total)
        result.append(_stack(flat, out.shape, ()))
    return _shape_out(_detach(outs, create_graph), out_tuple), _shape_out(tuple(result), out_tuple)
