"""Trace the registry's own forward and VJP functions into a flat program of NumPy ufuncs.

The rules are called with `Sym` stand-ins instead of arrays. Every ufunc they apply is
recorded once (common subexpressions share a slot), calls on constants are folded, exact
identities (`x * 1`, `x / 1`, `x ^ 1`) are dropped, `x + (-z)` becomes `x - z`, and steps
nothing reads are pruned, so the backward pass seeded with 1 costs only what the chain rule
needs. The derivative rules are still written once: the program is
what they compute, written down. Only elementwise graphs with scalar constants trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..graph import Graph
from ..ops import FORWARD, REGISTRY, Kind

# An argument is a slot (int) or a constant (float or bool).
Ref = int | float | bool

# `x ** c` for these exponents is what NumPy's `**` computes for arrays.
POWERS = {2.0: "square", 0.5: "sqrt", -1.0: "reciprocal"}


class NotTraceable(Exception):
    """The graph uses something a flat elementwise program cannot express (at `node`)."""

    def __init__(self, message: str, node: int | None = None):
        super().__init__(message)
        self.node = node


@dataclass
class Program:
    """Straight-line elementwise code: `(ufunc name, out slot, args)` per step.

    Slots `0 .. len(inputs) - 1` hold the inputs. `outputs` lists, per graph output, its
    value and then its gradient with respect to each input, in `inputs` order (only the
    value when traced without gradients); a constant there means "this constant at every
    point".
    """

    inputs: list[str]
    output_names: list[str]
    code: list[tuple[str, int, tuple[Ref, ...]]] = field(default_factory=list)
    dtypes: list[np.dtype] = field(default_factory=list)
    outputs: list[Ref] = field(default_factory=list)

    @property
    def slots(self) -> int:
        """How many slots the program writes (inputs included)."""
        return len(self.dtypes)


class Sym:
    """A traced value: the slot of a program that will hold it."""

    __slots__ = ("slot", "tape")
    __array_priority__ = 1000.0
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, tape: Tape, slot: int):
        self.tape, self.slot = tape, slot

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        if method != "__call__" or kwargs:
            raise NotTraceable(f"np.{ufunc.__name__}.{method} with {sorted(kwargs)}")
        return self.tape.call(ufunc.__name__, args)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.where and len(args) == 3 and not kwargs:
            return self.tape.call("where", args)
        if func is np.zeros_like and len(args) == 1 and not kwargs:
            return 0.0
        if func is np.ndim:
            return 1  # a traced value stands for a column of points
        raise NotTraceable(f"np.{func.__name__} is not an elementwise ufunc")

    def __float__(self):
        raise NotTraceable("a rule needs a concrete value where the graph has a variable")

    def __array__(self, *args, **kwargs):
        raise NotTraceable("a rule converts a traced value to an array")

    __bool__ = __int__ = __index__ = __float__


def _binary(name: str, swap: bool = False):
    if swap:
        return lambda self, other: self.tape.call(name, (other, self))
    return lambda self, other: self.tape.call(name, (self, other))


for _name, _ufunc in {
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide", "pow": "power",
    "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "eq": "equal", "ne": "not_equal", "and": "bitwise_and", "or": "bitwise_or",
}.items():  # fmt: skip
    setattr(Sym, f"__{_name}__", _binary(_ufunc))
    if _name not in ("lt", "le", "gt", "ge", "eq", "ne"):
        setattr(Sym, f"__r{_name}__", _binary(_ufunc, swap=True))
Sym.__neg__ = lambda self: self.tape.call("negative", (self,))  # type: ignore[attr-defined]
Sym.__abs__ = lambda self: self.tape.call("absolute", (self,))  # type: ignore[attr-defined]
Sym.__invert__ = lambda self: self.tape.call("invert", (self,))  # type: ignore[attr-defined]


class Tape:
    """Records ufunc calls into a Program, folding constants and sharing repeated calls."""

    def __init__(self, program: Program):
        self.program = program
        self.seen: dict[tuple, int] = {}
        self.negated: dict[int, Ref] = {}  # slot -> what it is the negation of
        self.types: dict[tuple, np.dtype] = {}

    def input(self) -> Sym:
        """A new input slot."""
        self.program.dtypes.append(np.dtype(np.float64))
        return Sym(self, len(self.program.dtypes) - 1)

    def call(self, name: str, args: tuple) -> Sym | float | bool:
        """Record `name(*args)` and return its value: a Sym, or a constant when folded."""
        refs = tuple([a.slot if type(a) is Sym and a.tape is self else self._ref(a) for a in args])
        slots = [type(r) is int for r in refs]
        if not any(slots):
            return self._fold(name, refs)
        if name == "where":
            cond, yes, no = refs
            if type(cond) is not int:
                return self._value(yes if cond else no)
        if name == "power" and type(refs[1]) is not int:
            if refs[1] == 1.0 and self._is_float(refs[0]):
                return self._value(refs[0])
            if refs[1] in POWERS:
                name, refs = POWERS[refs[1]], refs[:1]
        if name in ("multiply", "divide") and _is_one(refs[1]) and self._is_float(refs[0]):
            return self._value(refs[0])
        if name == "multiply" and _is_one(refs[0]) and self._is_float(refs[1]):
            return self._value(refs[1])
        if name in ("add", "subtract"):
            name, refs = self._absorb_negation(name, refs)
        if all(slots) and len(slots) == len(refs):  # no constant: the slots are the key
            key: tuple = (name, refs)
        else:
            key = (name, tuple(r if type(r) is int else (r, type(r), repr(r)) for r in refs))
        slot = self.seen.get(key)
        if slot is None:
            slot = self.seen[key] = len(self.program.dtypes)
            self.program.dtypes.append(self._dtype(name, refs))
            self.program.code.append((name, slot, refs))
            if name == "negative":
                self.negated[slot] = refs[0]
        return Sym(self, slot)

    def _is_float(self, ref: Ref) -> bool:
        """True for a float64 slot: `x * 1` may be dropped only when it changes no dtype."""
        return type(ref) is int and self.program.dtypes[ref] == np.float64

    def _absorb_negation(self, name: str, refs: tuple) -> tuple[str, tuple]:
        """`x + (-z)` is `x - z` and `x - (-z)` is `x + z`, exactly in IEEE arithmetic; the
        negation then dies unless something else reads it."""
        x, y = refs
        z = self.negated.get(y) if type(y) is int else None
        if z is not None:
            return ("subtract" if name == "add" else "add"), (x, z)
        z = self.negated.get(x) if type(x) is int else None
        if z is not None and name == "add":
            return "subtract", (y, z)
        return name, refs

    def _ref(self, a) -> Ref:
        if isinstance(a, Sym):
            if a.tape is not self:
                raise NotTraceable("a value from another trace")
            return a.slot
        if np.ndim(a) != 0:
            raise NotTraceable("an array constant (the program is elementwise over points)")
        value = np.asarray(a)[()]
        if isinstance(value, np.bool_ | bool):
            return bool(value)
        if not isinstance(value, np.floating | float | int | np.integer):
            raise NotTraceable(f"a {type(value).__name__} value")
        return float(value)

    def _value(self, ref: Ref):
        return Sym(self, ref) if type(ref) is int else ref

    def _fold(self, name: str, refs: tuple[Ref, ...]) -> float | bool:
        with np.errstate(all="ignore"):
            if name == "where":
                value = refs[1] if refs[0] else refs[2]
            else:
                value = numpy_step(name)(*refs)
        return self._ref(value)

    def _dtype(self, name: str, refs: tuple[Ref, ...]) -> np.dtype:
        """The result dtype, found by running the ufunc on one sample of each argument."""
        dtypes = self.program.dtypes
        kinds = tuple([dtypes[r] if type(r) is int else type(r) for r in refs])
        key = (name, kinds)
        if key not in self.types:
            samples = [np.ones((), dtype=k) for k in kinds]
            with np.errstate(all="ignore"):
                result = numpy_step(name)(*samples)
            self.types[key] = np.asarray(result).dtype
        return self.types[key]


def numpy_step(name: str):
    """The NumPy function a step named `name` calls: the one table from names to functions."""
    return np.where if name == "where" else getattr(np, name)


def _is_one(ref: Ref) -> bool:
    return type(ref) is float and ref == 1.0


def trace(graph: Graph, outputs: list[tuple[str, int]] | None = None, grad: bool = True) -> Program:
    """A program for each output's value and, with `grad`, its gradient w.r.t. every input.

    Gradients are not derived here: the recorded backward graph (graph/derivative.py) is
    built for the nodes the outputs read, and the program is the forward pass of that graph,
    so the derivative rules reach the plan by the same route as every higher derivative.
    """
    outs = list(graph.outputs) if outputs is None else outputs
    if grad:
        lowered, flat = _lower(graph, outs)
        program = trace(lowered, flat, grad=False)
        program.output_names = [name for name, _ in outs]
        return program
    program = Program(list(graph.input_ids), [name for name, _ in outs])
    tape = Tape(program)
    vals: list = [None] * len(graph)
    for i in graph.input_ids.values():
        vals[i] = tape.input()
    live = graph.ancestors([node for _, node in outs])  # what no output reads is not traced
    for i, value in graph.consts.items():
        if live[i] and np.ndim(value) != 0:
            raise NotTraceable(f"{graph.describe(i)} is an array constant", i)
        vals[i] = np.float64(value) if live[i] else None
    ops, ins, attrs = graph.ops, graph.inputs, graph.attrs
    for i, a in enumerate(ins):
        if not a or not live[i]:
            continue
        if REGISTRY[ops[i]].kind is not Kind.ELEMENTWISE:
            raise NotTraceable(f"{graph.describe(i)} is not elementwise", i)
        if not REGISTRY[ops[i]].traceable:
            raise NotTraceable(f"{graph.describe(i)} has no NumPy ufunc program", i)
        vals[i] = _call(FORWARD[ops[i]], graph, i, *[vals[j] for j in a], **(attrs[i] or {}))
    for _, node in outs:
        program.outputs.append(tape._ref(vals[node]))
    _prune(program)
    return program


def _lower(graph: Graph, outs: list[tuple[str, int]]) -> tuple[Graph, list[tuple[str, int]]]:
    """The recorded backward graph of the nodes the outputs read, and the nodes to trace: per
    output its value, then its gradient with respect to each input (0.0 where it has none)."""
    from ..graph.derivative import NotDifferentiable, derivative
    from ..graph.passes import Builder
    from .interpreter import forward

    live = graph.ancestors([node for _, node in outs])
    b = Builder(graph)
    for i in range(len(graph)):
        if live[i] or i in graph.input_ids.values():
            _check_node(graph, i)
            b.copy(i)
    g = b.finish()
    example = {name: np.array(0.5) for name in g.input_ids}  # the rules need shapes only
    with np.errstate(all="ignore"):
        try:
            values = forward(g, example)
        except Exception:  # a rule that needs a real array: the trace of the forward says why
            trace(graph, outs, grad=False)
            raise
        flat: list[tuple[str, int]] = []
        pending = [(name, b.map[node]) for name, node in outs]
        for name, node in pending:
            try:  # appended to the private copy: outputs share it
                d = derivative(g, values, node, list(g.input_ids), in_place=True)
            except NotDifferentiable as exc:
                raise NotTraceable(exc.message) from None
            zero = g.add_const(0.0)
            values.append(g.consts[zero])
            flat.append((name, node))
            flat += [(name, zero if d.grads[x] is None else d.grads[x]) for x in g.input_ids]
    return g, flat


def _check_node(graph: Graph, i: int) -> None:
    """The reasons a node cannot be part of a flat elementwise program."""
    op = graph.ops[i]
    if op in graph_leaves:
        if op == "const" and np.ndim(graph.consts[i]) != 0:
            raise NotTraceable(f"{graph.describe(i)} is an array constant", i)
        return
    if REGISTRY[op].kind is not Kind.ELEMENTWISE:
        raise NotTraceable(f"{graph.describe(i)} is not elementwise", i)
    if not REGISTRY[op].traceable:
        raise NotTraceable(f"{graph.describe(i)} has no NumPy ufunc program", i)


graph_leaves = ("input", "const")


def _prune(program: Program) -> None:
    """Drop steps nothing reads (a negation absorbed into a subtraction, say)."""
    live = {r for r in program.outputs if type(r) is int}
    kept = []
    for step in reversed(program.code):
        if step[1] in live:
            kept.append(step)
            live.update(r for r in step[2] if type(r) is int)
    program.code = kept[::-1]


def _call(rule, graph: Graph, i: int, *args, **kwargs):
    """Call a registry rule on traced values; a rule that needs what a Sym lacks (a shape,
    an array method) makes the graph untraceable rather than crashing."""
    try:
        return rule(*args, **kwargs)
    except (AttributeError, TypeError) as exc:
        needs = f"the rule of {graph.describe(i)} needs a concrete array"
        raise NotTraceable(f"{needs} ({exc})", i) from None
    except NotTraceable as exc:
        raise NotTraceable(f"{graph.describe(i)}: {exc}", i) from None
