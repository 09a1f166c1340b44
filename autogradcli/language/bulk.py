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

Anything the templates cannot stand for (non-ASCII text, `;`, brackets, a number with an
exponent, a name used before it is assigned or assigned twice, a bare expression, more shapes
than MAX_SHAPES, any line the parser rejects) makes `build` return None; the line-by-line
parser then reads the file and reports any error.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import AgradError
from ..graph import CONST, INPUT, Graph
from ..ops import CONSTANTS
from .bulk_lex import (
    COMMA,
    DOT,
    EQ,
    INT,
    LETTER,
    LP,
    NAME,
    NUM,
    OP,
    RP,
    blank,
    count_class,
    decode,
    number,
    pieces_of,
    texts,
    tokens,
    windows,
)
from .lexer import RESERVED

RESERVED_KEYS = np.array(
    [int.from_bytes(w.encode()[:8], "little") for w in sorted(RESERVED)], dtype=np.uint64
)
NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
MAX_SHAPES = 5_000  # more distinct line shapes than this: the line-by-line parser is better
OP_CHARS = "+-*/^"
OP_CODE = np.zeros(256, dtype=np.int32)
OP_CODE[[ord(c) for c in OP_CHARS]] = np.arange(len(OP_CHARS))
# A token's code in a line's shape: kinds, operators (and whether another follows at once, as
# in `**`), and for function names and named constants the name itself (BIG + its id).
KIND_LUT = np.zeros(16, dtype=np.int32)
KIND_LUT[[LETTER, NUM, LP, RP, COMMA, EQ]] = [1, 2, 30, 31, 32, 33]
BIG = 1_000
NAME_ATOM, NUM_ATOM, NAMED_CONST, OPERATION = range(4)


@dataclass
class Template:
    """The events (nodes) one line of a shape makes, with token offsets within the line."""

    kind: np.ndarray  # NAME_ATOM, NUM_ATOM, NAMED_CONST or OPERATION
    tok: np.ndarray  # the atom's token (offset in the line), or -1
    sign: np.ndarray  # +1, or -1 for a number folded under unary minus
    op: list[str]  # the op name of each event (INPUT, CONST for atoms)
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
    b = blank(np.frombuffer(text.encode("ascii"), dtype=np.uint8), text)
    toks = tokens(b)
    if toks is None:
        return None
    return _Layout(graph, b, toks, parse_line).run()


