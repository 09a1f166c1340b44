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
    padded,
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
BLOCK_LINES = 1 << 17  # lines laid out at once
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
    pad = padded(text)
    b = blank(pad[: len(text)], text)
    toks = tokens(b)
    if toks is None:
        return None
    return _Layout(graph, pad, toks, parse_line).run()


class _Layout:
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
        code[ops] = 10 + OP_CODE[self.b[self.start[ops]]] + 5 * follows[ops]
        special = np.zeros(n, dtype=bool)  # function names and named constants: by name
        special[:-1] = (kind[1:] == LP) & (self.line[1:] == self.line[:-1])
        special |= self.reserved[self.name_id]  # (-1 for other tokens: masked next)
        special &= kind == NAME
        code[special] = BIG + self.name_id[special]
        del ops, follows, special
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

    def lay_out(self, groups: dict, templates: dict) -> tuple[str, int] | None:
        """Number every node and fill the graph, a block of lines at a time (the arrays of a
        block are all that grows with the file, beside the graph itself); None on a misused
        name."""
        n_names = len(self.words)
        targets = self.name_id[self.first[self.rows]]
        if (np.bincount(targets, minlength=n_names) > 1).any():
            return None  # assigned twice
        self.def_line = np.full(n_names, -1, dtype=INT)
        self.def_line[targets] = self.rows
        n_lines = int(self.line.max()) + 1
        per_line = np.zeros(n_lines, dtype=np.int64)
        most = n_names - len(targets)  # inputs: names never assigned
        for key, (rows, _) in groups.items():
            t = templates[key]
            per_line[rows] = len(t.kind)
            most += len(rows) * int((t.kind != NAME_ATOM).sum())  # ops and constants
        out = _Out(most, n_lines, 2 * n_names)
        self.op_names: dict[str, int] = {}
        for lo in range(0, n_lines, BLOCK_LINES):
            hi = min(lo + BLOCK_LINES, n_lines)
            ev = self.events(groups, templates, lo, hi, per_line[lo:hi])
            if not self.block(ev, out, lo, hi):
                return None
        return self.fill(out)

    def events(self, groups: dict, templates: dict, lo: int, hi: int, per_line) -> dict:
        """The events of lines lo..hi at their places: line order, then the template's."""
        offset = np.cumsum(per_line) - per_line
        total = int(per_line.sum())
        fields = {"kind": np.int8, "sign": np.int8, "op": np.int16, "tok": INT, "arg0": INT,
                  "arg1": INT, "first": INT, "last": INT}  # fmt: skip
        ev = {k: np.empty(total, dtype=t) for k, t in fields.items()}
        ev["result"] = np.full(hi - lo, -1, dtype=INT)
        for key, (rows, f) in groups.items():
            a, b = np.searchsorted(rows, [lo, hi])
            if a == b:
                continue
            t, rows, f = templates[key], rows[a:b] - lo, f[a:b]
            base = offset[rows]
            pos = base[:, None] + np.arange(len(t.kind))
            f = f[:, None].astype(INT)
            ops = [self.op_names.setdefault(o, len(self.op_names)) for o in t.op]
            ev["kind"][pos] = t.kind
            ev["sign"][pos] = t.sign
            ev["op"][pos] = np.array(ops, dtype=np.int16)
            ev["tok"][pos] = np.where(t.tok >= 0, f + t.tok, -1)
            ev["arg0"][pos] = np.where(t.arg0 >= 0, base[:, None] + t.arg0, -1)
            ev["arg1"][pos] = np.where(t.arg1 >= 0, base[:, None] + t.arg1, -1)
            ev["first"][pos] = f + t.first
            ev["last"][pos] = f + t.last
            ev["result"][rows] = base + t.result
        return ev

    def block(self, ev: dict, out: _Out, lo: int, hi: int) -> bool:
        """Give the events of lines lo..hi their nodes and write those into `out`."""
        kind, tok = ev["kind"], ev["tok"]
        n_names, def_line = len(self.words), self.def_line
        is_name = kind == NAME_ATOM
        u = np.where(is_name, self.name_id[np.maximum(tok, 0)], -1)
        defined = is_name & (def_line[np.maximum(u, 0)] >= 0)
        if (def_line[u[defined]] >= self.line[tok[defined]]).any():
            return False  # used before (or while) it is assigned
        fresh = is_name & ~defined
        named = kind == NAMED_CONST
        key = np.full(len(kind), -1, dtype=INT)
        key[fresh] = u[fresh]
        key[named] = n_names + self.name_id[tok[named]]
        if not self.numbers(ev, key, out):
            return False
        keyed = np.flatnonzero(key >= 0)
        _, first_of = np.unique(key[keyed], return_index=True)
        firsts = keyed[first_of]
        makers = firsts[out.owner[key[firsts]] < 0]  # first uses in the file
        creates = kind == OPERATION
        creates[makers] = True
        value = np.cumsum(creates, dtype=INT)
        value += out.nodes - 1
        value[~creates] = -1
        out.owner[key[makers]] = value[makers]
        value[keyed] = out.owner[key[keyed]]
        # An assigned name stands for its line's value, which may itself be an alias.
        rows = self.rows[np.searchsorted(self.rows, lo) : np.searchsorted(self.rows, hi)]
        used = def_line[u[defined]]
        results = ev["result"][rows - lo]
        for _ in range(64):
            out.result[rows] = value[results]
            new = out.result[used]
            if (new == value[defined]).all():
                break
            value[defined] = new
        else:
            return False  # a chain of aliases too long to follow this way
        if (value < 0).any():
            return False
        made = np.flatnonzero(creates)
        at = slice(out.nodes, out.nodes + len(made))
        out.kind[at] = kind[made]
        if self.folds(ev, value, defined, out):
            return False
        out.op[at] = ev["op"][made]
        out.start[at] = self.start[ev["first"][made]]
        out.end[at] = self.end[ev["last"][made]]
        op = kind[made] == OPERATION
        for column, arg in ((out.col0, ev["arg0"][made]), (out.col1, ev["arg1"][made])):
            column[at] = np.where(op & (arg >= 0), value[np.maximum(arg, 0)], -1)
        out.made_by_line[rows] = kind[results] == OPERATION
        inputs = made[kind[made] == NAME_ATOM]
        out.inputs.append((value[inputs], key[inputs]))
        for i in made[kind[made] == NAMED_CONST].tolist():
            word = decode(self.words[key[i] - n_names : key[i] - n_names + 1])[0]
            self.graph.consts[int(value[i])] = np.asarray(CONSTANTS[word], dtype=np.float64)
            out.named.append((int(value[i]), word))
        for i in made[kind[made] == NUM_ATOM].tolist():
            v = out.values[key[i] - out.base]
            self.graph.consts[int(value[i])] = np.asarray(v, dtype=np.float64)
        out.nodes += len(made)
        return True

    def numbers(self, ev: dict, key: np.ndarray, out: _Out) -> bool:
        """Key each number event by its value (sign included), in the file's table of values;
        False on a number the line parser must explain."""
        pos = np.flatnonzero(ev["kind"] == NUM_ATOM)
        if not len(pos):
            return True
        t = ev["tok"][pos]
        s, e = self.start[t], self.end[t]
        pieces = list(pieces_of(self.win, s, e))
        ids, first = number(pieces)
        words = decode(texts(pieces, first))
        if count_class(pieces, LETTER).any() and not all(map(NUMBER.fullmatch, words)):
            return False  # `2x`, `1e`: the line-by-line parser explains
        dots = count_class(pieces, DOT)
        if (dots > 1).any() or (dots == e - s).any():
            return False  # `1.2.3` or a lone '.'
        pair = ids.astype(np.int64) * 2 + (ev["sign"][pos] < 0)
        uniq, inverse = np.unique(pair, return_inverse=True)
        keys = np.empty(len(uniq), dtype=np.int64)
        for k, p in enumerate(uniq.tolist()):
            v = float(words[p // 2])
            keys[k] = out.value_key(-v if p % 2 else v)
        out.grow()
        key[pos] = keys[inverse.ravel()]
        return True

    def folds(self, ev: dict, value, defined, out: _Out) -> bool:
        """Whether a unary minus applies to a name that stands for a number (`c = 2`,
        `w = -c`): the parser folds that into a constant, unlike the template's `neg`."""
        neg = self.op_names.get("neg")
        if neg is None:
            return False
        arg = ev["arg0"][(ev["kind"] == OPERATION) & (ev["op"] == neg)]
        named = arg[defined[arg]]
        return bool(len(named)) and bool((out.kind[value[named]] == NUM_ATOM).any())

    def fill(self, out: _Out) -> tuple[str, int]:
        """Write the laid-out nodes into the graph's lists and tables."""
        g, words, n = self.graph, self.words, out.nodes
        g.ops = np.array(list(self.op_names), dtype=object)[out.op[:n]].tolist()
        g.starts = array("q")
        g.starts.frombytes(memoryview(out.start[:n].astype(np.int64)).cast("B"))
        g.ends = array("q")
        g.ends.frombytes(memoryview(out.end[:n].astype(np.int64)).cast("B"))
        del out.op, out.start, out.end  # freed before the next copies are made
        g.attrs = [None] * n
        g.set_columns(out.col0[:n].astype(np.int64), out.col1[:n].astype(np.int64))
        del out.col0, out.col1
        nodes = np.concatenate([a for a, _ in out.inputs])
        input_names = decode(words[np.concatenate([k for _, k in out.inputs])])
        g.input_ids = dict(zip(input_names, nodes.tolist(), strict=True))
        targets = words[self.name_id[self.first[self.rows]]]
        results = out.result[self.rows]
        by_line = out.made_by_line[self.rows]  # an op made by the line; atoms keep their names
        named = out.named

        def fill() -> tuple[list, dict]:
            """Each node's name and the name table: a million strings, made when asked for."""
            names = np.full(n, None, dtype=object)
            names[nodes] = input_names
            for i, word in named:
                names[i] = word
            texts_ = decode(targets)
            names[results[by_line]] = np.array(texts_, dtype=object)[by_line]
            return names.tolist(), dict(zip(texts_, results.tolist(), strict=True))

        g.defer_names(fill)
        return decode(targets[-1:])[0], int(results[-1])


class _Out:
    """The nodes laid out so far, in arrays sized for the most the file can make."""

    def __init__(self, most: int, n_lines: int, base: int):
        self.nodes = 0
        self.kind = np.empty(most, dtype=np.int8)
        self.op = np.empty(most, dtype=np.int16)
        self.start, self.end = np.empty(most, dtype=INT), np.empty(most, dtype=INT)
        self.col0, self.col1 = np.empty(most, dtype=INT), np.empty(most, dtype=INT)
        self.result = np.full(n_lines, -1, dtype=INT)  # each line's value
        self.made_by_line = np.zeros(n_lines, dtype=bool)
        self.base = base  # keys from here on are numbers, by value
        self.owner = np.full(base, -1, dtype=INT)  # node of each key (names, constants, values)
        self.by_repr: dict[str, int] = {}
        self.values: list[float] = []
        self.inputs: list[tuple[np.ndarray, np.ndarray]] = []
        self.named: list[tuple[int, str]] = []

    def value_key(self, v: float) -> int:
        """The key of a number, by its repr (as the parser interns them)."""
        k = self.by_repr.setdefault(repr(v), len(self.by_repr))
        if k == len(self.values):
            self.values.append(v)
        return self.base + k

    def grow(self) -> None:
        """Make room in `owner` for the values keyed so far."""
        need = self.base + len(self.values)
        if need > len(self.owner):
            more = np.full(max(need - len(self.owner), len(self.owner) // 2), -1, dtype=INT)
            self.owner = np.concatenate([self.owner, more])
