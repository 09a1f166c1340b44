"""The line parser's shortcut for the commonest lines of generated files: `name = arith` and
`name = f(arith)` read straight from one regular-expression match, through the same methods
the general path uses, so both build the same nodes (tests/language/test_parser_paths.py)."""

from __future__ import annotations

import re

from ..graph import CONST
from ..ops import FUNCTIONS, INFIX, POW, PRECEDENCE, REGISTRY
from .lexer import RESERVED


class SimpleLines:
    """Mixed into the parser: needs its graph, `assigned`, `atom`, `call`, `assign` and
    `check_function`."""

    def simple_statement(self, m: re.Match) -> bool:
        """`name = arith` or `name = f(arith)`, arith being up to three atoms and two infix
        operators, as matched by SIMPLE; False (nothing built) for a call the general path
        must read.

        The same as the general path would build, through the same methods, without
        tokenizing: most lines of large generated files have one of these shapes.
        """
        target, fname = m[1], m[2]
        g = self.graph
        if fname is None:
            node = self.arith(m, 9)
        else:
            op_name = FUNCTIONS.get(fname)
            if op_name is None or REGISTRY[op_name].arity != 1:
                if m[4] is not None:
                    return False
                start = m.start(2)
                self.check_function(fname, start, m.end(2))
                operands: list[tuple[int, int, int]] = []
                x = (self.atom(m[3], m.start(3), m.end(3)), m.start(3), m.end(3))
                self.call(fname, [x], start, m.end(8), operands)
                node = operands[0][0]
            else:
                node = g._add(op_name, (self.arith(m, 3),), m.start(2), m.end(8))
        start = m.start(1)
        if target in self.assigned or target in g.input_ids or target in RESERVED:
            self.assign(("name", target, start, m.end(1)), node, start)
            return True
        self.assigned[target] = start
        g.symbols[target] = node
        if g.names[node] is None and g.ops[node] != CONST:
            g.names[node] = target
        return True

    def arith(self, m: re.Match, k: int) -> int:
        """`a`, `a op b` or `a op b op2 c` from groups k..k+4, grouped by precedence, with
        nodes made in the general path's order."""
        g = self.graph
        symbols = g.symbols
        a, op = m[k], m[k + 1]
        left = symbols.get(a)
        if left is None:
            left = self.atom(a, m.start(k), m.end(k))
        if op is None:
            return left
        b, op2 = m[k + 2], m[k + 3]
        right = symbols.get(b)
        if right is None:
            right = self.atom(b, m.start(k + 2), m.end(k + 2))
        start, mid = m.start(k), m.end(k + 2)
        if op2 is None:
            return g._add(INFIX[op], (left, right), start, mid)
        c, end = m[k + 4], m.end(k + 4)
        p1, p2 = PRECEDENCE[op], PRECEDENCE[op2]
        if p2 > p1 or p1 == p2 == POW:  # a op (b op2 c)
            third = symbols.get(c)
            if third is None:
                third = self.atom(c, m.start(k + 4), end)
            inner = g._add(INFIX[op2], (right, third), m.start(k + 2), end)
            return g._add(INFIX[op], (left, inner), start, end)
        inner = g._add(INFIX[op], (left, right), start, mid)  # (a op b) op2 c
        third = symbols.get(c)
        if third is None:
            third = self.atom(c, m.start(k + 4), end)
        return g._add(INFIX[op2], (inner, third), start, end)

    def atom(self, text: str, start: int, end: int) -> int:
        """A number or a name, as the general path reads it."""
        if text[0].isdigit() or text[0] == ".":
            return self.const(float(text), start, end)
        return self.ref(text, start, end)
