"""The parser's messages for what does not parse: an unknown function, a missing operand,
two operands side by side; each names the token, its position and a fix."""

from __future__ import annotations

from ..errors import suggest
from ..ops import CONSTANTS, FUNCTIONS, PRECEDENCE
from .lexer import OPEN
from .literals import Reporter

# Words that start a statement of their own: what to write when what follows is not that.
KEYWORD_HINTS = {
    "use": 'quote the file name: use "nn.agrad"',
    "def": "write def name(x, y): and then the body, ended by return expression",
    "return": "return ends the body of a def block; at the top of a file write: name = expression",
}

class ParseErrors(Reporter):
    """Error reports shared by the parser's statement and expression loops."""

    def check_function(self, name: str, start: int, end: int) -> None:
        """Refuse a call to something that is not a known function."""
        if name in FUNCTIONS:
            return
        from .inline import find, table_of

        if find(self, name) is not None:
            return
        if name in self.graph.symbols or name in self.graph.input_ids or name in CONSTANTS:
            self.fail(f"'{name}' is not a function", start, end, f"write {name}*(...) to multiply")
        self.fail(
            f"unknown function '{name}'",
            start,
            end,
            suggest(name, sorted({*FUNCTIONS, *table_of(self).visible}))
            or "run 'agrad ops' to list the functions, or define it: f(x) = ...",
        )

    def unclosed_before(self, toks: list, i: int) -> None:
        """Name a bracket that is never closed when the statement ran on past its line to
        toks[i] (a missing ')' joins the next line to the statement)."""
        opened: list[tuple[str, int]] = []
        for _, text, start, _ in toks:
            if text in OPEN:
                opened.append((text, start))
            elif opened and text == OPEN[opened[-1][0]]:
                opened.pop()
        text = self.source.text
        for bracket, start in reversed(opened):
            if start < toks[i][2] and "\n" in text[start : toks[i][2]]:
                self.fail(
                    f"'{bracket}' is never closed",
                    start,
                    start + 1,
                    f"add the missing '{OPEN[bracket]}' before the end of the line",
                )

    def expected_operand(self, toks: list, i: int) -> None:
        """Report a token found where an operand should start."""
        self.unclosed_before(toks, i)
        _, text, start, end = toks[i]
        prev = toks[i - 1][1] if i > 0 else None
        where = f"after {prev!r}" if prev else "at the start of the statement"
        if text == "=":
            self.fail(
                "'=' must follow a single name at the start of a statement",
                start,
                end,
                "write name = expression",
            )
        hint = "remove one of them" if prev in PRECEDENCE and text in PRECEDENCE else None
        if text == ")" and prev == "(":
            hint = "empty parentheses hold nothing; write an expression inside them"
        self.fail(f"expected an expression {where}, found {text!r}", start, end, hint)

    def missing_operator(self, toks: list, i: int) -> None:
        """Report two operands side by side, or a misplaced token."""
        self.unclosed_before(toks, i)
        kind, text, start, end = toks[i]
        prev = toks[i - 1]
        if text == "==":
            after = toks[i + 1][1] if i + 1 < len(toks) else "y"
            self.fail(
                "unexpected '==': it separates the two sides of an expect claim only",
                start,
                end,
                f"to compare, write eq({prev[1]}, {after}) (1 where they are equal, else 0)",
            )
        if text == "=":
            self.fail(
                "'=' must follow a single name at the start of a statement",
                start,
                end,
                "to name a value write: name = expression",
            )
        if text == "]":
            self.fail("']' has no matching '['", start, end, "remove it")
        first = toks[0][1]
        if i == 1 and first in KEYWORD_HINTS:
            self.fail(f"unexpected {text!r} after '{first}'", start, end, KEYWORD_HINTS[first])
        if kind in ("num", "name") or text in OPEN:
            self.fail(
                f"missing operator between {prev[1]!r} and {text!r}",
                start,
                end,
                f"did you mean '{prev[1]}*{text}'?",
            )
        self.fail(f"unexpected {text!r}", start, end)
