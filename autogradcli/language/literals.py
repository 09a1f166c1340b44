"""Array literals and command-line values: numbers only, nested lists of numbers."""

from __future__ import annotations

import re

import numpy as np

from ..errors import AgradError, Source, Span
from ..ops import CONSTANTS
from .lexer import MAX_NESTING, tokens


class Reporter:
    """Raises errors that point into one source."""

    def __init__(self, source: Source):
        self.source = source

    def span(self, start: int, end: int) -> Span:
        """A Span into this source."""
        return Span(self.source, start, end)

    def fail(self, message: str, start: int, end: int, hint: str | None = None):
        """Raise an AgradError at [start, end)."""
        raise AgradError(message, self.span(start, end), hint)

    def nesting_error(self, start: int, end: int) -> None:
        """Refuse nesting deeper than MAX_NESTING."""
        self.fail(
            f"brackets are nested more than {MAX_NESTING:,} deep",
            start,
            end,
            "split the expression into named steps: t1 = ...; t2 = f(t1)",
        )


MAX_DIMS = 32  # NumPy's own limit is 32 or 64, depending on its version


def read_array(p, toks: list, i: int) -> tuple[np.ndarray, int, int]:
    """Read `[1, -2, [3]]`-style literals; returns (value, end offset, index of ']')."""
    start = toks[i][2]
    rows: list[list] = []
    expect = True
    n = len(toks)
    while i < n:
        kind, text, s, e = toks[i]
        if text == "[" and expect:
            if len(rows) >= MAX_NESTING:
                p.nesting_error(s, e)
            if len(rows) >= MAX_DIMS:
                p.fail(
                    f"an array literal nested more than {MAX_DIMS} deep",
                    s,
                    e,
                    f"arrays have at most {MAX_DIMS} dimensions",
                )
            rows.append([])
        elif text == "]" and (not expect or (rows and not rows[-1])):
            done = rows.pop()
            if not done:
                p.fail("empty array", s - 1, e, "an array needs at least one number")
            if not rows:
                try:
                    return np.array(done, dtype=np.float64), e, i
                except ValueError:
                    p.fail(
                        "array rows have different lengths",
                        start,
                        e,
                        "every row of a nested array needs the same length",
                    )
            rows[-1].append(done)
            expect = False
        elif text == "," and not expect:
            expect = True
        elif expect and (kind == "num" or text in ("-", "+") or text in CONSTANTS):
            sign = 1.0
            while text in ("-", "+") and i + 1 < n:
                sign = -sign if text == "-" else sign
                i += 1
                kind, text, s, e = toks[i]
            if kind == "num":
                rows[-1].append(sign * float(text))
            elif text in CONSTANTS:
                rows[-1].append(sign * CONSTANTS[text])
            else:
                p.fail(
                    f"array literals hold numbers only, found {text!r}",
                    s,
                    e,
                    "compute with the array outside the brackets instead",
                )
            expect = False
        elif expect:
            p.fail(
                f"array literals hold numbers only, found {text!r}",
                s,
                e,
                "compute with the array outside the brackets instead",
            )
        else:
            p.fail(f"expected ',' or ']' in the array, found {text!r}", s, e)
        i += 1
    p.fail("'[' is never closed", start, start + 1, "add the missing ']'")
    raise AssertionError  # unreachable


def parse_value(source: Source, offset: int) -> np.ndarray:
    """Parse a value given on the command line: a signed number, pi/e, or an array literal."""
    p = Reporter(source)
    toks = [t for stmt in tokens(source) for t in stmt if t[2] >= offset]
    if not toks:
        p.fail("missing value", offset, offset + 1, "write NAME=VALUE, e.g. x=1.5 or x=[1,2]")
    if toks[0][1] == "[":
        value, _, last = read_array(p, toks, 0)
        if last + 1 < len(toks):
            extra = toks[last + 1]
            p.fail(f"unexpected {extra[1]!r} after the array", extra[2], extra[3])
        return value
    k, sign = 0, 1.0
    while k < len(toks) - 1 and toks[k][1] in ("-", "+"):
        sign = -sign if toks[k][1] == "-" else sign
        k += 1
    kind, text, start, end = toks[k]
    if kind != "num" and text not in CONSTANTS:
        p.fail(
            f"expected a number or an array such as [1, 2], found {text!r}",
            start,
            end,
            "write NAME=VALUE, e.g. x=1.5 or x=[1,2]",
        )
    if k + 1 < len(toks):
        extra = toks[k + 1]
        p.fail(
            f"unexpected {extra[1]!r} after the number",
            extra[2],
            extra[3],
            "write arrays in brackets: x=[1,2,3]",
        )
    return np.array(sign * (float(text) if kind == "num" else CONSTANTS[text]))


