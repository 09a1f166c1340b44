"""Whole-file parsing with array operations, for large files made only of simple assignments.

A generated file of a million lines such as `v7 = v3 * v5` or `v8 = log(1 + v7^2)` is read
with NumPy over its bytes instead of one regular-expression match per line: bytes are
classified, cut into tokens, each line's token kinds are checked against the simple shapes
(`name = arith` and `name = f(arith)`, arith being up to three atoms and two infix operators),
names are numbered by sorting hashes of their bytes, and the nodes are laid out in exactly the
order the line-by-line parser makes them. Comments and carriage returns are read as the
tokenizer reads them: as spaces. Anything else (`;`, unary minus, brackets, an exponent, a name
used before it is assigned or assigned twice, a reserved word, non-ASCII text) makes `build`
return None; the line-by-line parser then reads the file and reports any error.
"""

from __future__ import annotations

from array import array

import numpy as np

from ..graph import CONST, INPUT, Graph
from ..ops import FUNCTIONS, INFIX, POW, REGISTRY
from .bulk_lex import (
    INT,
    LETTER,
    NAME,
    blank,
    count_class,
    decode,
    line_shapes,
    number,
    pieces_of,
    texts,
    tokens,
    windows,
)
from .lexer import PRECEDENCE, RESERVED

RESERVED_KEYS = np.array(
    [int.from_bytes(w.encode()[:8], "little") for w in sorted(RESERVED)], dtype=np.uint64
)

OP_CHARS = "+-*/^"
OP_CODE = np.zeros(256, dtype=np.int64)
OP_CODE[[ord(c) for c in OP_CHARS]] = np.arange(len(OP_CHARS))
OP_PREC = np.array([PRECEDENCE[c] for c in OP_CHARS])

ATOM, BINOP, CALL = 0, 1, 2


def build(graph: Graph) -> tuple[str, int] | None:
    """Fill an empty graph from its source; the last assigned name and its node, or None to
    decline."""
    text = graph.source.text
    if not text.isascii() or len(text) >= 2**31:
        return None
    b = blank(np.frombuffer(text.encode("ascii"), dtype=np.uint8), text)
    toks = tokens(b)
    if toks is None:
        return None
    lines = line_shapes(toks)
    if lines is None:
        return None
    return _Layout(graph, b, toks, lines).run()


