"""The expression language: text to a flat Graph, with no recursion over nesting depth.

Statements are split at newlines and `;` (newlines inside brackets are ignored); each
expression is read by an operator-precedence (shunting-yard) loop with explicit stacks,
so nesting depth is bounded by MAX_NESTING, not by Python's recursion limit.
"""

from __future__ import annotations

import numpy as np

from ..errors import AgradError, Source, paused_gc
from ..graph import CONST, Graph
from ..ops import CONSTANTS, FUNCTIONS, INFIX, POW, PREFIX, REGISTRY, SUGAR, UNARY
from . import inline, lexer
from .array_syntax import ArraySyntax, function_for, numbers_only
from .claims import read_claim
from .functions import is_header
from .lexer import MAX_NESTING, PRECEDENCE, statement_at
from .literals import read_array, read_ranges, read_shapes
from .parse_errors import ParseErrors
from .simple_lines import SimpleLines

LIST, PAREN, CALL, UNOP, BINOP = -1, 0, 1, 2, 3


def parse(text: str, name: str = "<expr>", library: bool = False) -> Graph:
    """Parse expression-file text into a Graph with its outputs marked (`library`: a file
    of definitions and claims alone gives a graph with no output instead of an error)."""
    with paused_gc():
        p = _Parser(Source(name, text))
        p.library = library
        return p.run()


STDIN_NAME = "<stdin>"
INLINE_NAME = "-e"


def parse_general(text: str, name: str = "<expr>") -> Graph:
    """Parse text on the general path only (the reference the shortcuts are held to)."""
    return _Parser(Source(name, text)).run(shortcuts=False)


def parse_formula(path: str | None, inline: str | None = None) -> Graph:
    """Parse the formula a command was given: a file, '-' for stdin, or `-e` text."""
    if inline is not None:
        if path is not None:
            raise AgradError(
                f"both a file ({path}) and -e were given", None, "give the formula one way"
            )
        return parse(inline, INLINE_NAME)
    if path is None:
        raise AgradError(
            "no formula given", None, "name a file, '-' for standard input, or -e 'x^2 * sin(y)'"
        )
    return parse_file(path)


def parse_file(path: str, library: bool = False) -> Graph:
    """Read and parse a UTF-8 expression file ('-' reads standard input)."""
    try:
        if path == "-":
            import sys

            text = sys.stdin.buffer.read().decode("utf-8-sig")
            return parse(text, STDIN_NAME, library)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except IsADirectoryError:
        raise AgradError(f"{path} is a folder, not a formula file") from None
    except FileNotFoundError:
        raise AgradError(f"no such file: {path}") from None
    except UnicodeDecodeError as exc:
        raise AgradError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise AgradError(f"cannot read {path}: {exc.strerror}") from None
    return parse(text, path, library)


