"""Function definitions and `use`: finding them in a file and in the files it uses.

Two forms define a function:

    softplus2(x) = log(1 + exp(x))          # one expression

    def layernorm(x, g, b):                 # a block: local names, ended by `return`
        m = mean(x)
        v = mean((x - m)^2)
        return g * (x - m) / sqrt(v + 1e-5) + b

`use "nn.agrad"` makes the functions defined in another file callable (a path relative to the
using file; `-e` and standard input resolve it from the current folder). Files are found with
one scan of their statements (made the first time a file needs it) and loaded with an explicit
stack, so a chain of uses never recurses; a cycle is refused with its chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import AgradError, Source, Span, suggest
from ..ops import CONSTANTS, FUNCTIONS
from .lexer import statement_at

Token = tuple[str, str, int, int]


@dataclass(eq=False)
class Definition:
    """One function: its parameters, local assignments and returned expression."""

    name: str
    params: list[Token]
    body: list[list[Token]]
    result: list[Token]
    source: Source
    start: int  # the name's offsets in the header
    end: int
    table: Table
    template: object | None = None  # built on first call (language/inline.py)

    @property
    def span(self) -> Span:
        """Where the function's name is written in its header."""
        return Span(self.source, self.start, self.end)


@dataclass(eq=False)
class Table:
    """The functions one file defines (`own`) and can call (`visible`: its own and those of
    the files it uses), and where its definition blocks end."""

    source: Source
    own: dict[str, Definition] = field(default_factory=dict)
    visible: dict[str, Definition] = field(default_factory=dict)
    uses: list[tuple[str, Span]] = field(default_factory=list)
    used: list[Table] = field(default_factory=list)
    skip: dict[int, int] = field(default_factory=dict)  # statement start -> block end
    other: Span | None = None  # the first statement that is no definition, claim or use


def is_header(stmt: list[Token]) -> bool:
    """True for `def f(...)...`, `use "file"` and `f(a, b) = ...`."""
    first = stmt[0][1]
    if first == "def" and len(stmt) > 2 and stmt[1][0] == "name" and stmt[2][1] == "(":
        return True
    if first == "use" and len(stmt) > 1 and stmt[1][0] == "str":
        return True
    return stmt[0][0] == "name" and len(stmt) > 3 and stmt[1][1] == "(" and _one_line(stmt) > 0


def _one_line(stmt: list[Token]) -> int:
    """The index of `=` in `f(a, b) = expr`, or 0 when `stmt` is not of that form."""
    depth = 0
    for k in range(1, len(stmt)):
        text = stmt[k][1]
        if text in ("(", "["):
            depth += 1
        elif text in (")", "]"):
            depth -= 1
            if depth == 0:
                return k + 1 if k + 1 < len(stmt) and stmt[k + 1][1] == "=" else 0
    return 0


def scan(source: Source) -> Table:
    """Find every definition and `use` of one file's text."""
    table = Table(source)
    text, pos, n = source.text, 0, len(source.text)
    while pos < n:
        stmt, pos = statement_at(source, pos)
        if not stmt:
            continue
        start = stmt[0][2]
        if stmt[0][1] == "use" and len(stmt) > 1 and stmt[1][0] == "str":
            _use(table, stmt)
            table.skip[start] = pos
        elif stmt[0][1] == "def" and is_header(stmt):
            pos = _block(table, stmt, pos)
            table.skip[start] = pos
        elif is_header(stmt):
            eq = _one_line(stmt)
            _define(table, stmt[:eq], [], stmt[eq + 1 :], stmt[eq])
            table.skip[start] = pos
        elif table.other is None and stmt[0][1] != "expect":
            table.other = Span(source, start, stmt[-1][3])
    del text
    return table


def _use(table: Table, stmt: list[Token]) -> None:
    """Record `use "file"`."""
    src = table.source
    if len(stmt) > 2:
        raise AgradError(
            "unexpected text after the file name",
            Span(src, stmt[2][2], stmt[-1][3]),
            'write one file per line: use "nn.agrad"',
        )
    table.uses.append((stmt[1][1][1:-1], Span(src, stmt[1][2], stmt[1][3])))


def _block(table: Table, header: list[Token], pos: int) -> int:
    """Read `def f(...):` and the statements up to its `return`; return where it ends."""
    src = table.source
    close = next((k for k, t in enumerate(header) if t[1] == ")"), None)
    if close is None or close + 1 >= len(header) or header[close + 1][1] != ":":
        at = header[close + 1] if close is not None and close + 1 < len(header) else header[-1]
        raise AgradError(
            "a def header ends with ':' after its parameters",
            Span(src, at[2], at[3]),
            "write: def f(x, y):",
        )
    body: list[list[Token]] = []
    first = header[close + 2 :]
    n = len(src.text)
    while True:
        if first:
            stmt, first = first, []
        elif pos < n:
            stmt, pos = statement_at(src, pos)
        else:
            raise AgradError(
                f"the body of '{header[1][1]}' has no 'return'",
                Span(src, header[1][2], header[1][3]),
                "end the block with: return <expression>",
            )
        if not stmt:
            continue
        if stmt[0][1] == "return":
            _define(table, header[1 : close + 1], body, stmt[1:], stmt[0])
            return pos
        if stmt[0][1] in ("def", "use", "expect") or len(stmt) < 2 or stmt[1][1] != "=":
            raise AgradError(
                f"inside the body of '{header[1][1]}' only 'name = expression' and "
                "'return' may be written",
                Span(src, stmt[0][2], stmt[-1][3]),
                f"end '{header[1][1]}' with 'return <expression>' first",
            )
        body.append(stmt)


