"""The array syntax of the language: indexing and slicing with literal indices (`x[0]`,
`x[-1]`, `x[1:3]`, `x[::2]`, `W[:, 0]`), `.T`, keyword arguments with literal values
(`sum(x, axis=1, keepdims=true)`) and array literals built from expressions (`[a, 2*b]`,
a `stack` of its elements).

Keyword values are literals: integers (signed), numbers, `true`, `false`, `none` and tuples
of integers such as `(0, 1)`. Shapes are checked when values are known (at evaluation),
where an error names the shapes and points at the call or the index.
"""

from __future__ import annotations

from typing import Any

from ..errors import suggest
from ..ops import Op
from .literals import Reporter

LITERAL_HINT = "keyword values are literals: 1, -1, 2.5, true, false, none or (0, 1)"
INDEX_HINT = "indices are literal integers and slices: x[0], x[-1], x[1:3], x[::2], W[:, 0]"
# The kind of value each keyword takes (checked at its position).
INTS, INT, BOOL, NUMBER, SHAPE = "ints", "int", "bool", "number", "shape"
KEYWORD_KINDS = {
    "axis": INTS,
    "axes": INTS,
    "keepdims": BOOL,
    "ddof": NUMBER,
    "shape": SHAPE,
    "k": INT,
    "offset": INT,
    "repeats": INT,
}
# `max(x)` and `min(x)` with one positional argument are reductions.
ONE_ARGUMENT = {"max": "amax", "min": "amin"}