class _Parser(SimpleLines, ArraySyntax, ParseErrors):
    """One pass over the statements of a source, building its Graph."""

    def __init__(self, source: Source):
        super().__init__(source)
        self.graph = Graph(source)
        self.consts: dict[str, int] = {}
        self.bare: list[tuple[str | None, int]] = []
        self.assigned: dict[str, int] = {}
        self.table = None  # user functions, found on first need (language/inline.py)
        self.scope = None  # the function whose body this parser reads, if any
        self.rules = None  # the parser of claims about functions (language/rules.py)
        self.library = False

    def run(self, shortcuts: bool = True) -> Graph:
        """Parse every statement and choose the outputs (`shortcuts`: the simple-line and
        whole-file paths may be taken)."""
        last: str | None = None
        text, source = self.source.text, self.source
        pos, n = 0, len(text)
        shortcuts = shortcuts and lexer.FAST_PATH
        if shortcuts and n >= lexer.BULK_MIN_CHARS:
            from . import bulk

            built = bulk.build(self.graph, parse_general)
            if built is not None:
                self.graph.add_output(*built)  # its last assignment, as choose_outputs would
                self.directives()
                return self.graph
        simple = lexer.simple().match if shortcuts and n >= lexer.SIMPLE_MIN_CHARS else None
        while pos < n:
            m = simple(text, pos) if simple else None
            if m is not None and self.simple_statement(m):
                last = m[1]
                pos = m.end()
                continue
            stmt, pos = statement_at(source, pos)
            if not stmt:
                continue
            if stmt[0][1] in ("def", "use") and is_header(stmt):
                pos = inline.table_of(self).skip[stmt[0][2]]
            elif stmt[0][1] == "expect" and len(stmt) > 1 and stmt[1][1] != "=":
                read_claim(self, stmt)
            elif len(stmt) >= 2 and stmt[0][0] == "name" and stmt[1][1] == "=":
                if len(stmt) == 2:
                    self.fail(
                        "expected an expression after '='",
                        stmt[1][2],
                        stmt[1][3],
                        f"write {stmt[0][1]} = <expression>",
                    )
                node = self.expression(stmt, 2)
                self.assign(stmt[0], node, stmt[1][2])
                last = stmt[0][1]
            elif len(stmt) > 3 and stmt[1][1] == "(" and is_header(stmt):
                pos = inline.table_of(self).skip[stmt[0][2]]
            else:
                node = self.expression(stmt, 0)
                single = len(stmt) == 1 and stmt[0][0] == "name"
                self.bare.append((stmt[0][1] if single else None, node))
        if self.table is not None:
            inline.check_bodies(self)
        self.choose_outputs(last)
        self.directives()
        if self.rules is not None:
            self.graph.rules = self.rules.finish(self.graph)
        return self.graph

    def directives(self) -> None:
        """Read `# range:` and `# shape:` comments."""
        if "#" in self.source.text:
            read_ranges(self)
            read_shapes(self)

    def choose_outputs(self, last: str | None) -> None:
        """Bare expressions are outputs; without one, the last assignment is."""
        g = self.graph
        if not self.bare:
            if last is None and self.table is not None and self.table.visible:
                if self.library:
                    return
                some = next(iter(self.table.visible))
                self.fail(
                    "the file defines functions but computes nothing",
                    0,
                    0,
                    f"call one (y = {some}(...)), or run 'agrad check' on it to check its claims",
                )
            if last is None:
                self.fail(
                    "the file has no expression to evaluate",
                    0,
                    0,
                    "write a formula such as: f = x^2 + sin(y)",
                )
            g.add_output(last, g.symbols[last])
            return
        unnamed = sum(1 for name, _ in self.bare if name is None)
        k = 0
        listed: set[str] = set()
        for name, node in self.bare:
            if name in listed:
                continue  # a name written twice as a bare expression is one output
            if name is not None:
                listed.add(name)
            if name is None:
                k += 1
                name = "out" if unnamed == 1 else f"out{k}"
                while name in g.symbols or name in g.input_ids:
                    name += "_"
                g.name_node(node, name)
            g.add_output(name, node)

    def assign(self, target: tuple[str, str, int, int], node: int, eq: int) -> None:
        """Bind `name = expr`, refusing constants, function names and reassignment."""
        _, name, start, end = target
        g = self.graph
        if not name.isascii():
            self.plain_name(name, start)
        if name in CONSTANTS:
            self.fail(f"cannot assign to the constant '{name}'", start, end, "choose another name")
        if name in FUNCTIONS or (self.table is not None and name in self.table.visible):
            self.fail(
                f"'{name}' is a function and cannot be assigned", start, end, "choose another name"
            )
        if name in self.assigned:
            first = self.source.where(self.assigned[name])
            self.fail(
                f"'{name}' is assigned twice",
                start,
                end,
                f"it was first assigned at {first}; names are single-assignment, "
                "so pick a new name",
            )
        if name in g.input_ids:
            i = g.input_ids[name]
            self.fail(
                f"'{name}' is used before it is assigned",
                g.starts[i],
                g.ends[i],
                f"it is assigned later, at {self.source.where(start)}; "
                "move that line above its first use",
            )
        self.assigned[name] = start
        if g.ops[node] == CONST:
            g.symbols[name] = node
        else:
            g.name_node(node, name)

    def const(self, value: float, start: int, end: int, name: str | None = None) -> int:
        """An interned scalar constant node (equal numbers share one node)."""
        key = name or repr(value)
        i = self.consts.get(key)
        if i is None:
            i = self.consts[key] = self.graph.add_const(value, start, end, name)
        return i

    def ref(self, name: str, start: int, end: int) -> int:
        """Resolve an identifier: an assigned name, a constant, or a new input."""
        g = self.graph
        i = g.symbols.get(name)
        if i is not None:
            return i
        if name in CONSTANTS:
            return self.const(CONSTANTS[name], start, end, name)
        if name in FUNCTIONS or (self.table is not None and name in self.table.visible):
            self.fail(f"'{name}' is a function", start, end, f"call it: {name}(x)")
        i = g.input_ids.get(name)
        if i is None and self.scope is not None:
            inline.unknown_in_body(self, name, start, end)
        if i is None and not name.isascii():
            self.plain_name(name, start)
        return g.add_input(name, start, end) if i is None else i

    def plain_name(self, name: str, start: int) -> None:
        """Refuse superscript, subscript and fraction digits in a name (`x²` means x^2)."""
        import unicodedata

        for k, ch in enumerate(name):
            if unicodedata.category(ch) == "No":
                digit = unicodedata.normalize("NFKC", ch)
                sup = "SUPERSCRIPT" in unicodedata.name(ch, "")
                hint = f"write {name[:k]}^{digit}" if sup else f"write {name[:k]}_{digit}"
                self.fail(
                    f"'{ch}' cannot be part of a name ('{name}')",
                    start + k,
                    start + k + 1,
                    hint if digit.isdigit() else "use plain letters, digits and _",
                )

    def expression(self, toks: list, i: int) -> int:
        """Read toks[i:] as one expression and return its node id."""
        operands: list[tuple[int, int, int]] = []
        stack: list[tuple[int, str | None, int, int, int]] = []
        depth = 0
        expect = True
        n = len(toks)
        while i < n:
            kind, text, start, end = toks[i]
            if expect:
                if kind == "num":
                    operands.append((self.const(float(text), start, end), start, end))
                    expect = False
                elif kind == "name":
                    if i + 1 < n and toks[i + 1][1] == "=" and stack and stack[-1][0] == CALL:
                        i = self.keyword(toks, i, len(stack) - 1, len(operands) - stack[-1][4])
                        expect = False
                    elif i + 1 < n and toks[i + 1][1] == "(":
                        self.check_function(text, start, end)
                        depth += 1
                        if depth > MAX_NESTING:
                            self.nesting_error(start, end)
                        stack.append((CALL, text, 0, start, len(operands)))
                        i += 1
                        if i + 1 < n and toks[i + 1][1] == ")":
                            depth -= 1
                            stack.pop()
                            self.call(text, [], start, toks[i + 1][3], operands)
                            i += 1
                            expect = False
                    else:
                        operands.append((self.ref(text, start, end), start, end))
                        expect = False
                elif text == "(":
                    depth += 1
                    if depth > MAX_NESTING:
                        self.nesting_error(start, end)
                    stack.append((PAREN, None, 0, start, 0))
                elif text == "[" and not numbers_only(toks, i):
                    depth += 1
                    stack.append((LIST, "stack", 0, start, len(operands)))
                elif text == "[":
                    value, end, i = self.array(toks, i)
                    operands.append((self.graph.add_const(value, start, end), start, end))
                    expect = False
                elif text in ("-", "+"):
                    stack.append((UNOP, PREFIX.get(text), UNARY, start, 0))
                else:
                    self.expected_operand(toks, i)
            elif kind == "op" and text in PRECEDENCE:
                prec = PRECEDENCE[text]
                while (
                    stack
                    and stack[-1][0] >= UNOP
                    and (stack[-1][2] > prec or (stack[-1][2] == prec and prec != POW))
                ):
                    self.reduce(stack.pop(), operands)
                stack.append((BINOP, INFIX[text], prec, start, 0))
                expect = True
            elif text == "[":
                i = self.index(toks, i, operands)
            elif text == ".":
                i = self.attribute(toks, i, operands)
            elif text in (")", ",", "]"):
                expect = self.close(text, start, end, stack, operands)
                depth -= text != ","
            else:
                self.missing_operator(toks, i)
            i += 1
        if expect:
            last = toks[-1]
            self.fail(
                f"the expression ends after {last[1]!r}",
                last[2],
                last[3],
                "complete the expression",
            )
        while stack:
            top = stack.pop()
            if top[0] < UNOP:
                what = f"'{top[1]}(' is never closed" if top[0] == CALL else "'(' is never closed"
                if top[0] == LIST:
                    self.fail("'[' is never closed", top[3], top[3] + 1, "add the missing ']'")
                self.fail(
                    what, top[3], top[3] + 1 + (len(top[1]) if top[1] else 0), "add the missing ')'"
                )
            self.reduce(top, operands)
        return operands[-1][0]

    def close(self, text: str, start: int, end: int, stack: list, operands: list) -> bool:
        """Handle ')', ']' or ',' after an operand: finish a call, a list or parentheses.
        Returns True when an operand must follow (after a comma)."""
        while stack and stack[-1][0] >= UNOP:
            self.reduce(stack.pop(), operands)
        top = stack[-1] if stack else None
        if top is None or (text != "," and (text == "]") != (top[0] == LIST)):
            if text == ",":
                self.fail("',' outside a function call", start, end,
                          "arguments are separated by commas only inside f(...)")  # fmt: skip
            closer = "[" if text == "]" else "("
            hint = "remove it" if top is None else f"it closes {self.source.where(top[3])}"
            self.fail(f"'{text}' has no matching '{closer}'", start, end, hint)
        if text == ",":
            if top[0] not in (CALL, LIST):
                self.fail("',' inside parentheses that are not a call", start, end,
                          "only function calls take several arguments")  # fmt: skip
            return True
        stack.pop()
        if top[0] in (CALL, LIST):
            args = operands[top[4] :]
            del operands[top[4] :]
            keywords = self.call_keywords().pop(len(stack), None)
            self.call(top[1], args, top[3], end, operands, keywords)
        else:
            node, _, _ = operands.pop()
            operands.append((node, top[3], end))
        return False

    def reduce(self, entry: tuple, operands: list) -> None:
        """Apply a unary or binary operator to the operand stack."""
        kind, op, _, start, _ = entry
        g = self.graph
        if kind == UNOP:
            node, _, end = operands.pop()
            if op is None:
                operands.append((node, start, end))
            elif g.ops[node] == CONST and g.consts[node].ndim == 0 and g.names[node] is None:
                operands.append((self.const(-float(g.consts[node]), start, end), start, end))
            else:
                operands.append((g._add(op, (node,), start, end), start, end))
            return
        right = operands.pop()
        left = operands.pop()
        node = g._add(op, (left[0], right[0]), left[1], right[2])
        operands.append((node, left[1], right[2]))

    def call(
        self, name: str, args: list, start: int, end: int, operands: list, keywords=None
    ) -> None:
        """Build a function-call node after checking its arity and keywords (a user function's
        call is its body, inlined)."""
        self.check_positional(args, keywords)
        if name not in FUNCTIONS:
            if keywords:
                self.fail(f"{name}() takes no keyword arguments", start, end,
                          "pass its arguments by position")  # fmt: skip
            operands.append((inline.inline(self, name, args, start, end), start, end))
            return
        steps = None if keywords else SUGAR.get((name, len(args)))
        if steps is not None:  # log(x, base): the registry ops it stands for
            built: list[int] = []
            for step, *refs in steps:
                ids = tuple([built[~r] if r < 0 else args[r][0] for r in refs])
                built.append(self.graph._add(step, ids, start, end))
            operands.append((built[-1], start, end))
            return
        op = REGISTRY[function_for(FUNCTIONS[name], len(args))]
        attrs = self.call_attrs(op, name, keywords, start, end)
        if len(args) != op.arity and not (op.variadic and args):
            other = [n for fn, n in SUGAR if fn == name]  # log(x, base)
            takes = " or ".join(str(n) for n in (op.arity, *other))
            plural = "argument" if takes == "1" else "arguments"
            self.fail(
                f"{name}() takes {takes} {plural}, got {len(args)}",
                start,
                end,
                f"write {op.syntax}" + "".join(f" or {name}(x, base)" for _ in other[:1]),
            )
        node = self.graph._add(op.name, tuple([a[0] for a in args]), start, end, attrs)
        operands.append((node, start, end))

    def array(self, toks: list, i: int) -> tuple[np.ndarray, int, int]:
        """Read a nested array literal of numbers starting at toks[i] == '['."""
        return read_array(self, toks, i)
