"""SymPy expressions written back in agrad's own syntax, so `agrad eval` can read them."""

from __future__ import annotations

from ..errors import AgradError
from ..ops import FUNCTIONS


def agrad_text(expr) -> str:
    """Print a SymPy expression as an agrad expression; refuse what agrad cannot say."""
    import sympy
    from sympy.printing.str import StrPrinter

    class AgradPrinter(StrPrinter):
        """StrPrinter with agrad's names for the few functions SymPy spells differently."""

        def _print_Abs(self, e):
            return f"abs({self._print(e.args[0])})"

        def _print_Exp1(self, e):
            return "e"

        def _print_NumberSymbol(self, e):  # EulerGamma, Catalan, GoldenRatio: their value
            return repr(float(e))

        _print_EulerGamma = _print_Catalan = _print_GoldenRatio = _print_NumberSymbol
        _print_TribonacciConstant = _print_NumberSymbol

        def _print_Heaviside(self, e):
            return f"((sign({self._print(e.args[0])}) + 1)/2)"

        def _print_polygamma(self, e):  # agrad's polygamma(x) is SymPy's polygamma(1, x)
            n, x = e.args
            if n in (0, 1):
                return f"{('digamma', 'polygamma')[int(n)]}({self._print(x)})"
            self._unsupported(e)

        def _print_Max(self, e):
            return self._nested("max", e.args)

        def _print_Min(self, e):
            return self._nested("min", e.args)

        def _nested(self, name, args):
            text = self._print(args[0])
            for a in args[1:]:
                text = f"{name}({text}, {self._print(a)})"
            return text

        def _print_Function(self, e):
            name = type(e).__name__
            if name not in FUNCTIONS:
                raise AgradError(
                    f"the derivative uses {name}(), which agrad has no name for",
                    None,
                    "use --format text or --latex for this one",
                )
            return f"{name}({', '.join(self._print(a) for a in e.args)})"

        def _print_Symbol(self, e):
            if not e.name.isidentifier():
                raise AgradError(
                    f"'{e.name}' is an array element; agrad syntax needs scalar inputs",
                    None,
                    "use --format text or --latex",
                )
            return e.name

        def _unsupported(self, e):
            raise AgradError(
                f"the derivative contains {e}, which agrad cannot write",
                None,
                "use --format text or --latex",
            )

        _print_ImaginaryUnit = _unsupported
        _print_Infinity = _unsupported
        _print_NegativeInfinity = _unsupported
        _print_ComplexInfinity = _unsupported
        _print_NaN = _unsupported
        _print_Derivative = _unsupported

        def _print_Piecewise(self, e):
            """Nested where(condition, value, otherwise), the last piece's condition True."""
            *pieces, (last, cond) = e.args
            if cond is not sympy.true:
                self._unsupported(e)  # no "otherwise": undefined where nothing holds
            text = self._print(last)
            for expr, c in reversed(pieces):
                text = f"where({self._print(c)}, {self._print(expr)}, {text})"
            return text

        def _print_Relational(self, e):
            lhs, rhs = self._print(e.lhs), self._print(e.rhs)
            if e.rel_op == "==":  # `==` separates the sides of a claim
                return f"eq({lhs}, {rhs})"
            return f"({lhs} {e.rel_op} {rhs})"

        def _print_And(self, e):
            return "(" + " * ".join(self._print(a) for a in e.args) + ")"

        def _print_Or(self, e):
            return self._nested("max", e.args)

        def _print_Not(self, e):
            return f"(1 - {self._print(e.args[0])})"

        def _print_ITE(self, e):
            return f"where({', '.join(self._print(a) for a in e.args)})"

        def _print_Xor(self, e):
            text = self._print(e.args[0])
            for a in e.args[1:]:
                text = f"({text} != {self._print(a)})"
            return text

        _print_BooleanFunction = _unsupported  # Implies, Nand, ...: none so far

        def _print_BooleanTrue(self, e):
            return "1"

        def _print_BooleanFalse(self, e):
            return "0"

    return AgradPrinter({"order": "none"}).doprint(expr)


def graph_text(graph) -> str:
    """An expression file computing the same outputs as `graph` (claims are not written).

    Unnamed operations used once are written inline, fully parenthesised; named, shared and
    output nodes get a line of their own.
    """
    from ..graph import CONST, INPUT
    from ..ops import CONSTANTS, REGISTRY

    uses = [0] * len(graph)
    for a in graph.inputs:
        for j in a:
            uses[j] += 1
    outputs = {i for _, i in graph.outputs}
    taken = set(graph.symbols) | set(graph.input_ids)
    text: list[str] = [""] * len(graph)
    names: dict[int, str] = {}
    lines = []
    for i in range(len(graph)):
        op = graph.ops[i]
        if op == INPUT:
            text[i] = graph.names[i]
            continue
        if op == CONST:
            name = graph.names[i]
            text[i] = name if name in CONSTANTS else _literal(graph.consts[i])
            continue
        args = [names.get(j, text[j]) for j in graph.inputs[i]]
        expr = _call_text(REGISTRY[op], args, graph.attrs[i])
        text[i] = expr
        if graph.names[i] or uses[i] > 1 or i in outputs:
            name = graph.names[i] or _fresh(f"t{i}", taken)
            taken.add(name)
            names[i] = name
            lines.append(
                f"{name} = {expr.removeprefix('(').removesuffix(')')}"
                if _outer(expr)
                else f"{name} = {expr}"
            )
    for out, i in graph.outputs:
        ref = names.get(i, text[i])
        if ref != out:
            lines.append(f"{out} = {ref}")
        lines.append(out)
    return "\n".join(lines) + "\n"


def _call_text(spec, args: list[str], attrs: dict | None) -> str:
    """One operation in agrad syntax: infix, prefix, `x[1:3]` or a call with keywords."""
    from ..ops.attrs import attrs_text, key_text

    if spec.name == "index":
        return f"{args[0]}[{key_text(attrs['key'])}]"
    if attrs and (spec.internal or not set(attrs) <= set(spec.keywords)):
        raise AgradError(f"cannot write {spec.name} with {attrs} in agrad syntax")
    if spec.symbol and spec.arity == 2:
        return f"({args[0]} {spec.symbol} {args[1]})"
    if spec.symbol:
        return f"({spec.symbol}{args[0]})"
    extra = attrs_text(attrs)
    return f"{spec.name}({', '.join(args + ([extra] if extra else []))})"


def _outer(expr: str) -> bool:
    """True when the whole expression is one parenthesised group."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return False
    depth = 0
    for k, ch in enumerate(expr):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and k < len(expr) - 1:
            return False
    return True


def _fresh(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _literal(value) -> str:
    import numpy as np

    a = np.asarray(value, dtype=float)
    if not np.isfinite(a).all():
        raise AgradError("cannot write a non-finite constant in agrad syntax")
    if a.ndim == 0:
        v = float(a)
        return f"({v!r})" if v < 0 or (v == 0 and np.signbit(v)) else repr(v)
    return repr(a.tolist())
