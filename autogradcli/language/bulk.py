"""Whole-file parsing with array operations, for large files of assignments.

A generated file of a million lines such as `v7 = v3 * v5`, `v8 = log(1 + v7^2)` or
`y = -(a + b) ** 2 / atan2(c, d)` is read with NumPy over its bytes instead of one parse per
line: bytes are classified and cut into tokens, names are numbered by sorting hashes of their
bytes, and lines are grouped by their shape (the sequence of token kinds, operators, function
names and named constants). One line of each shape is parsed by the line-by-line parser itself,
with its names and numbers replaced by placeholders; the nodes it makes, in its order, with its
spans, become a template that is laid over every line of that shape at once. The nodes are then
numbered exactly as the line-by-line parser numbers them (inputs and constants at their first
use, equal numbers shared, aliases sharing their node).

Indices and keyword values are literals: their tokens join the shape by their text (`x[0]`
and `x[1]` are two shapes; `sum(W, axis=1)` one), and the template keeps them as written, so
the attributes its nodes carry (an index key, an axis) are those of every line of the shape.

Anything the templates cannot stand for (non-ASCII text, `;`, `.T`, a number with an
exponent, a name used before it is assigned or assigned twice, a bare expression, more shapes
than MAX_SHAPES, any line the parser rejects) makes `build` return None; the line-by-line
parser then reads the file and reports any error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import AgradError
from ..graph import CONST, INPUT, Graph
from ..ops import CONSTANTS
from .bulk_lex import (
    COLON,
    COMMA,
    DOT,
    EQ,
    INT,
    LB,
    LETTER,
    LP,
    NAME,
    NUM,
    OP,
    RB,
    RP,
    blank,
    count_class,
    number,
    padded,
    pieces_of,
    texts,
    tokens,
    windows,
)
from .bulk_nodes import NAME_ATOM, NAMED_CONST, NUM_ATOM, OPERATION, Placement
from .lexer import RESERVED

RESERVED_KEYS = np.array(
    [int.from_bytes(w.encode()[:8], "little") for w in sorted(RESERVED)], dtype=np.uint64
)
MAX_SHAPES = 5_000  # more distinct line shapes than this: the line-by-line parser is better
OP_CHARS = "+-*/^%"
OP_CODE = np.zeros(256, dtype=np.int32)
OP_CODE[[ord(c) for c in OP_CHARS]] = np.arange(len(OP_CHARS))
# A token's code in a line's shape: kinds, operators (and whether another follows at once, as
# in `**`), and for function names and named constants the name itself (BIG + its id).
KIND_LUT = np.zeros(16, dtype=np.int32)
KIND_LUT[[LETTER, NUM, LP, RP, COMMA, EQ, LB, RB, COLON]] = [1, 2, 30, 31, 32, 33, 34, 35, 36]
BIG = 1_000


@dataclass
class Template:
    """The events (nodes) one line of a shape makes, with token offsets within the line."""

    kind: np.ndarray  # NAME_ATOM, NUM_ATOM, NAMED_CONST or OPERATION
    tok: np.ndarray  # the atom's token (offset in the line), or -1
    sign: np.ndarray  # +1, or -1 for a number folded under unary minus
    op: list[str]  # the op name of each event (INPUT, CONST for atoms)
    attrs: list  # each event's attributes (None, or an index key, an axis, ...)
    arg0: np.ndarray  # operand events (slots in the line), or -1
    arg1: np.ndarray
    first: np.ndarray  # the span's first and last token (offsets in the line)
    last: np.ndarray
    result: int  # the slot of the line's value


def build(graph: Graph, parse_line: Callable[[str, str], Graph]) -> tuple[str, int] | None:
    """Fill an empty graph from its source; the last assigned name and its node, or None to
    decline. `parse_line(text, name)` is the line-by-line parser, which makes the templates."""
    text = graph.source.text
    if not text.isascii() or len(text) >= 2**31:
        return None
    pad = padded(text)
    b = blank(pad[: len(text)], text)
    toks = tokens(b, brackets=any(c in text for c in "[]:"))
    if toks is None:
        return None
    return _Layout(graph, pad, toks, parse_line).run()


class _Layout(Placement):
    """Lines grouped by shape, a template per shape, then the nodes."""

    def __init__(self, graph: Graph, pad: np.ndarray, toks: dict, parse_line: Callable):
        self.graph, self.b, self.parse_line = graph, pad[:-8], parse_line
        self.start, self.end, self.kind = toks["start"], toks["end"], toks["kind"]
        self.line = toks["line"]
        self.win = windows(pad)

    def run(self) -> tuple[str, int] | None:
        """Lay out every node, or None to decline."""
        if not self.lines() or not self.number_names():
            return None
        groups = self.shapes()
        if groups is None:
            return None
        templates = {}
        for key, (rows, _) in groups.items():
            t = self.template(int(rows[0]))
            if t is None:
                return None
            templates[key] = t
        del self.code
        return self.lay_out(groups, templates)

    def lines(self) -> bool:
        """Each line's first token and length; every line must be `name = ...`."""
        counts = np.bincount(self.line)
        self.first = np.cumsum(counts) - counts
        self.rows = np.flatnonzero(counts)
        self.count = counts
        f = self.first[self.rows]
        if not len(self.rows) or (counts[self.rows] < 3).any():
            return False
        return bool(((self.kind[f] == NAME) & (self.kind[f + 1] == EQ)).all())

    def number_names(self) -> bool:
        """Name ids and strings, and which names are reserved words."""
        kind = self.kind
        tok = np.flatnonzero(kind == NAME)
        pieces = list(pieces_of(self.win, self.start[tok], self.end[tok]))
        if count_class(pieces, DOT).any():
            return False  # `a.b`: the line-by-line parser explains
        ids, first = number(pieces)
        name_id = np.full(len(kind), -1, dtype=INT)
        name_id[tok] = ids
        words = texts(pieces, first)
        maybe = np.flatnonzero(np.isin(pieces[0][first], RESERVED_KEYS))
        reserved = np.zeros(len(words), dtype=bool)
        reserved[maybe] = np.isin(words[maybe], [w.encode() for w in sorted(RESERVED)])
        self.name_id, self.words, self.reserved = name_id, words, reserved
        return True

    def shapes(self) -> dict | None:
        """Lines grouped by their shape: {key: (rows, first tokens)}, each group checked in
        full against its first line (a 32-bit hash per line only proposes the groups)."""
        kind, n = self.kind, len(self.kind)
        code = KIND_LUT[kind]
        ops = kind == OP
        follows = np.zeros(n, dtype=bool)  # another operator right after: `**`
        follows[:-1] = ops[1:] & (self.end[:-1] == self.start[1:])
        code[ops] = 10 + OP_CODE[self.b[self.start[ops]]] + len(OP_CHARS) * follows[ops]
        special = np.zeros(n, dtype=bool)  # function names and named constants: by name
        special[:-1] = (kind[1:] == LP) & (self.line[1:] == self.line[:-1])
        special |= self.reserved[self.name_id]  # (-1 for other tokens: masked next)
        special &= kind == NAME
        code[special] = BIG + self.name_id[special]
        del ops, follows, special
        self.literals(code)
        self.code = code
        first = self.first[self.rows]
        mix = np.arange(n, dtype=np.uint32)  # each token's place in its line, then the hash
        mix -= np.repeat(first.astype(np.uint32), self.count[self.rows])
        mix *= np.uint32(0x85EBCA6B)
        mix += code.view(np.uint32) * np.uint32(0x9E3779B1)
        mix ^= mix >> np.uint32(15)
        mix *= np.uint32(0x2C1B3C6D)
        h = np.add.reduceat(mix, first)
        del mix
        keys = self.count[self.rows].astype(np.uint64) << np.uint64(32) | h.astype(np.uint64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        if len(uniq) > MAX_SHAPES:
            return None
        order = np.argsort(inverse.astype(np.int16), kind="stable")  # a radix sort
        bounds = np.flatnonzero(np.diff(inverse[order])) + 1
        groups = {}
        for g, members in enumerate(np.split(order, bounds)):
            rows = self.rows[members]
            starts = self.first[rows]
            for j in range(int(self.count[rows[0]])):  # a column at a time: little memory
                column = code[starts + j]
                if (column != column[0]).any():
                    return None  # two shapes with one hash: rare; the line parser reads it
            groups[g] = (rows, self.first[rows])
        return groups

    def template(self, row: int) -> Template | None:
        """Parse one line with placeholders for its names and numbers; its nodes as events."""
        f, c = int(self.first[row]), int(self.count[row])
        if self.code[f] >= BIG:
            return None  # a reserved word assigned: the line-by-line parser explains
        parts, where, atoms, numbers = [], [], {}, {}
        at = 0
        for k in range(c):
            t = f + k
            kind, code = self.kind[t], self.code[t]
            if k == 0:
                piece = "zz_t"
            elif kind == NAME and code < BIG:
                piece = f"zz_v{k}"
                atoms[piece] = k
            elif kind == NUM and not self.lit[t]:
                numbers[float(1000 + k)] = k
                piece = str(1000 + k)
            else:
                piece = self.text(t)
            if k and self.start[t] > self.end[t - 1]:
                parts.append(" ")
                at += 1
            parts.append(piece)
            where.append((at, at + len(piece)))
            at += len(piece)
        try:
            g = self.parse_line("".join(parts) + "\n", "<shape>")
        except AgradError:
            return None
        if g.outputs != [("zz_t", g.symbols.get("zz_t"))]:
            return None
        starts = {s: k for k, (s, _) in enumerate(where)}
        ends = {e: k for k, (_, e) in enumerate(where)}
        m = len(g)
        kind = np.full(m, OPERATION, dtype=INT)
        tok = np.full(m, -1, dtype=INT)
        sign = np.ones(m, dtype=INT)
        args = np.full((m, 2), -1, dtype=INT)
        first, last = np.zeros(m, dtype=INT), np.zeros(m, dtype=INT)
        for i in range(m):
            op, s, e = g.ops[i], g.starts[i], g.ends[i]
            if s not in starts or e not in ends:
                return None
            first[i], last[i] = starts[s], ends[e]
            if op == INPUT:
                if g.names[i] not in atoms:
                    return None
                kind[i], tok[i] = NAME_ATOM, atoms[g.names[i]]
            elif op == CONST:
                if g.consts[i].ndim:
                    return None  # an array literal of numbers
                value = float(g.consts[i])
                if g.names[i] in CONSTANTS:
                    kind[i], tok[i] = NAMED_CONST, first[i]
                elif abs(value) in numbers:
                    kind[i], tok[i], sign[i] = NUM_ATOM, numbers[abs(value)], 1 if value > 0 else -1
                else:
                    return None
            else:
                ins = g.inputs[i]
                if len(ins) > 2:
                    return None
                args[i, : len(ins)] = ins
        return Template(kind, tok, sign, list(g.ops), list(g.attrs), args[:, 0], args[:, 1],
                        first, last, g.symbols["zz_t"])  # fmt: skip

    def literals(self, code: np.ndarray) -> None:
        """Flag the tokens of indices (`x[1:3]`) and keyword values (`axis=(0, 1)`), which
        are literals, and give them shape codes by their text."""
        kind, n = self.kind, len(self.kind)
        self.lit = np.zeros(n, dtype=bool)
        opens = np.flatnonzero(kind[1:] == LB) + 1  # `[` right after an operand: an index
        opens = opens[np.isin(kind[opens - 1], (NAME, NUM, RP, RB))]
        opens = opens[self.line[opens - 1] == self.line[opens]]
        closes = np.flatnonzero(kind == RB)
        eqs = np.flatnonzero(kind == EQ)  # one a line is the assignment's; more: keywords
        eqs = eqs[eqs - self.first[self.line[eqs]] > 1] if len(eqs) > len(self.rows) else eqs[:0]
        if not len(opens) and not len(eqs):
            return
        begin, stop = [], []  # flagged ranges [begin, stop), counted with bincount
        if len(opens) and len(closes):
            begin.append(opens + 1)
            stop.append(closes[np.minimum(np.searchsorted(closes, opens), len(closes) - 1)])
        if len(eqs):
            value = np.minimum(eqs + 1, n - 1)
            rps = np.flatnonzero(kind == RP)
            ends = np.flatnonzero((kind == RP) | (kind == COMMA))
            tuple_end = rps[np.minimum(np.searchsorted(rps, value), len(rps) - 1)] + 1
            plain_end = ends[np.minimum(np.searchsorted(ends, value), len(ends) - 1)]
            begin += [eqs - 1, value]  # the keyword's name, and its value
            stop += [eqs, np.where(kind[value] == LP, tuple_end, plain_end)]
        delta = np.bincount(np.concatenate(begin), minlength=n + 1)
        delta -= np.bincount(np.concatenate(stop), minlength=n + 1)
        self.lit = np.cumsum(delta[:n]) > 0
        nums = np.flatnonzero(self.lit & (kind == NUM))
        if len(nums):
            ids, _ = number(list(pieces_of(self.win, self.start[nums], self.end[nums])))
            code[nums] = BIG + len(self.words) + ids
        names = self.lit & (kind == NAME)
        code[names] = BIG + self.name_id[names]

    def text(self, t: int) -> str:
        """The text of token t."""
        return bytes(self.b[self.start[t] : self.end[t]]).decode("ascii")
