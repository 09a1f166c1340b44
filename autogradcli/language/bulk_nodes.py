"""Laying the events of every line out as nodes (the whole-file parser's second half).

The events of one template per line shape (bulk.py) are numbered exactly as the line-by-line
parser numbers its nodes, a block of BLOCK_LINES lines at a time: inputs and constants at
their first use in the file, equal numbers shared by value, assigned names standing for their
line's value (aliases too). Only the block's arrays and the graph grow with the file.
"""

from __future__ import annotations

import re
from array import array

import numpy as np

from ..ops import CONSTANTS
from ..ops.attrs import freeze
from .bulk_lex import DOT, INT, LETTER, count_class, decode, number, pieces_of, texts

NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
BLOCK_LINES = 1 << 17  # lines laid out at once
NAME_ATOM, NUM_ATOM, NAMED_CONST, OPERATION = range(4)  # the kinds of template events


class Placement:
    """The node half of bulk._Layout: it reads the layout's tokens, names and lines."""

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
        self.op_names: dict[str | tuple, int] = {}
        self.op_attrs: list[dict | None] = []
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
            ops = [self.op_id(o, a) for o, a in zip(t.op, t.attrs, strict=True)]
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

    def op_id(self, op: str, attrs: dict | None) -> int:
        """The number of an op with its attributes (`sum` and `sum axis=1` are two)."""
        key = op if attrs is None else (op, freeze(attrs))
        k = self.op_names.setdefault(key, len(self.op_names))
        if k == len(self.op_attrs):
            self.op_attrs.append(attrs)
        return k

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
        names = [k if isinstance(k, str) else k[0] for k in self.op_names]
        g.ops = np.array(names, dtype=object)[out.op[:n]].tolist()
        if any(a is not None for a in self.op_attrs):
            table = np.empty(len(self.op_attrs), dtype=object)
            table[:] = self.op_attrs
            attrs = table[out.op[:n]].tolist()
        g.starts = array("q")
        g.starts.frombytes(memoryview(out.start[:n].astype(np.int64)).cast("B"))
        g.ends = array("q")
        g.ends.frombytes(memoryview(out.end[:n].astype(np.int64)).cast("B"))
        del out.op, out.start, out.end  # freed before the next copies are made
        g.attrs = attrs if any(a is not None for a in self.op_attrs) else [None] * n
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
