"""Tokens: one regular expression for the general path, one for simple lines."""

from __future__ import annotations

import re

from ..errors import AgradError, Source, Span
from ..ops import CONSTANTS, FUNCTIONS, PRECEDENCE

__all__ = ["PRECEDENCE", "statement_at", "tokens"]  # PRECEDENCE: read from the registry

MAX_NESTING = 10_000

TOKEN = re.compile(
    r"[ \t\f\v\r\ufeff]*(?:"
    r"(?P<name>[^\W\d]\w*)"
    r"|(?P<op>\*\*|==|>=|<=|!=|[-+*/%@^(),;=\[\]<>:]|\.(?![0-9]))"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"  # ASCII digits only
    r'|(?P<str>"[^"\n]*")'  # a file name after `use`
    r"|(?P<colon>:)"  # ends a `def` header
    r"|(?P<nl>\n)"
    r"|(?P<skip>#[^\n]*|\Z)"
    r"|(?P<bad>.))"
)
_ATOM = r"([^\W\d]\w*|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
_OP = r"[ \t]*(\*\*|[-+*/@^])[ \t]*"
_ARITH = _ATOM + r"(?:" + _OP + _ATOM + r"(?:" + _OP + _ATOM + r")?)?"  # five groups
# Groups: 1 target; 2 function name, 3-7 its argument, 8 ")"; 9-13 a bare right-hand side.
SIMPLE = (
    r"[ \t]*([^\W\d]\w*)[ \t]*=[ \t]*(?:"
    r"([^\W\d]\w*)\([ \t]*" + _ARITH + r"[ \t]*(\))"
    r"|" + _ARITH + r")[ \t]*(?:#[^\n]*)?\r?(?:\n|\Z)"
)
RESERVED = frozenset(CONSTANTS) | frozenset(FUNCTIONS)
FAST_PATH = True  # tests turn it off to prove both paths build identical graphs
# Shortcuts pay for themselves from these sizes on (compiling SIMPLE costs a millisecond at
# start-up); tests set 0.
SIMPLE_MIN_CHARS = 1_000
BULK_MIN_CHARS = 200_000
OPEN = {"(": ")", "[": "]"}


def simple() -> re.Pattern:
    """SIMPLE compiled (once per process: `re` keeps compiled patterns)."""
    return re.compile(SIMPLE)


def tokens(source: Source):
    """Yield statements as lists of (kind, text, start, end) tokens."""
    pos, n = 0, len(source.text)
    while pos < n:
        stmt, pos = statement_at(source, pos)
        if stmt:
            yield stmt


def statement_at(source: Source, pos: int) -> tuple[list[tuple[str, str, int, int]], int]:
    """Read the tokens of one statement starting at `pos`; return them and where it ended.

    A statement ends at a newline outside brackets, at `;`, or at the end of the text; a blank
    or comment-only line gives an empty statement.
    """
    stmt: list[tuple[str, str, int, int]] = []
    depth = 0
    for m in TOKEN.finditer(source.text, pos):
        kind = m.lastgroup
        if kind == "name" or kind == "num" or kind == "str":
            start, end = m.span(kind)
            stmt.append((kind, m[kind], start, end))
            continue
        if kind == "skip":
            continue
        if kind == "nl":
            if depth == 0:
                return stmt, m.end()
            continue
        start, end = m.span(kind)
        text = m[kind]
        if kind == "bad":
            raise AgradError(
                f"unexpected character {text!r}", Span(source, start, end), _bad_char_hint(text)
            )
        if text in OPEN:
            depth += 1
        elif text == ")" or text == "]":
            depth = max(depth - 1, 0)
        elif text == ";":
            return stmt, end
        stmt.append((kind, text, start, end))
    return stmt, len(source.text)


def _bad_char_hint(ch: str) -> str | None:
    hints = {
        "!": "there is no factorial or 'not'",
        "<": "comparisons are not part of the language",
        ">": "comparisons are not part of the language",
        "{": "use [ ] for arrays",
        "×": "write * for multiplication",
        "·": "write * for multiplication",
        "−": "write - (ASCII minus)",
        "÷": "write / for division",
        "²": "write x^2",
    }
    if ch not in hints and ch.isdigit():
        import unicodedata

        return f"write the ASCII digit {unicodedata.digit(ch, '?')}"
    return hints.get(ch)