class ArraySyntax(Reporter):
    """The parser's readers for indices, `.T`, keyword arguments and expression lists."""

    def call_keywords(self) -> dict[int, dict]:
        """Keyword arguments of the calls being read, by their place on the operator stack."""
        table = getattr(self, "_keywords", None)
        if table is None:
            table = self._keywords = {}
        return table

    def keyword(self, toks: list, i: int, slot: int, positional: int) -> int:
        """Read `name=literal` at toks[i] for the call at stack place `slot`; returns the
        index of the value's last token."""
        _, name, start, end = toks[i]
        entry = self.call_keywords().setdefault(slot, {"values": {}, "spans": {}, "after": None})
        if name in entry["values"]:
            self.fail(f"keyword '{name}' is given twice", start, end, "give it once")
        if entry["after"] is None:
            entry["after"] = positional
        value, last = self.literal(toks, i + 2, name)
        entry["values"][name] = value
        entry["spans"][name] = (start, end, toks[i + 2][2], toks[last][3])
        nxt = toks[last + 1] if last + 1 < len(toks) else None
        if nxt is None or nxt[1] not in (",", ")"):
            where = nxt if nxt is not None else toks[last]
            self.fail(
                f"the value of {name}= must be a literal, found {where[1]!r} after it",
                where[2],
                where[3],
                LITERAL_HINT,
            )
        return last

    def literal(self, toks: list, i: int, name: str) -> tuple[Any, int]:
        """A keyword's literal value starting at toks[i], and the index of its last token."""
        if i >= len(toks):
            last = toks[-1]
            self.fail(f"{name}= needs a value", last[2], last[3], LITERAL_HINT)
        _, text, start, end = toks[i]
        if text in ("true", "false", "none"):
            return {"true": True, "false": False, "none": None}[text], i
        if text == "(":
            items: list[int] = []
            j = i + 1
            while j < len(toks) and toks[j][1] != ")":
                if toks[j][1] == "," and items:
                    j += 1
                    continue
                value, j = self.number(toks, j, name)
                if not isinstance(value, int):
                    self.fail(f"{name}= takes a tuple of integers", toks[j][2], toks[j][3])
                items.append(value)
                j += 1
            if j >= len(toks):
                self.fail("'(' is never closed", start, end, "add the missing ')'")
            return tuple(items), j
        return self.number(toks, i, name)

    def number(self, toks: list, i: int, name: str) -> tuple[int | float, int]:
        """A signed integer or number at toks[i]; an int when written without a point."""
        sign, start = 1, toks[i][2]
        while i < len(toks) and toks[i][1] in ("-", "+"):
            sign = -sign if toks[i][1] == "-" else sign
            i += 1
        if i >= len(toks) or toks[i][0] != "num":
            tok = toks[min(i, len(toks) - 1)]
            found = "nothing" if i >= len(toks) else repr(tok[1])
            self.fail(
                f"the value of {name}= must be a literal, found {found}",
                tok[2] if i < len(toks) else start,
                tok[3],
                LITERAL_HINT,
            )
        text = toks[i][1]
        return (sign * int(text) if text.isdigit() else sign * float(text)), i

    def call_attrs(self, op: Op, call: str, entry: dict | None, start: int, end: int):
        """The checked attributes of a call from its keywords (None without any)."""
        missing = [k for k in required(op) if not entry or k not in entry["values"]]
        if missing:
            self.fail(
                f"{call}() needs the keyword {missing[0]}=",
                start,
                end,
                f"write {op.syntax}, e.g. reshape(x, shape=(2, 3))"
                if missing[0] == "shape"
                else f"write {op.syntax}",
            )
        if not entry:
            return None
        attrs = {}
        for name, value in entry["values"].items():
            k0, k1, v0, v1 = entry["spans"][name]
            if name not in op.keywords:
                allowed = ", ".join(op.keywords)
                self.fail(
                    f"{call}() has no keyword '{name}'"
                    + (f"; its keywords are {allowed}" if allowed else ""),
                    k0,
                    k1,
                    (suggest(name, list(op.keywords)) if allowed else None)
                    or (f"write {op.syntax}" if allowed else f"{call}() takes no keywords"),
                )
            attrs[name] = self.keyword_value(name, value, v0, v1)
        return attrs

    def keyword_value(self, name: str, value: Any, start: int, end: int) -> Any:
        """Check a keyword's value against the kind it takes."""
        kind = KEYWORD_KINDS.get(name, NUMBER)
        ok = {
            INTS: value is None or _is_int(value) or _int_tuple(value),
            INT: _is_int(value),
            BOOL: isinstance(value, bool),
            NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
            SHAPE: _is_int(value) or _int_tuple(value),
        }[kind]
        if not ok:
            wants = {
                INTS: "an integer, a tuple of integers such as (0, 1), or none",
                INT: "an integer",
                BOOL: "true or false",
                NUMBER: "a number",
                SHAPE: "an integer or a tuple of integers such as (2, 3)",
            }[kind]
            self.fail(f"{name}= takes {wants}", start, end, LITERAL_HINT)
        if kind == SHAPE and _is_int(value):
            return (value,)
        return value

    def check_positional(self, args: list, entry: dict | None) -> None:
        """Refuse a positional argument written after a keyword one."""
        if entry and entry["after"] is not None and len(args) > entry["after"]:
            _, s, e = args[entry["after"]]
            self.fail(
                "a positional argument follows a keyword argument",
                s,
                e,
                "write the arrays first, then the keywords",
            )

    def index(self, toks: list, i: int, operands: list) -> int:
        """Read `[i, a:b:s, ...]` after an operand into an `index` node; returns the index
        of the closing ']'."""
        open_start = toks[i][2]
        parts: list[Any] = []
        fields: list[int | None] = [None]
        j = i + 1
        while j < len(toks):
            kind, text, start, end = toks[j]
            if text in ("]", ","):
                if len(fields) == 1 and fields[0] is None:
                    self.fail("an empty index", start, end, INDEX_HINT)
                parts.append(fields[0] if len(fields) == 1 else slice(*fields))
                fields = [None]
                if text == "]":
                    node, s, _ = operands.pop()
                    key = {"key": tuple(parts)}
                    operands.append((self.graph._add("index", (node,), s, end, key), s, end))
                    return j
            elif text == ":":
                if len(fields) == 3:
                    self.fail("a slice has at most two ':'", start, end, INDEX_HINT)
                fields.append(None)
            elif kind == "num" or text in ("-", "+"):
                if fields[-1] is not None:
                    self.fail(f"unexpected {text!r} in the index", start, end, INDEX_HINT)
                value, j = self.number(toks, j, "the index")
                if not isinstance(value, int):
                    self.fail("indices are integers", start, toks[j][3], INDEX_HINT)
                fields[-1] = value
            else:
                self.fail(f"an index must be a literal, found {text!r}", start, end, INDEX_HINT)
            j += 1
        self.fail("'[' is never closed", open_start, open_start + 1, "add the missing ']'")
        raise AssertionError  # unreachable

    def attribute(self, toks: list, i: int, operands: list) -> int:
        """Read `.T` after an operand (the transpose); returns the index of `T`."""
        _, _, start, end = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is None or nxt[1] != "T":
            self.fail(
                "only .T (the transpose) may follow a value after '.'",
                start,
                end if nxt is None else nxt[3],
                "call functions by name: transpose(x, axes=(1, 0))",
            )
        node, s, _ = operands.pop()
        operands.append((self.graph._add("transpose", (node,), s, nxt[3]), s, nxt[3]))
        return i + 1


def required(op: Op) -> tuple[str, ...]:
    """The keywords a call of `op` must give (its forward has no default for them)."""
    import inspect

    params = inspect.signature(op.forward).parameters
    return tuple(
        k for k in op.keywords if k in params and params[k].default is inspect.Parameter.empty
    )


def numbers_only(toks: list, i: int) -> bool:
    """True when the bracketed list at toks[i] holds numbers only (a constant array)."""
    depth = 0
    for kind, text, _, _ in toks[i:]:
        if text == "[":
            depth += 1
        elif text == "]":
            depth -= 1
            if depth == 0:
                return True
        elif kind != "num" and text not in (",", "-", "+", "pi", "e"):
            return False
    return True


def function_for(name: str, positional: int) -> str:
    """The registry op a call names: `max(x)` is `amax`, `max(x, y)` stays elementwise."""
    return ONE_ARGUMENT[name] if positional == 1 and name in ONE_ARGUMENT else name


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and all(_is_int(v) for v in value)
