"""The op registry: every primitive is one record, and everything else reads it.

A VJP has the signature ``vjp(g, out, *inputs, **attrs)`` and returns one entry per input
(``None`` for "no gradient"). It multiplies the incoming gradient ``g`` by its own local
partial and nothing more; the engine applies the chain rule and undoes broadcasting.

The records live in small modules by family (`arith`, `compare`, `elementwise`, `special`,
`reductions`, `axes`, `shape`, `layout`); importing this package registers them all.
Attributes (`axis`, `keepdims`, an index `key`) are keyword arguments of forward, VJP and SymPy
counterpart; `keywords` lists those a call in a formula file may set. A `variadic` op (`stack`,
`concat`) takes any number of inputs and its VJP returns one entry per input it was given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

# Binding strength, loosest to tightest.
CMP, ADD, MUL, UNARY, POW, ATOM = 0, 1, 2, 3, 4, 5

CONSTANTS = {"pi": math.pi, "e": math.e}

# Sampling domains shared by many ops.
R = (-3.0, 3.0)
POS = (0.1, 4.0)
UNIT = (-0.9, 0.9)


class Kind(str, Enum):
    """How an op treats the elements of its inputs."""

    ELEMENTWISE = "elementwise"  # point by point, broadcasting (the plan can trace it)
    REDUCTION = "reduction"  # all elements (or the last axis) to fewer
    LINALG = "linalg"  # matrix products
    SHAPE = "shape"  # indexing, reshaping, stacking


# A convention at a kink: (inputs, expected value, expected partials), nan meaning "nan".
Convention = tuple[tuple[float, ...], float, tuple[float, ...]]


@dataclass(frozen=True)
class Op:
    """Everything about one primitive, side by side.

    `near_kink(tol, *inputs)` is True where the op is within `tol` of a point where it is not
    differentiable; `conventions` are the values and partials the docs promise there. With
    `takes_needs`, the VJP accepts `needs=(bool, ...)` and may return None for inputs that
    need no gradient (a constant exponent's x^y*log(x), a constant matrix's product).

    Facts the passes and the Tensor API use live here too: `commutative`; `left_unit` and
    `right_unit` (u op x = x, x op u = x, exact in IEEE arithmetic for a scalar u);
    `involution` (op(op(x)) = x); `torch_name` (PyTorch's grad_fn name, when it is not
    "<Name>Backward0") and `saves_nothing` (PyTorch's backward keeps no tensors).

    `kind` says how an op treats elements; `traceable` whether its rules are made of NumPy
    ufunc calls, which the traced plan and the Python-float path need (an op computed with,
    say, `math.erf` works point by point but is run by the interpreter, and the plan
    declines it with the reason). `sympy_numeric` gives NumPy implementations for SymPy
    functions that `lambdify` cannot map to NumPy by itself.
    """

    name: str
    arity: int
    forward: Callable[..., Any]
    vjp: Callable[..., tuple]
    sympy: Callable[..., Any]
    derivative: str
    domain: tuple[tuple[float, float], ...]
    doc: str
    symbol: str | None = None
    precedence: int = ATOM
    kink: str = ""
    kind: Kind = Kind.ELEMENTWISE
    shapes: tuple[tuple[int, ...], ...] | None = None
    near_kink: Callable[..., Any] | None = None
    conventions: tuple[Convention, ...] = ()
    example_attrs: dict[str, Any] | None = None
    takes_needs: bool = False
    params: tuple[str, ...] | None = None  # argument names in `syntax`, when not x, y, z
    commutative: bool = False
    left_unit: float | None = None
    right_unit: float | None = None
    involution: bool = False
    torch_name: str | None = None
    saves_nothing: bool = False
    traceable: bool = True  # forward and VJP are NumPy ufunc calls the plan can record
    no_grad: tuple[int, ...] = ()  # inputs whose VJP entry is always None (a condition)
    sympy_numeric: dict[str, Callable[..., Any]] | None = None  # NumPy versions of SymPy names
    keywords: tuple[str, ...] = ()  # attributes a call may set: sum(x, axis=1, keepdims=true)
    variadic: bool = False  # any number of inputs (at least one); `arity` is the example's
    internal: bool = False  # made by syntax (x[0]) or derivative rules, not called by name

    @property
    def syntax(self) -> str:
        """How the op is written in an expression file."""
        args = ", ".join(self.params or tuple("xyz"[: self.arity]))
        if self.name == "index":
            return "x[i], x[a:b], x[i, a:b:s]"
        if self.internal:
            return f"x.{self.name}(...) (derivative graphs)"
        if self.variadic:
            args = "x, y, ..."
        if self.keywords:
            args += "".join(f", {k}=..." for k in self.keywords)
        if self.symbol and self.arity == 2:
            return f"x {self.symbol} y"
        if self.symbol:
            return f"{self.symbol}x"
        return f"{self.name}({args})"


REGISTRY: dict[str, Op] = {}
FORWARD: dict[str, Callable[..., Any]] = {}
VJP: dict[str, Callable[..., tuple]] = {}
TAKES_NEEDS: set[str] = set()


def register(op: Op) -> Op:
    """Add (or replace) an op; the engine's dispatch tables follow."""
    REGISTRY[op.name] = op
    FORWARD[op.name] = op.forward
    VJP[op.name] = op.vjp
    if op.takes_needs:
        TAKES_NEEDS.add(op.name)
    else:
        TAKES_NEEDS.discard(op.name)
    return op


def call(name: str, *args: Any, **attrs: Any) -> Any:
    """Run registry op `name` from inside another op's rule. A stand-in among the arguments
    (a value being recorded into a derivative graph) records the op instead of running it."""
    for a in args:
        hook = getattr(type(a), "__agrad_op__", None)
        if hook is not None:
            return hook(a, name, args, attrs)
    return FORWARD[name](*args, **attrs)


def unregister(name: str) -> None:
    """Remove an op (tests use this to plant and remove rules)."""
    for table in (REGISTRY, FORWARD, VJP):
        table.pop(name, None)
    TAKES_NEEDS.discard(name)


from . import arith, axes, compare, elementwise, layout, reductions, shape, special  # noqa: E402, F401

# Names a call may use; `pow(x, y)` is the same op as `x ^ y`; `max(x)` with one argument is
# `amax(x)` (the parser's choice). Internal ops are written by syntax or rules only.
FUNCTIONS = {name: name for name, op in REGISTRY.items() if op.symbol is None and not op.internal}
FUNCTIONS["pow"] = "pow"
FUNCTIONS["mod"] = "mod"  # `mod(x, y)` is `x % y`
# Calls with another number of arguments that stand for registry ops: steps (op, refs...),
# a ref being an argument's index or ~k, the k-th step's result; the last step is the value.
SUGAR = {("log", 2): (("log", 0), ("log", 1), ("div", ~0, ~1))}  # log(x, base)
# Infix operators, from the records of two-argument ops with a symbol (`**` is `^` too).
INFIX = {op.symbol: name for name, op in REGISTRY.items() if op.arity == 2 and op.symbol}
INFIX["**"] = "pow"
# Prefix operators (unary minus), from the records of one-argument ops with a symbol.
PREFIX = {op.symbol: name for name, op in REGISTRY.items() if op.arity == 1 and op.symbol}
# How tightly each infix operator binds, from its op's record.
PRECEDENCE = {token: REGISTRY[name].precedence for token, name in INFIX.items()}
