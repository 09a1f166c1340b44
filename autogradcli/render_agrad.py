"""SymPy expressions written back in agrad's own syntax, so `agrad eval` can read them."""

from __future__ import annotations

from .errors import AgradError
from .ops import FUNCTIONS


def agrad_text(expr) -> str:
    """Print a SymPy expression as an agrad expression; refuse what agrad cannot say."""
    from sympy.printing.str import StrPrinter

    class AgradPrinter(StrPrinter):
        """StrPrinter with agrad's names for the few functions SymPy spells differently."""

        def _print_Abs(self, e):
            return f"abs({self._print(e.args[0])})"

        def _print_Exp1(self, e):
            return "e"

        def _print_Heaviside(self, e):
            return f"((sign({self._print(e.args[0])}) + 1)/2)"

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
        _print_Piecewise = _unsupported

    return AgradPrinter({"order": "none"}).doprint(expr)
