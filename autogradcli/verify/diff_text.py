"""`agrad diff`'s derivatives written out (text, LaTeX or agrad syntax) inside the SymPy
time budget of the command."""

from __future__ import annotations

from ..errors import AgradError
from .symbolic import Budget, time_budget


def diff_text(pairs: list[tuple], fmt: str, budget: Budget) -> str:
    """Render (output, input, derivative, simplified) pairs as `fmt` ("text", "latex" or
    "agrad") within what is left of `budget` (SympyTimeout past it)."""
    try:
        with time_budget(budget):
            return _render(pairs, fmt)
    except ValueError as exc:  # Python's limit on converting long integers to text
        if "integer string conversion" not in str(exc):
            raise
        raise AgradError(
            "the derivative holds an integer of more than 4,300 digits, too long to write",
            None,
            "write the constant as a float (as agrad eval does) or make it smaller",
        ) from None


def _render(pairs: list[tuple], fmt: str) -> str:
    import sympy as sp

    from ..language.printer import agrad_text

    lines = []
    if fmt == "agrad":
        names = []
        for out, w, raw, simple in pairs:
            try:
                body = agrad_text(simple)
            except AgradError:
                body = agrad_text(raw)
            names.append(f"d2{out}_d{w[0]}_d{w[1]}" if isinstance(w, tuple) else f"d{out}_d{w}")
            lines.append(f"{names[-1]} = {body}")
        return "\n".join(lines + names)
    for out, w, _, simple in pairs:
        if fmt == "latex":
            lines.append(f"{_latex_name(out, w)} = {sp.latex(simple)}")
        else:
            pretty = sp.pretty(simple, use_unicode=True)
            lead = f"{_text_name(out, w)} = "
            pad = " " * len(lead)
            body = pretty.splitlines()
            mid = len(body) // 2
            lines.append("\n".join((lead if k == mid else pad) + row for k, row in enumerate(body)))
            lines.append("")
    return "\n".join(lines).rstrip()


def _text_name(out: str, w) -> str:
    """∂f/∂x, ∂²f/∂x², ∂²f/∂x∂y."""
    if not isinstance(w, tuple):
        return f"∂{out}/∂{w}"
    x, y = w
    return f"∂²{out}/∂{x}²" if x == y else f"∂²{out}/∂{x}∂{y}"


def _latex_name(out: str, w) -> str:
    """The same in LaTeX."""
    if not isinstance(w, tuple):
        return f"\\frac{{\\partial {out}}}{{\\partial {w}}}"
    x, y = w
    below = f"\\partial {x}^{{2}}" if x == y else f"\\partial {x} \\partial {y}"
    return f"\\frac{{\\partial^{{2}} {out}}}{{{below}}}"
