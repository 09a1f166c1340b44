"""The symbolic oracle: a Graph turned into SymPy expressions through the registry.

SymPy is imported here only, lazily, so `agrad eval` never pays for it. Expressions are built
node by node from the graph, never parsed from text. Numeric evaluation uses `lambdify` with
`dummify=True` on those built expressions: the generated code names no user identifier.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..graph import CONST, INPUT, Graph
from ..ops import CONSTANTS, REGISTRY, Kind


class SympyTimeout(BaseException):
    """SymPy ran past its time budget (a BaseException, so SymPy cannot swallow it)."""


class Budget:
    """One time budget shared by every SymPy step of a command (or of one file in `check`).

    Formats as its seconds, so messages can say "over {budget:g} s".
    """

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        finite = seconds is not None and math.isfinite(seconds)
        self.deadline = time.monotonic() + seconds if finite else None

    @classmethod
    def of(cls, seconds: float | Budget | None) -> Budget:
        """A budget starting now, or the one given."""
        return seconds if isinstance(seconds, Budget) else cls(seconds)

    def remaining(self) -> float | None:
        """Seconds left (None: no limit); raises SympyTimeout once none are left."""
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise SympyTimeout(f"SymPy used its budget of {self.seconds:g} s")
        return left

    def __format__(self, spec: str) -> str:
        return format(math.inf if self.seconds is None else self.seconds, spec)


@contextmanager
def time_budget(seconds: float | Budget | None) -> Iterator[None]:
    """Raise SympyTimeout inside the block after `seconds`, or when a Budget runs out;
    None or inf: no limit.

    On the main thread a timer signal interrupts SymPy wherever it is; on any other thread
    (where signals cannot be delivered) a profile hook checks the clock as SymPy calls
    functions, which costs some speed but stops it all the same.
    """
    if isinstance(seconds, Budget):
        seconds = seconds.remaining()
    if seconds is None or not math.isfinite(seconds):
        yield
        return
    if seconds <= 0:
        raise ValueError(f"a time budget must be positive, not {seconds:g}")
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
        return
    with _profile_deadline(seconds):
        yield


def _gc_callback_codes() -> set:
    """The code objects of the garbage collector's callbacks (Hypothesis installs one)."""
    import gc

    return {getattr(cb, "__code__", None) for cb in gc.callbacks}


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def _expire(signum, frame):
        if frame is not None and frame.f_code in _gc_callback_codes():
            # raised inside a gc callback the exception would be lost: ring again shortly
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            return
        raise SympyTimeout(f"SymPy took longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, 1e8))  # about three years: no limit
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextmanager
def _profile_deadline(seconds: float) -> Iterator[None]:
    deadline = time.monotonic() + seconds
    calls = [0]
    previous = sys.getprofile()

    def _check(frame, event, arg):
        calls[0] += 1
        if calls[0] & 1023 == 0 and time.monotonic() > deadline:
            # the hook stays until the block ends: should SymPy swallow this one (in a
            # cleanup or a broad except), the next check raises again
            raise SympyTimeout(f"SymPy took longer than {seconds:g} s")

    sys.setprofile(_check)
    try:
        yield
    finally:
        sys.setprofile(previous)


def sympy():
    """The sympy module, imported on first use."""
    import sympy as sp

    return sp


def number(sp, value: float, name: str | None = None):
    """An exact SymPy number: pi and e by name, integers exactly, decimals as written."""
    if name == "pi":
        return sp.pi
    if name == "e":
        return sp.E
    if not np.isfinite(value):
        return sp.oo if value > 0 else (-sp.oo if value < 0 else sp.nan)
    if float(value).is_integer():
        return sp.Integer(int(value))
    return sp.Rational(repr(float(value)))


@dataclass
class Symbolic:
    """SymPy expressions for every node, and the symbols standing for each input."""

    exprs: list[Any]
    symbols: dict[str, Any]

    def flat_symbols(self) -> list:
        """Every input symbol (array inputs element by element), in input order."""
        out = []
        for sym in self.symbols.values():
            out.extend(np.ravel(sym) if isinstance(sym, np.ndarray) else [sym])
        return out


def to_sympy(
    graph: Graph, shapes: dict[str, tuple[int, ...]] | None = None, upto: int | None = None
) -> Symbolic:
    """Build a SymPy expression (an object array for arrays) for every node up to `upto`."""
    sp = sympy()
    shapes = shapes or {}
    n = len(graph) if upto is None else upto + 1
    exprs: list[Any] = [None] * n
    symbols: dict[str, Any] = {}
    for i in range(n):
        op = graph.ops[i]
        if op == INPUT:
            name = graph.names[i]
            exprs[i] = symbols[name] = input_symbol(sp, name, shapes.get(name, ()))
        elif op == CONST:
            value = graph.consts[i]
            name = graph.names[i] if graph.names[i] in CONSTANTS else None
            exprs[i] = (
                number(sp, float(value), name)
                if value.ndim == 0
                else np.vectorize(lambda v: number(sp, v), otypes=[object])(value)
            )
        else:
            exprs[i] = apply_sympy(sp, op, [exprs[j] for j in graph.inputs[i]], graph.attrs[i])
    return Symbolic(exprs, symbols)


def input_symbol(sp, name: str, shape: tuple[int, ...]):
    """A real symbol for a scalar, or an object array of `name[i,j]` symbols for an array."""
    if not shape:
        return sp.Symbol(name, real=True)
    arr = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        arr[idx] = sp.Symbol(f"{name}[{','.join(map(str, idx))}]", real=True)
    return arr


def apply_sympy(sp, name: str, args: list, attrs: dict | None = None):
    """Apply registry op `name` to SymPy arguments (object arrays broadcast elementwise)."""
    op = REGISTRY[name]
    if op.kind is Kind.ELEMENTWISE and any(isinstance(a, np.ndarray) for a in args):
        fn = np.frompyfunc(lambda *xs: op.sympy(sp, *xs), op.arity, 1)
        return np.asarray(fn(*args), dtype=object)
    if op.kind is not Kind.ELEMENTWISE:
        args = [a if isinstance(a, np.ndarray) else np.asarray(a, dtype=object) for a in args]
        out = op.sympy(sp, *args, **(attrs or {}))
        if isinstance(out, np.ndarray) and out.ndim == 0:
            return out[()]
        return out
    return op.sympy(sp, *args)


def total(sp, expr):
    """The sum of an array expression's elements (a scalar expression is itself)."""
    return sp.Add(*np.ravel(expr)) if isinstance(expr, np.ndarray) else expr


def gradient(sp, expr, symbol):
    """d(sum of expr)/d symbol; an object array when the symbol is an array of symbols."""
    scalar = total(sp, expr)
    if isinstance(symbol, np.ndarray):
        out = np.empty(symbol.shape, dtype=object)
        for idx in np.ndindex(symbol.shape):
            out[idx] = _clean(sp, sp.diff(scalar, symbol[idx]))
        return out
    return _clean(sp, sp.diff(scalar, symbol))


def _clean(sp, expr):
    """Drop DiracDelta terms: checks sample away from kinks, where they are zero."""
    return expr.replace(sp.DiracDelta, lambda *args: sp.Integer(0))


def numeric(sp, symbols: list, exprs: list):
    """A vectorised float64 function of the symbols returning each scalar expression's value."""
    extra = {k: f for op in REGISTRY.values() for k, f in (op.sympy_numeric or {}).items()}
    fn = sp.lambdify(symbols, list(exprs), modules=[extra, "numpy"], dummify=True, cse=True)

    def call(*values) -> list[np.ndarray]:
        with np.errstate(all="ignore"):
            out = fn(*values)
        shape = np.broadcast_shapes(*(np.shape(v) for v in values)) if values else ()
        return [np.broadcast_to(np.real_if_close(np.asarray(v)).astype(float), shape) for v in out]

    return call


def derivatives(
    graph: Graph,
    outputs: list[tuple[str, int]],
    wrt: list[str],
    simplify: bool = True,
    timeout: float | None = 10.0,
    order: int = 1,
) -> list[tuple]:
    """(output, input, derivative, simplified derivative) for each pair; with `order` 2 the
    input is a pair (x, y) for each entry of the Hessian's upper triangle.

    The simplified form is the plain one when simplify is off or runs out of time. `timeout`
    is one budget for all of it.
    """
    timeout = Budget.of(timeout)
    sp = sympy()
    with time_budget(timeout):
        sym = to_sympy(graph)
        pairs = []
        for name, node in outputs:
            for k, w in enumerate(wrt):
                first = gradient(sp, sym.exprs[node], sym.symbols[w])
                if order == 1:
                    pairs.append((name, w, first))
                    continue
                for v in wrt[k:]:
                    pairs.append((name, (w, v), gradient(sp, first, sym.symbols[v])))
    out = []
    for name, w, d in pairs:
        simple = d
        if simplify:
            try:
                with time_budget(timeout):
                    simple = sp.simplify(d)
            except SympyTimeout:
                pass
        out.append((name, w, d, simple))
    return out
