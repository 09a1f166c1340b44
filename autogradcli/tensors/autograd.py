"""Reverse mode for the Tensor API: the recorded graph, flattened, run through the engine.

`to_graph` walks grad_fn links without recursion (an explicit stack), giving a static Graph in
topological order plus each node's value; `backward` and `grad` then call `engine.backward`,
the same loop `agrad eval` uses.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engines import interpreter as engine
from ..errors import paused_gc
from ..graph import Graph
from .tensor import NOTHING_SAVED, Tensor, as_tensor

FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


def to_graph(
    outputs: Sequence[Tensor],
    names: dict[int, str] | None = None,
) -> tuple[Graph, list, dict[int, int]]:
    """Flatten the graph behind `outputs`: (Graph, value per node, id(tensor) -> node).

    Leaves that require grad become inputs (named from `names`, keyed by id(tensor), else
    x0, x1, ... in the order found); other leaves become constants.
    """
    names = names or {}
    g = Graph()
    vals: list = []
    index: dict[int, int] = {}
    count = 0
    with paused_gc():
        for out in outputs:
            stack = [(out, False)]
            while stack:
                t, expanded = stack.pop()
                if id(t) in index:
                    continue
                fn = t.grad_fn
                if fn is not None and not expanded:
                    stack.append((t, True))
                    stack.extend((p, False) for p in reversed(fn.inputs) if id(p) not in index)
                    continue
                if fn is not None:
                    node = g.add_op(fn.op, tuple(index[id(p)] for p in fn.inputs), attrs=fn.attrs)
                elif t.requires_grad:
                    name = names.get(id(t)) or f"x{count}"
                    count += 1
                    node = g.add_input(name)
                else:
                    node = g.add_const(t.data)
                index[id(t)] = node
                vals.append(t.data)
    return g, vals, index


def _functions(outputs: Sequence[Tensor]) -> list:
    """Every grad_fn reachable from the outputs (iteratively)."""
    seen: dict[int, Any] = {}
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        stack.extend(p.grad_fn for p in fn.inputs if p.grad_fn is not None)
    return list(seen.values())


def _seed(out: Tensor, gradient: Any) -> np.ndarray:
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return np.ones_like(out.data)
    seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=float)
    if seed.shape != out.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[0] has a shape of {seed.shape} and "
            f"output[0] has a shape of {out.shape}."
        )
    return seed


def _adjoints(
    outputs: Sequence[Tensor], seeds: Sequence[Any], targets: Sequence[Tensor], retain_graph: bool
) -> tuple[list, Graph, dict[int, int]]:
    """Run the engine once per output and sum: d(sum of seed·output)/d(each node)."""
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
    functions = _functions(outputs)
    if any(fn.freed and fn.op not in NOTHING_SAVED for fn in functions):
        raise RuntimeError(FREED)
    seeds = [_seed(out, s) for out, s in zip(outputs, seeds, strict=True)]
    graph, vals, index = to_graph(outputs)
    wanted = [index[id(t)] for t in targets if id(t) in index]
    leaves = [i for i, op in enumerate(graph.ops) if op == "input"]
    needs = engine.needs_grad(graph, leaves + wanted)
    total: list = [None] * len(graph)
    with engine.fp_watch(), paused_gc():
        for out, seed in zip(outputs, seeds, strict=True):
            adj = engine.backward(graph, vals, index[id(out)], needs, seed=seed)
            for i, a in enumerate(adj):
                if a is not None:
                    total[i] = a if total[i] is None else total[i] + a
    if not retain_graph:
        for fn in functions:
            fn.freed = True
    return total, graph, index


def backward(out: Tensor, gradient: Any = None, retain_graph: bool = False) -> None:
    """Accumulate gradients into the .grad of leaves (and of tensors that retain_grad())."""
    holders = [t for t in _tensors(out) if (t.is_leaf and t.requires_grad) or t.retains_grad]
    total, _, index = _adjoints([out], [gradient], holders, retain_graph)
    for t in holders:
        a = total[index[id(t)]]
        if a is None:
            continue
        a = np.broadcast_to(np.asarray(a, dtype=float), t.shape)
        t._grad = Tensor(a.copy()) if t._grad is None else Tensor(t._grad.data + a)


def _tensors(out: Tensor) -> list[Tensor]:
    """Every tensor the graph behind `out` reaches (iteratively)."""
    seen: dict[int, Tensor] = {}
    stack = [out]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        if t.grad_fn is not None:
            stack.extend(t.grad_fn.inputs)
    return list(seen.values())


def grad(
    outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, allow_unused: bool = False
) -> tuple:
    """d(outputs)/d(inputs) as a tuple, like torch.autograd.grad (nothing goes into .grad)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    total, _, index = _adjoints(outputs, list(grad_outputs), inputs, bool(retain_graph))
    result = []
    for k, t in enumerate(inputs):
        a = total[index[id(t)]] if id(t) in index else None
        if a is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {k} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(None)
        else:
            result.append(Tensor(np.broadcast_to(np.asarray(a, dtype=float), t.shape).copy()))
    return tuple(result)


def trace(fn: Callable[..., Any], *examples: Any) -> Graph:
    """Run `fn` on tensors made from the examples and return the recorded static Graph.

    Inputs take the names of fn's parameters; a tuple or list of results gives several outputs.
    """
    params = list(inspect.signature(fn).parameters)
    args = [Tensor(np.array(ex, dtype=float), requires_grad=True) for ex in examples]
    names = {id(t): (params[k] if k < len(params) else f"x{k}") for k, t in enumerate(args)}
    result = fn(*args)
    outs = list(result) if isinstance(result, tuple | list) else [result]
    outs = [as_tensor(o) for o in outs]
    graph, _, index = to_graph([*args, *outs], names)
    for k, out in enumerate(outs):
        node = index[id(out)]
        name = "out" if len(outs) == 1 else f"out{k + 1}"
        graph.name_node(node, name)
        graph.add_output(name, node)
    return graph