class _Layout:
    """Lines grouped by shape, a template per shape, then the nodes."""

    def __init__(self, graph: Graph, b: np.ndarray, toks: dict, parse_line: Callable):
        self.graph, self.b, self.parse_line = graph, b, parse_line
        self.start, self.end, self.kind = toks["start"], toks["end"], toks["kind"]
        self.line = toks["line"]
        self.win = windows(b)

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
        ev = self.events(groups, templates)
        del groups
        return self.resolve(ev)

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
        ops = np.flatnonzero(kind == OP)
        follows = np.zeros(len(ops), dtype=np.int32)
        inner = ops[ops < n - 1]
        follows[: len(inner)] = (kind[inner + 1] == OP) & (self.end[inner] == self.start[inner + 1])
        code[ops] = 10 + OP_CODE[self.b[self.start[ops]]] + 5 * follows
        names = np.flatnonzero(kind == NAME)
        inner = names[names < n - 1]
        call = np.zeros(len(names), dtype=bool)
        call[: len(inner)] = (kind[inner + 1] == LP) & (self.line[inner + 1] == self.line[inner])
        special = names[call | self.reserved[self.name_id[names]]]
        code[special] = BIG + self.name_id[special]
        self.code = code
        first = self.first[self.rows]
        pos = np.arange(n, dtype=np.int32)
        pos -= np.repeat(first.astype(np.int32), self.count[self.rows])
        mix = code.view(np.uint32) * np.uint32(0x9E3779B1)
        mix += pos.view(np.uint32) * np.uint32(0x85EBCA6B)
        mix ^= mix >> np.uint32(15)
        mix *= np.uint32(0x2C1B3C6D)
        h = np.add.reduceat(mix, first)
        keys = self.count[self.rows].astype(np.uint64) << np.uint64(32) | h.astype(np.uint64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        if len(uniq) > MAX_SHAPES:
            return None
        order = np.argsort(inverse.astype(np.int16), kind="stable")  # a radix sort
        bounds = np.flatnonzero(np.diff(inverse[order])) + 1
        groups = {}
        for g, members in enumerate(np.split(order, bounds)):
            rows = self.rows[members]
            c = int(self.count[rows[0]])
            codes = code[self.first[rows][:, None] + np.arange(c)]
            if not (codes == codes[0]).all():
                return None  # two shapes with one hash: rare; the line parser reads the file
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
            elif kind == NUM:
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
        return Template(kind, tok, sign, list(g.ops), args[:, 0], args[:, 1], first, last,
                        g.symbols["zz_t"])  # fmt: skip

    def text(self, t: int) -> str:
        """The text of token t."""
        return bytes(self.b[self.start[t] : self.end[t]]).decode("ascii")

    def events(self, groups: dict, templates: dict) -> dict:
        """Every event of every line at its place: line order, then the template's order."""
        n_lines = int(self.line.max()) + 1
        per_line = np.zeros(n_lines, dtype=np.int64)
        for key, (rows, _) in groups.items():
            per_line[rows] = len(templates[key].kind)
        offset = np.cumsum(per_line) - per_line
        total = int(per_line.sum())
        fields = {"kind": np.int8, "sign": np.int8, "op": np.int16, "tok": INT, "arg0": INT,
                  "arg1": INT, "first": INT, "last": INT}  # fmt: skip
        ev = {k: np.empty(total, dtype=t) for k, t in fields.items()}
        ev["result"] = np.full(n_lines, -1, dtype=np.int64)
        op_names: dict[str, int] = {}
        for key, (rows, f) in groups.items():
            t = templates[key]
            base = offset[rows]
            pos = base[:, None] + np.arange(len(t.kind))
            f = f[:, None].astype(INT)
            ops = np.array([op_names.setdefault(o, len(op_names)) for o in t.op], dtype=np.int16)
            ev["kind"][pos] = t.kind
            ev["sign"][pos] = t.sign
            ev["op"][pos] = ops
            ev["tok"][pos] = np.where(t.tok >= 0, f + t.tok, -1)
            ev["arg0"][pos] = np.where(t.arg0 >= 0, base[:, None] + t.arg0, -1)
            ev["arg1"][pos] = np.where(t.arg1 >= 0, base[:, None] + t.arg1, -1)
            ev["first"][pos] = f + t.first
            ev["last"][pos] = f + t.last
            ev["result"][rows] = base + t.result
        self.op_names = list(op_names)
        return ev

    def resolve(self, ev: dict) -> tuple[str, int] | None:
        """Give each event its node and fill the graph, or None on a misused name."""
        kind, tok = ev["kind"], ev["tok"]
        n_names = len(self.words)
        t_tok, t_line = self.first[self.rows], self.rows
        targets = self.name_id[t_tok]
        if (np.bincount(targets, minlength=n_names) > 1).any():
            return None  # assigned twice
        def_line = np.full(n_names, -1, dtype=INT)
        def_line[targets] = t_line
        is_name = kind == NAME_ATOM
        u = np.where(is_name, self.name_id[np.maximum(tok, 0)], -1)
        defined = is_name & (def_line[np.maximum(u, 0)] >= 0)
        if (def_line[u[defined]] >= self.line[tok[defined]]).any():
            return None  # used before (or while) it is assigned
        fresh = is_name & ~defined
        named = kind == NAMED_CONST
        key = np.full(len(kind), -1, dtype=INT)
        key[fresh] = u[fresh]
        key[named] = n_names + self.name_id[tok[named]]
        values = self.numbers(ev, 2 * n_names, key)
        if values is None:
            return None
        keyed = np.flatnonzero(key >= 0)
        _, first_of = np.unique(key[keyed], return_index=True)
        creates = kind == OPERATION
        creates[keyed[first_of]] = True
        node = np.cumsum(creates, dtype=INT)
        node -= 1
        value = np.where(creates, node, INT(-1))
        del node
        owner = np.full(2 * n_names + len(values), -1, dtype=INT)
        owner[key[keyed[first_of]]] = value[keyed[first_of]]
        value[keyed] = owner[key[keyed]]
        # An assigned name stands for its line's value, which may itself be an alias.
        result_line = np.full(len(ev["result"]), -1, dtype=INT)
        used = def_line[u[defined]]
        for _ in range(64):
            result_line[t_line] = value[ev["result"][t_line]]
            new = result_line[used]
            if (new == value[defined]).all():
                break
            value[defined] = new
        else:
            return None  # a chain of aliases too long to follow this way
        if (value < 0).any() or self.folds(ev, value, creates, defined):
            return None
        return self.fill(ev, value, creates, key, values, result_line)

    def folds(self, ev: dict, value, creates, defined) -> bool:
        """Whether a unary minus applies to a name that stands for a number (`c = 2`,
        `w = -c`): the parser folds that into a constant, unlike the template's `neg`."""
        if "neg" not in self.op_names:
            return False
        neg = np.flatnonzero((ev["kind"] == OPERATION) & (ev["op"] == self.op_names.index("neg")))
        arg = ev["arg0"][neg]
        named = arg[defined[arg]]
        if not len(named):
            return False
        node_kind = ev["kind"][creates]
        return bool((node_kind[value[named]] == NUM_ATOM).any())

    def numbers(self, ev: dict, base: int, key: np.ndarray) -> list[float] | None:
        """Key each number event by its value (sign included) from `base` on; the values."""
        pos = np.flatnonzero(ev["kind"] == NUM_ATOM)
        if not len(pos):
            return []
        t = ev["tok"][pos]
        s, e = self.start[t], self.end[t]
        pieces = list(pieces_of(self.win, s, e))
        ids, first = number(pieces)
        words = decode(texts(pieces, first))
        if count_class(pieces, LETTER).any() and not all(map(NUMBER.fullmatch, words)):
            return None  # `2x`, `1e`: the line-by-line parser explains
        dots = count_class(pieces, DOT)
        if (dots > 1).any() or (dots == e - s).any():
            return None  # `1.2.3` or a lone '.'
        sign = ev["sign"][pos]
        pair = ids.astype(np.int64) * 2 + (sign < 0)
        uniq, inverse = np.unique(pair, return_inverse=True)
        by_repr: dict[str, int] = {}
        values: list[float] = []
        keys = np.empty(len(uniq), dtype=np.int64)
        for k, p in enumerate(uniq.tolist()):
            v = float(words[p // 2])
            v = -v if p % 2 else v
            keys[k] = by_repr.setdefault(repr(v), len(by_repr))
            if keys[k] == len(values):
                values.append(v)
        key[pos] = base + keys[inverse.ravel()]
        return values

    def fill(self, ev, value, creates, key, values, result_line) -> tuple[str, int]:
        """Write the nodes into the graph's lists and tables."""
        g, words = self.graph, self.words
        n_names = len(words)
        made = np.flatnonzero(creates)
        kind = ev["kind"][made]
        n = len(made)
        g.ops = np.array(self.op_names, dtype=object)[ev["op"][made]].tolist()
        g.starts = array("q", self.start[ev["first"][made]].astype(np.int64).tobytes())
        g.ends = array("q", self.end[ev["last"][made]].astype(np.int64).tobytes())
        g.attrs = [None] * n
        op = kind == OPERATION
        a0, a1 = ev["arg0"][made], ev["arg1"][made]
        first = np.where(op & (a0 >= 0), value[np.maximum(a0, 0)], -1)
        second = np.where(op & (a1 >= 0), value[np.maximum(a1, 0)], -1)
        g.set_columns(first.astype(np.int64), second.astype(np.int64))

        names = np.full(n, None, dtype=object)
        nodes = np.flatnonzero(kind == NAME_ATOM)
        input_names = decode(words[key[made[nodes]]])
        names[nodes] = input_names
        g.input_ids = dict(zip(input_names, nodes.tolist(), strict=True))
        nodes = np.flatnonzero(kind == NAMED_CONST)
        for i, k in zip(nodes.tolist(), key[made[nodes]].tolist(), strict=True):
            word = decode(words[k - n_names : k - n_names + 1])[0]
            g.consts[i] = np.asarray(CONSTANTS[word], dtype=np.float64)
            names[i] = word
        nodes = np.flatnonzero(kind == NUM_ATOM)
        for i, k in zip(nodes.tolist(), key[made[nodes]].tolist(), strict=True):
            g.consts[i] = np.asarray(values[k - 2 * n_names], dtype=np.float64)
        targets = words[self.name_id[self.first[self.rows]]]
        results = result_line[self.rows]
        result_kind = ev["kind"][ev["result"][self.rows]]
        by_line = result_kind == OPERATION  # an op made by the line; atoms keep their names

        def fill() -> tuple[list, dict]:
            """Each node's name and the name table: a million strings, made when asked for."""
            texts_ = decode(targets)
            names[results[by_line]] = np.array(texts_, dtype=object)[by_line]
            return names.tolist(), dict(zip(texts_, results.tolist(), strict=True))

        g.defer_names(fill)
        return decode(targets[-1:])[0], int(results[-1])