def _define(table: Table, head: list[Token], body: list, result: list, at: Token) -> None:
    """Record one definition (`head` is `f ( a , b )`), refusing clashes of names."""
    src = table.source
    _, name, start, end = head[0]
    where = Span(src, start, end)
    if not result:
        raise AgradError(
            f"'{name}' returns nothing", Span(src, at[2], at[3]), "write an expression after it"
        )
    if name in FUNCTIONS or name in CONSTANTS:
        what = "function" if name in FUNCTIONS else "constant"
        raise AgradError(
            f"'{name}' is a built-in {what} and cannot be redefined",
            where,
            f"name it {name}2 or my_{name}",
        )
    if name in table.own:
        first = table.own[name].span.where()
        raise AgradError(
            f"function '{name}' is defined twice",
            where,
            f"it was first defined at {first}; give one of them another name",
        )
    params = head[2:-1:2]
    for k, t in enumerate(head[2:-1]):
        if (k % 2 == 0) != (t[0] == "name") or (k % 2 and t[1] != ","):
            raise AgradError(
                f"the parameters of '{name}' must be plain names separated by commas",
                Span(src, t[2], t[3]),
                f"write: {name}(x, y) = ...",
            )
    seen: dict[str, Token] = {}
    for p in params:
        if p[1] in seen:
            raise AgradError(
                f"parameter '{p[1]}' of '{name}' is named twice",
                Span(src, p[2], p[3]),
                "give each parameter its own name",
            )
        if p[1] in FUNCTIONS or p[1] in CONSTANTS:
            raise AgradError(
                f"parameter '{p[1]}' of '{name}' has the name of a built-in",
                Span(src, p[2], p[3]),
                "choose another name",
            )
        seen[p[1]] = p
    table.own[name] = Definition(name, params, body, result, src, start, end, table)


def load(root: Table, anchor: str | None) -> None:
    """Load the files `root` uses (and theirs), with a stack, and fill every `visible`.

    `anchor` is the folder paths are relative to (the root file's, or the current folder).
    """
    cache: dict[str, Table] = {}
    key = _key(root.source.name) if anchor is None else None
    if key:
        cache[key] = root
    stack = [(root, iter(root.uses), key or "<root>")]
    while stack:
        table, todo, key = stack[-1]
        item = next(todo, None)
        if item is None:
            stack.pop()
            _visible(table)
            continue
        written, span = item
        path = _resolve(written, table, anchor if table is root else None, span)
        new = _key(path)
        chain = [k for _, _, k in stack]
        if new in chain:
            names = [t.source.name for t, _, _ in stack[chain.index(new) :]] + [path]
            raise AgradError(
                f"files use each other in a cycle: {' -> '.join(names)}",
                span,
                "a library cannot use, directly or through others, a file that uses it",
            )
        if new in cache:
            table.used.append(cache[new])
            continue
        child = scan(_read(path, span))
        if child.other is not None:
            raise AgradError(
                f"{path} computes something; a used file may hold only definitions, "
                "claims and uses",
                child.other,
                "move formulas into the file that uses it",
            )
        cache[new] = child
        table.used.append(child)
        stack.append((child, iter(child.uses), new))


def _visible(table: Table) -> None:
    """A file's callable functions: its own and each used file's own, refusing clashes."""
    origin: dict[str, Table] = {}
    for used in table.used:
        for name, d in used.own.items():
            if name in origin and origin[name] is not used:
                raise AgradError(
                    f"'{name}' is defined in both {origin[name].source.name} and "
                    f"{used.source.name}",
                    _use_span(table, used),
                    "rename one of them, or use only one of the files",
                )
            origin[name] = used
            table.visible[name] = d
    for name, d in table.own.items():
        if name in origin:
            raise AgradError(
                f"'{name}' is already defined in {origin[name].source.name}",
                d.span,
                "choose another name",
            )
        table.visible[name] = d


def _use_span(table: Table, used: Table) -> Span | None:
    k = table.used.index(used)
    return table.uses[k][1] if k < len(table.uses) else None


def _resolve(written: str, table: Table, anchor: str | None, span: Span) -> str:
    """The path of a used file: relative to the using file, or to `anchor` for -e/stdin."""
    if "://" in written or written.startswith(("http:", "https:")):
        raise AgradError(
            "use reads local files only", span, "download the file and use its local path"
        )
    if not written:
        raise AgradError("use needs a file name", span, 'write: use "nn.agrad"')
    base = anchor if anchor is not None else os.path.dirname(table.source.name)
    return os.path.normpath(os.path.join(base, written))


def _read(path: str, span: Span) -> Source:
    """The text of a used file, with its errors at the `use` line."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return Source(path, fh.read())
    except FileNotFoundError:
        folder = os.path.dirname(path) or "."
        near = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        hint = suggest(os.path.basename(path), near) or "paths are relative to the using file"
        raise AgradError(f"no such file: {path}", span, hint) from None
    except IsADirectoryError:
        raise AgradError(f"{path} is a folder, not a formula file", span) from None
    except UnicodeDecodeError as exc:
        raise AgradError(f"{path} is not UTF-8 text ({exc.reason})", span) from None
    except OSError as exc:
        raise AgradError(f"cannot read {path}: {exc.strerror}", span) from None


def _key(path: str) -> str:
    return os.path.realpath(path)


def calls(d: Definition) -> list[Token]:
    """The call tokens (`g` of `g(`) in a definition's body that name other functions."""
    out = []
    for stmt in [*d.body, d.result]:
        for k in range(len(stmt) - 1):
            t = stmt[k]
            if t[0] == "name" and stmt[k + 1][1] == "(" and t[1] in d.table.visible:
                out.append(t)
    return out
