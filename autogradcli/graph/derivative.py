"""The derivative of a graph is a graph: the backward pass recorded as registry ops.

Each node's registry VJP is called with `Traced` stand-ins instead of arrays. Every NumPy
operation a rule performs adds the matching registry op to the graph (`g * np.cos(x)` adds a
`cos` and a `mul` node) and computes its value on the way, so shapes are known and the new
nodes are evaluated, drawn and differentiated again like any others: the one derivative
table in `ops/` serves every order. The walk is the one reverse sweep (`sweep.py`).
Built at given values (as PyTorch's `create_graph=True` is), so a rule's Python-level
choices (an exponent's value, an array's rank) are those of this point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import AgradError
from ..ops import FORWARD, TAKES_NEEDS, VJP
from .core import INPUT, Graph
from .passes import Builder
from .sweep import sweep

# The registry op each NumPy ufunc a rule may call stands for.
UFUNC_OPS = {
    "add": "add", "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "negative": "neg", "power": "pow", "matmul": "matmul", "sin": "sin", "cos": "cos",
    "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "exp": "exp", "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p",
    "expm1": "expm1", "sqrt": "sqrt", "cbrt": "cbrt", "absolute": "abs", "sign": "sign",
    "arctan2": "atan2", "hypot": "hypot", "maximum": "max", "minimum": "min",
    "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "equal": "eq",
    "not_equal": "ne", "bitwise_and": "mul", "logical_and": "mul",
}  # fmt: skip


class NotDifferentiable(AgradError):
    """A derivative rule did something that has no registry op yet."""


@dataclass
class Derivative:
    """A graph holding the original nodes and their backward pass, with every node's value.

    `grads[name]` is the node holding d(output)/d(input `name`), in the input's shape, or
    None where the output does not depend on it.
    """

    graph: Graph
    values: list
    output: int
    grads: dict[str, int | None] = field(default_factory=dict)
    adjoints: dict[int, int | None] = field(default_factory=dict)  # for `nodes` asked for


class Traced:
    """A node of the graph being built, with its value: what a rule gets instead of an array."""

    __slots__ = ("builder", "id", "value")
    __array_priority__ = 1000.0
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, builder: _Recorder, i: int, value):
        self.builder, self.id, self.value = builder, i, value

    @property
    def constant(self) -> bool:
        """True when no input reaches this node: its value may be used as a number."""
        return self.builder.constant(self.id)

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def T(self) -> Traced:
        return self.builder.op("transpose", [self])

    def __agrad_op__(self, name: str, args: tuple, attrs: dict) -> Traced:
        return self.builder.op(name, list(args), **attrs)

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        if method != "__call__" or kwargs:
            raise self.builder.unsupported(f"np.{ufunc.__name__}.{method}")
        return self.builder.ufunc(ufunc.__name__, args)

    def __array_function__(self, func, types, args, kwargs):
        return self.builder.function(func, args, kwargs)

    def __float__(self) -> float:
        if not self.builder.constant(self.id):
            raise self.builder.unsupported("float() of a value that depends on the inputs")
        return float(self.value)

    def __getitem__(self, key):
        value = np.asarray(self.value)[key]
        if np.size(value) == np.size(self.value):  # only axes of length 1 come or go
            return self.builder.op("reshape", [self], shape=np.shape(value))
        return self.builder.op("index", [self], key=key)

    def __array__(self, *args, **kwargs):
        raise self.builder.unsupported("a conversion of a recorded value to an array")

    def __bool__(self):
        raise self.builder.unsupported("a branch on a value that depends on the inputs")


def _binary(name: str, swap: bool = False):
    if swap:
        return lambda self, other: self.builder.ufunc(name, (other, self))
    return lambda self, other: self.builder.ufunc(name, (self, other))


for _dunder, _ufunc in {
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide", "pow": "power",
    "matmul": "matmul", "and": "bitwise_and",
}.items():  # fmt: skip
    setattr(Traced, f"__{_dunder}__", _binary(_ufunc))
    setattr(Traced, f"__r{_dunder}__", _binary(_ufunc, swap=True))
for _dunder, _ufunc in {
    "gt": "greater", "ge": "greater_equal", "lt": "less", "le": "less_equal",
    "eq": "equal", "ne": "not_equal",
}.items():  # fmt: skip
    setattr(Traced, f"__{_dunder}__", _binary(_ufunc))
Traced.__neg__ = lambda self: self.builder.ufunc("negative", (self,))  # type: ignore[attr-defined]
Traced.__abs__ = lambda self: self.builder.ufunc("absolute", (self,))  # type: ignore[attr-defined]


class _Recorder:
    """Appends registry ops to a graph as rules call NumPy on `Traced` values."""

    def __init__(self, graph: Graph, values: list, node: int):
        self.graph, self.values = graph, values
        self.node = node  # whose rule is running: the new nodes carry its span
        self.depends = bytearray(len(graph))  # 1 where a node depends on an input
        for i, a in enumerate(graph.inputs):
            self.depends[i] = graph.ops[i] == INPUT or any(self.depends[j] for j in a)

    def traced(self, i: int) -> Traced:
        return Traced(self, i, self.values[i])

    def constant(self, i: int) -> bool:
        return not self.depends[i]

    def unsupported(self, what: str) -> NotDifferentiable:
        op = self.graph.ops[self.node]
        return NotDifferentiable(
            f"the derivative of '{op}' cannot be recorded as a graph yet: its rule uses {what}",
            self.graph.span(self.node),
            "higher derivatives cover every op but matmul of vectors and matrices",
        )

    def _add(self, i: int, value, depends: bool) -> Traced:
        self.values.append(value)
        self.depends.append(depends)
        return Traced(self, i, value)

    def lift(self, x) -> Traced:
        """A Traced value, or a constant node for a number or array."""
        if isinstance(x, Traced):
            return x
        if isinstance(x, np.ndarray | float | int | np.number | bool | np.bool_):
            g = self.graph
            value = np.asarray(x, dtype=np.float64)
            i = g.add_const(value, g.starts[self.node], g.ends[self.node])
            return self._add(i, value, False)
        raise self.unsupported(f"a {type(x).__name__} value")

    def op(self, name: str, args: list, **attrs) -> Traced:
        """Append registry op `name` on `args` and compute its value."""
        xs = [self.lift(a) for a in args]
        g = self.graph
        with np.errstate(all="ignore"):
            value = FORWARD[name](*[x.value for x in xs], **attrs)
        i = g.add_op(name, tuple(x.id for x in xs), g.starts[self.node], g.ends[self.node],
                     attrs or None)  # fmt: skip
        return self._add(i, value, any(self.depends[x.id] for x in xs))

    def ufunc(self, name: str, args: tuple) -> Traced:
        if name == "square":
            return self.op("pow", [args[0], 2.0])
        if name == "reciprocal":
            return self.op("div", [1.0, args[0]])
        if name == "logaddexp" and not isinstance(args[0], Traced) and args[0] == 0:
            return self.op("softplus", [args[1]])  # log(1 + e^x)
        op = UFUNC_OPS.get(name)
        if op is None:
            raise self.unsupported(f"np.{name}")
        return self.op(op, list(args))

    def function(self, func, args, kwargs):
        """NumPy functions a rule may call on a Traced value."""
        name = getattr(func, "__name__", str(func))
        if func in (np.shape, np.ndim, np.size):
            return func(*[a.value if isinstance(a, Traced) else a for a in args], **kwargs)
        x = self.lift(args[0])
        if func is np.where and not kwargs:
            return self.op("where", list(args))
        if func in (np.zeros_like, np.ones_like) and not kwargs:
            return self.lift(func(x.value))
        if func is np.broadcast_to:
            shape = tuple(args[1] if len(args) > 1 else kwargs["shape"])
            return x if x.shape == shape else self.op("broadcast_to", [x], shape=shape)
        if func is np.expand_dims:
            axis = args[1] if len(args) > 1 else kwargs["axis"]
            return self.op("reshape", [x], shape=np.shape(np.expand_dims(x.value, axis)))
        if func is np.reshape:
            shape = args[1] if len(args) > 1 else kwargs["shape"]
            return self.op("reshape", [x], shape=np.shape(np.reshape(x.value, shape)))
        if (func is np.swapaxes and x.ndim == 2) or (func is np.transpose and len(args) == 1):
            return self.op("transpose", [x])
        if func is np.sum:
            axis, keepdims = kwargs.get("axis"), kwargs.get("keepdims", False)
            return self.op("sum", [x], **({"axis": axis, "keepdims": keepdims} if axis else {}))
        if func is np.matmul and not kwargs:
            return self.op("matmul", list(args))
        raise self.unsupported(f"np.{name}")


def derivative(
    graph: Graph,
    values: list,
    output: int,
    wrt: list[str],
    seed=None,
    nodes: tuple = (),
    in_place: bool = False,
) -> Derivative:
    """The graph of d(output)/d(each input in `wrt`), beside the original nodes.

    `values` are the original nodes' values (the interpreter's forward pass); `seed` is the
    output's adjoint (ones, so an array output gives the gradient of its sum), an array, or
    a node id of the graph, to keep it symbolic. The adjoints of any other `nodes` are
    reported too (the Tensor API asks for intermediate tensors). With `in_place` the nodes are
    appended to `graph` and `values` themselves, so several outputs share one copy. The
    result's graph has one output per input, named `d{output}/d{input}`; constant folding,
    CSE and dead-node passes apply to it as to any graph.
    """
    if in_place:  # append to this graph and values list (a caller's private copy)
        new = graph
    else:
        b = Builder(graph)
        for i in range(len(graph)):
            b.copy(i)
        new = b.finish()
    rec = _Recorder(new, values if in_place else list(values), output)
    ids = [graph.input_ids[name] for name in wrt]
    needs = [False] * len(graph)
    for i in graph.input_ids.values():
        needs[i] = True
    for i, a in enumerate(graph.inputs):
        needs[i] = needs[i] or any(needs[j] for j in a)

    def vjp(i: int, g: Traced) -> list:
        rec.node = i
        a = new.inputs[i]
        op = new.ops[i]
        extra = dict(new.attrs[i] or {})
        if op in TAKES_NEEDS:
            extra["needs"] = tuple(needs[j] for j in a)
        args = [rec.traced(j) for j in a]
        grads = list(VJP[op](g, rec.traced(i), *args, **extra))
        for k, j in enumerate(a):
            gk = grads[k]
            if gk is None or not needs[j]:
                continue
            gk = rec.lift(gk)
            shape = np.shape(values[j])
            if gk.shape != shape:
                gk = rec.op("sum_to", [gk], shape=shape)
            grads[k] = gk
        return grads

    rec.node = output
    if seed is None:
        start = rec.lift(np.ones_like(values[output]))
    else:
        start = rec.traced(seed) if isinstance(seed, int) else rec.lift(np.asarray(seed, float))
    adj = sweep(new, output, needs, start, vjp)
    out_name = dict((i, n) for n, i in graph.outputs).get(output) or new.names[output] or "f"
    result = Derivative(new, rec.values, output)
    new.outputs = []
    for i in nodes:
        result.adjoints[i] = adj[i].id if isinstance(adj[i], Traced) else None
    for name, i in zip(wrt, ids, strict=True):
        node = adj[i].id if isinstance(adj[i], Traced) else None
        result.grads[name] = node
        if node is not None:
            new.add_output(f"d{out_name}/d{name}", node)
            if new.names[node] is None and node >= len(graph):
                new.names[node] = f"d{out_name}/d{name}"
    return result