class _Layout:
    """Events (atoms, infix ops, calls) per line in the parser's order, then the nodes."""

    def __init__(self, graph: Graph, b: np.ndarray, toks: dict, lines: dict):
        self.graph, self.b = graph, b
        self.start, self.end, self.kind = toks["start"], toks["end"], toks["kind"]
        self.groups = lines["groups"]
        self.win = windows(b)
        self.dot_tok = np.searchsorted(self.start, np.flatnonzero(b == ord(".")), "right") - 1
        self.rows = lines["rows"]
        self.t_tok = lines["first"][self.rows]

    def run(self) -> tuple[str, int] | None:
        """Lay out every node, or None when a name is used in a way only errors explain."""
        names = self.number_names()
        if names is None:
            return None
        ev = self.events()
        return self.resolve(ev, names)

    def number_names(self) -> dict | None:
        """Name ids, their strings, and the checks on reserved and repeated names."""
        is_name = self.kind == NAME
        tok = np.flatnonzero(is_name)
        if (self.kind[self.dot_tok] == NAME).any():
            return None  # `a.b`: the line-by-line parser explains
        pieces = list(pieces_of(self.win, self.start[tok], self.end[tok]))
        ids, first = number(pieces)
        name_id = np.full(len(self.kind), -1, dtype=INT)
        name_id[tok] = ids
        words = texts(pieces, first)
        self.name_id = name_id
        # Reserved words may only appear as the function of a call.
        role_target = np.zeros(len(words), dtype=bool)
        role_func = np.zeros(len(words), dtype=bool)
        targets = self.t_tok
        role_target[name_id[targets]] = True
        funcs = np.concatenate(
            [f + 2 for c, (_, f) in self.groups.items() if c in (6, 8, 10)] + [targets[:0]]
        )
        role_func[name_id[funcs]] = True
        counts = np.bincount(name_id[targets], minlength=len(words))
        if (counts > 1).any():
            return None
        role_atom = np.bincount(ids, minlength=len(words)) > counts + np.bincount(
            name_id[funcs], minlength=len(words)
        )
        maybe = np.flatnonzero(np.isin(pieces[0][first], RESERVED_KEYS))
        reserved = np.zeros(len(words), dtype=bool)
        reserved[maybe] = np.isin(words[maybe], [w.encode() for w in sorted(RESERVED)])
        if (reserved & (role_target | role_atom)).any():
            return None
        for word in decode(words[role_func]):
            op = FUNCTIONS.get(word)
            if op is None or REGISTRY[op].arity != 1:
                return None
        return {"strings": words}

    def events(self) -> dict:
        """Every event of every line at its place: line order, then the parser's order."""
        parts = []
        for c, (line, f) in self.groups.items():
            call = c in (6, 8, 10)
            a0 = f + (4 if call else 2)
            n_atoms = {3: 1, 5: 2, 7: 3, 6: 1, 8: 2, 10: 3}[c]
            parts.extend(self.arith(line, a0, n_atoms))
            if call:
                slot = 2 * n_atoms - 1
                rp = f + c - 1
                parts.append(
                    self.event(
                        line, slot, CALL, f + 2, slot - 1, -1, self.start[f + 2], self.end[rp]
                    )
                )
        per_line = np.zeros(int(self.rows.max()) + 1 if len(self.rows) else 0, dtype=INT)
        for c, (line, _) in self.groups.items():
            per_line[line] = {3: 1, 5: 3, 7: 5, 6: 2, 8: 4, 10: 6}[c]
        offset = np.cumsum(per_line) - per_line
        total = int(per_line.sum())
        ev = {k: np.empty(total, dtype=INT) for k in parts[0] if k != "slot"}
        for part in parts:
            base = offset[part["line"]]
            pos = base + part["slot"]
            for k, v in part.items():
                if k in ("arg0", "arg1"):
                    v = np.where(v >= 0, base + v, -1)  # a slot of the same line
                if k != "slot":
                    ev[k][pos] = v
        ev["last"] = offset + per_line - 1
        return ev

    def event(self, line, slot, kind, tok, arg0, arg1, start, end) -> dict:
        """One event per row of `line`: arrays of equal length (scalars broadcast)."""
        n = len(line)

        def full(x):
            return np.broadcast_to(np.asarray(x, dtype=INT), (n,))

        return {
            "line": line,
            "slot": full(slot),
            "kind": full(kind),
            "tok": full(tok),
            "arg0": full(arg0),
            "arg1": full(arg1),
            "start": full(start),
            "end": full(end),
        }

    def arith(self, line, a, n_atoms: int) -> list[dict]:
        """Events for `a`, `a o b` or `a o b o c` whose first atom is token `a`."""
        s, e = self.start, self.end
        out = [self.event(line, 0, ATOM, a, -1, -1, s[a], e[a])]
        if n_atoms == 1:
            return out
        b = a + 2
        out.append(self.event(line, 1, ATOM, b, -1, -1, s[b], e[b]))
        if n_atoms == 2:
            out.append(self.event(line, 2, BINOP, a + 1, 0, 1, s[a], e[b]))
            return out
        c = a + 4
        p1 = OP_PREC[OP_CODE[self.b[s[a + 1]]]]
        p2 = OP_PREC[OP_CODE[self.b[s[a + 3]]]]
        right = (p2 > p1) | ((p1 == POW) & (p2 == POW))
        # right: a b c (b o2 c) (a o1 inner); left: a b (a o1 b) c (inner o2 c)
        w = np.where
        out.append(self.event(line, w(right, 2, 3), ATOM, c, -1, -1, s[c], e[c]))
        out.append(
            self.event(
                line,
                w(right, 3, 2),
                BINOP,
                w(right, a + 3, a + 1),
                w(right, 1, 0),
                w(right, 2, 1),
                w(right, s[b], s[a]),
                w(right, e[c], e[b]),
            )
        )
        out.append(
            self.event(
                line,
                4,
                BINOP,
                w(right, a + 1, a + 3),
                w(right, 0, 2),
                w(right, 3, 3),
                s[a],
                e[c],
            )
        )
        return out

    def resolve(self, ev: dict, names: dict) -> tuple[str, int] | None:
        """Give each event its node and fill the graph, or None on a misused name."""
        kind, tok, line = ev["kind"], ev["tok"], ev["line"]
        strings = names["strings"]
        n_names = len(strings)
        t_tok, t_line = self.t_tok, self.rows
        def_line = np.full(n_names, -1, dtype=INT)
        def_line[self.name_id[t_tok]] = t_line

        atom = kind == ATOM
        is_name = atom & (self.kind[tok] == NAME)
        is_num = atom & ~is_name
        u = np.where(is_name, self.name_id[tok], -1)
        defined = is_name & (def_line[np.maximum(u, 0)] >= 0)
        if (def_line[u[defined]] >= line[defined]).any():
            return None  # used before (or while) it is assigned
        alias = defined & (ev["last"][line] == np.arange(len(kind)))
        if alias.any():
            return None  # `v = w` for an assigned w: the line-by-line parser shares the node
        fresh = is_name & ~defined

        key = np.full(len(kind), -1, dtype=INT)
        key[fresh] = u[fresh]
        num_pos = np.flatnonzero(is_num)
        values: list[float] = []
        if len(num_pos):
            s, e = self.start[tok[num_pos]], self.end[tok[num_pos]]
            pieces = list(pieces_of(self.win, s, e))
            dots = np.bincount(self.dot_tok, minlength=len(self.kind))[tok[num_pos]]
            if count_class(pieces, LETTER).any() or (dots > 1).any() or (dots == e - s).any():
                return None  # an exponent, `2x`, `1.2.3` or a lone '.'
            ids, first = number(pieces)
            by_repr: dict[str, int] = {}
            text_key = []
            for word in decode(texts(pieces, first)):
                v = float(word)
                k = by_repr.setdefault(repr(v), len(by_repr))
                if k == len(values):
                    values.append(v)
                text_key.append(k)
            key[num_pos] = n_names + np.asarray(text_key, dtype=INT)[ids.ravel()]

        keyed = np.flatnonzero(key >= 0)
        _, first_of = np.unique(key[keyed], return_index=True)
        creates = ~atom
        creates[keyed[first_of]] = True
        node = np.cumsum(creates) - 1
        value = np.where(creates, node, -1)
        owner = np.full(n_names + len(values), -1, dtype=INT)
        owner[key[keyed[first_of]]] = node[keyed[first_of]]
        value[keyed] = owner[key[keyed]]
        result_line = np.full(len(ev["last"]), -1, dtype=INT)
        result_line[t_line] = value[ev["last"][t_line]]
        value[defined] = result_line[def_line[u[defined]]]
        return self.fill(ev, value, creates, key, strings, values)

    def fill(self, ev, value, creates, key, words, values) -> tuple[str, int]:
        """Write the nodes into the graph's lists and tables."""
        g = self.graph
        made = np.flatnonzero(creates)
        kind, tok = ev["kind"][made], ev["tok"][made]
        n = len(made)
        code = np.zeros(n, dtype=INT)  # 0 input, 1 const, 2.. binops, then calls
        is_input = (kind == ATOM) & (self.kind[tok] == NAME)
        is_const = (kind == ATOM) & ~is_input
        code[is_const] = 1
        binop = kind == BINOP
        code[binop] = 2 + OP_CODE[self.b[self.start[tok[binop]]]]
        call = kind == CALL
        fids = np.unique(self.name_id[tok[call]])
        lut = np.zeros(len(words), dtype=INT)
        lut[fids] = 2 + len(OP_CHARS) + np.arange(len(fids))
        code[call] = lut[self.name_id[tok[call]]]
        table = [INPUT, CONST, *(INFIX[c] for c in OP_CHARS)]
        table += [FUNCTIONS[w] for w in decode(words[fids])]
        g.ops = np.array(table, dtype=object)[code].tolist()
        g.starts = array("q", ev["start"][made].astype(np.int64).tobytes())
        g.ends = array("q", ev["end"][made].astype(np.int64).tobytes())
        g.attrs = [None] * n
        first = np.where(kind != ATOM, value[ev["arg0"][made]], -1)
        g.set_columns(first, np.where(binop, value[ev["arg1"][made]], -1))

        names = np.full(n, None, dtype=object)
        nodes = np.flatnonzero(is_input)
        input_names = decode(words[key[made[nodes]]])
        names[nodes] = input_names
        g.input_ids = dict(zip(input_names, nodes.tolist(), strict=True))
        nodes = np.flatnonzero(is_const).tolist()
        for i, k in zip(nodes, key[made[nodes]].tolist(), strict=True):
            g.consts[i] = np.asarray(values[k - len(words)], dtype=np.float64)
        targets = words[self.name_id[self.t_tok]]
        last = ev["last"][self.rows]
        results = value[last]
        named = ev["kind"][last] != ATOM  # an op made by the line; atoms keep their names

        def fill() -> tuple[list, dict]:
            """Each node's name and the name table: a million strings, made when asked for."""
            texts = decode(targets)
            names[results[named]] = np.array(texts, dtype=object)[named]
            return names.tolist(), dict(zip(texts, results.tolist(), strict=True))

        g.defer_names(fill)
        return decode(targets[-1:])[0], int(results[-1])