RANGE_DIRECTIVE = r"#[ \t]*range[ \t]*:([^\n#]*)"  # a later # starts a comment
_NUM = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[-+]?pi|[-+]?e"
RANGE_ITEM = rf"\s*([^\W\d]\w*)\s+in\s+\[\s*({_NUM})\s*,\s*({_NUM})\s*\]\s*(?:,|$)"


def range_bound(text: str) -> float:
    """A number in a range directive: decimal, or (signed) pi or e."""
    sign = -1.0 if text.startswith("-") else 1.0
    bare = text.lstrip("+-")
    return sign * CONSTANTS[bare] if bare in CONSTANTS else float(text)


def _directive_items(p: Reporter, directive: str, item: str, what: str, example: str):
    """Yield (item match, offset of its text) for every `# what: ...` directive.

    Refuses anything that is not a comma-separated list of items, and a name that is not an
    input (of the file or of its claims about functions), pointing at it. The patterns compile
    on first use (`re` keeps them).
    """
    g = p.graph
    rules = getattr(p, "rules", None)
    known = [*g.input_ids, *(rules.q.graph.input_ids if rules is not None else ())]
    item_re = re.compile(item)
    for m in re.finditer(directive, p.source.text):
        body, offset = m[1], m.start(1)
        pos = 0
        while pos < len(body.rstrip()):
            item = item_re.match(body, pos)
            if item is None:
                skip = len(body[pos:]) - len(body[pos:].lstrip())
                p.fail(
                    f"malformed {what} directive",
                    offset + pos + skip,
                    m.end(),
                    f"write: # {what}: {example}",
                )
            if item[1] not in known:
                p.fail(
                    f"{what} for '{item[1]}', which is not an input",
                    offset + item.start(1),
                    offset + item.end(1),
                    f"the inputs are: {', '.join(dict.fromkeys(known)) or 'none'}",
                )
            yield item, offset
            pos = item.end()


def read_ranges(p: Reporter) -> None:
    """Read `# range: x in [0.1, 5], y in [-1, 1]` directives into the graph's ranges."""
    for item, offset in _directive_items(
        p, RANGE_DIRECTIVE, RANGE_ITEM, "range", "x in [0.1, 5], y in [-1, 1]"
    ):
        lo, hi = range_bound(item[2]), range_bound(item[3])
        if not lo < hi:
            p.fail(
                f"empty range for '{item[1]}': {item[2]} is not below {item[3]}",
                offset + item.start(2),
                offset + item.end(3),
                "write [low, high]",
            )
        p.graph.ranges[item[1]] = (lo, hi, p.span(offset + item.start(1), offset + item.end(1)))


SHAPE_DIRECTIVE = r"#[ \t]*shape[ \t]*:([^\n#]*)"  # a later # starts a comment
SHAPE_ITEM = r"\s*([^\W\d]\w*)\s*\(\s*((?:[0-9]+\s*,?\s*)*)\)\s*(?:,|$)"


def read_shapes(p: Reporter) -> None:
    """Read `# shape: w (2), W (3, 2)` directives: the array shapes `agrad check` samples."""
    for item, _ in _directive_items(p, SHAPE_DIRECTIVE, SHAPE_ITEM, "shape", "w (2), W (3, 2)"):
        p.graph.shapes[item[1]] = tuple(int(d) for d in re.findall(r"[0-9]+", item[2]))
