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
from ..graph.derivative import derivative
from .tensor import NOTHING_SAVED, Tensor, apply, as_tensor

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


def _start(outputs: Sequence[Tensor], seeds: Sequence[Any]) -> tuple[list, list]:
    """PyTorch's checks before a backward pass; the grad_fns it runs, and each output's seed."""
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
    functions = _functions(outputs)
    if any(fn.freed and fn.op not in NOTHING_SAVED for fn in functions):
        raise RuntimeError(FREED)
    return functions, [_seed(out, s) for out, s in zip(outputs, seeds, strict=True)]


def _recorded(
    outputs: Sequence[Tensor], seeds: Sequence[Any], targets: Sequence[Tensor]
) -> dict[int, Tensor]:
    """create_graph=True: id(target) -> its adjoint as a Tensor whose grad_fn records the
    backward pass (the derivative graph, replayed through `apply`), so it can be
    differentiated again."""
    graph, vals, index = to_graph(outputs)
    by_node = {index[id(t)]: t for t in _tensors(*outputs)}
    wanted = tuple(index[id(t)] for t in targets if id(t) in index)
    total: dict[int, Tensor] = {}
    for out, seed in zip(outputs, seeds, strict=True):
        d = derivative(graph, vals, index[id(out)], [], seed=seed, nodes=wanted)
        made = _replay(d.graph, len(graph), by_node, [a for a in d.adjoints.values() if a])
        for node in wanted:
            a = d.adjoints[node]
            if a is not None:
                t = made[a] if a in made else by_node[a]
                total[node] = t if node not in total else total[node] + t
    return {id(t): total[index[id(t)]] for t in targets if index.get(id(t)) in total}


def _replay(g: Graph, first: int, by_node: dict[int, Tensor], wanted: list[int]) -> dict:
    """Tensors for the nodes from `first` on that `wanted` depends on, made with `apply`."""
    live = g.ancestors(wanted)
    made: dict[int, Tensor] = {}
    for k in range(first, len(g)):
        if not live[k]:
            continue
        if g.ops[k] == "const":
            made[k] = Tensor(g.consts[k])
        else:
            args = [made[j] if j >= first else by_node[j] for j in g.inputs[k]]
            made[k] = apply(g.ops[k], *args, attrs=g.attrs[k])
    return made


def _adjoints(
    outputs: Sequence[Tensor], seeds: Sequence[Any], targets: Sequence[Tensor], retain_graph: bool
) -> tuple[list, Graph, dict[int, int]]:
    """Run the engine once per output and sum: d(sum of seed·output)/d(each node)."""
    functions, seeds = _start(outputs, seeds)
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


def backward(
    out: Tensor, gradient: Any = None, retain_graph: bool | None = None, create_graph=False
) -> None:
    """Accumulate gradients into the .grad of leaves (and of tensors that retain_grad());
    with create_graph, the gradients are tensors that record how they were computed."""
    holders = [t for t in _tensors(out) if (t.is_leaf and t.requires_grad) or t.retains_grad]
    if create_graph:
        _, seeds = _start([out], [gradient])
        for t, g in _recorded_items([out], seeds, holders):
            t._grad = g if t._grad is None else t._grad + g
        return
    total, _, index = _adjoints([out], [gradient], holders, bool(retain_graph))
    for t in holders:
        a = total[index[id(t)]]
        if a is None:
            continue
        a = np.broadcast_to(np.asarray(a, dtype=float), t.shape)
        t._grad = Tensor(a.copy()) if t._grad is None else Tensor(t._grad.data + a)


def _recorded_items(outputs, seeds, targets) -> list[tuple[Tensor, Tensor]]:
    """(target, recorded adjoint) for the targets the outputs reach."""
    total = _recorded(outputs, seeds, targets)
    return [(t, total[id(t)]) for t in targets if id(t) in total]


def _tensors(*outs: Tensor) -> list[Tensor]:
    """Every tensor the graph behind `outs` reaches (iteratively)."""
    seen: dict[int, Tensor] = {}
    stack = list(outs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        if t.grad_fn is not None:
            stack.extend(t.grad_fn.inputs)
    return list(seen.values())


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """d(outputs)/d(inputs) as a tuple, like torch.autograd.grad (nothing goes into .grad);
    with create_graph, tensors that can be differentiated again."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if create_graph:
        _, seeds = _start(outputs, list(grad_outputs))
        found = _recorded(outputs, seeds, inputs)
    else:
        total, _, index = _adjoints(outputs, list(grad_outputs), inputs, bool(retain_graph))
        found = {id(t): total[index[id(t)]] for t in inputs if id(t) in index}
    result: list = []
    for k, t in enumerate(inputs):
        a = found.get(id(t))
        if a is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {k} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(None)
        elif create_graph:
            result.append(a)
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
