"""Calls of user functions: each body parsed once into a template graph, then copied into the
calling graph at every call, with a `Group` recording the call.

Templates are built in dependency order found with an explicit stack (a function's callees
first), so neither a chain of calls nor the copying recurses; a cycle of calls is refused
with its chain (`f -> g -> f`).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from ..errors import AgradError, Span, suggest
from ..graph import CONST, INPUT, Graph, Group
from ..ops import CONSTANTS, FUNCTIONS
from .functions import Definition, Table, calls, load, scan


@dataclass
class Template:
    """A function's body as a graph: its parameters are its first nodes, `result` its last
    (unless the body returns a parameter), and only what the result needs is kept."""

    graph: Graph
    params: list[int]
    result: int
    keep: list[int]  # the nodes to copy, ascending, parameters excluded
    ops: list = field(default_factory=list)  # the kept nodes' columns, ready to append
    attrs: list = field(default_factory=list)
    names: list = field(default_factory=list)  # constants' names (pi, e); None otherwise
    starts: array = field(default_factory=lambda: array("q"))
    ends: array = field(default_factory=lambda: array("q"))
    consts: list = field(default_factory=list)  # (place among the kept nodes, value)

    def __post_init__(self) -> None:
        g, keep = self.graph, self.keep
        self.ops = [g.ops[i] for i in keep]
        self.attrs = [g.attrs[i] for i in keep]
        self.names = [g.names[i] if g.ops[i] == CONST else None for i in keep]
        self.starts = array("q", [g.starts[i] for i in keep])
        self.ends = array("q", [g.ends[i] for i in keep])
        self.consts = [(n, g.consts[i]) for n, i in enumerate(keep) if g.ops[i] == CONST]


def table_of(p) -> Table:
    """The function table of parser `p`'s file, scanned and its uses loaded on first need."""
    if p.table is None:
        table = scan(p.source)
        name = p.source.name
        anchor = "." if name.startswith("<") or name == "-e" else None
        load(table, anchor)
        p.table = table
        g = p.graph
        for d in table.visible.values():
            if d.name in g.symbols or d.name in g.input_ids:
                i = g.lookup(d.name)
                at = p.assigned.get(d.name, g.starts[i])
                p.fail(
                    f"'{d.name}' is both a function (defined at {d.span.where()}) and a value",
                    at,
                    at + len(d.name),
                    "give the value another name",
                )
    return p.table


def find(p, name: str) -> Definition | None:
    """The user function `name` that parser `p` can call, or None."""
    return table_of(p).visible.get(name)


def check_bodies(p) -> None:
    """Build every visible function's template, so that a body never called is checked
    (syntax, names, keywords, recursion) all the same."""
    for d in table_of(p).visible.values():
        template(d, type(p))


def inline(p, name: str, args: list, start: int, end: int) -> int:
    """Copy function `name`'s body into `p.graph` with its parameters bound to `args`
    (node, start, end) and record the call as a group; return the result node."""
    d = table_of(p).visible[name]
    if len(args) != len(d.params):
        want = len(d.params)
        shown = ", ".join(t[1] for t in d.params)
        p.fail(
            f"{name}() takes {want} argument{'s' if want != 1 else ''}, got {len(args)}",
            start,
            end,
            f"write {name}({shown}) (defined at {d.span.where()})",
        )
    tpl = template(d, type(p))
    g = p.graph
    mapping = dict(zip(tpl.params, (a[0] for a in args), strict=True))
    if tpl.result in mapping:
        return mapping[tpl.result]  # the body returns a parameter: nothing to copy
    first = len(g)
    span = p.span(start, end)
    k = len(g.groups)  # a call inside a body becomes a child group when the body is copied
    g.groups.append(Group(name, first, first + len(tpl.keep) - 1, span, None, d.source))
    _copy(tpl, g, mapping, k, span, name)
    return len(g) - 1


def _copy(tpl: Template, g: Graph, mapping: dict, k: int, call: Span, name: str) -> None:
    """Append the template's nodes to `g` (lists extended at once), and its groups (children
    of group `k`)."""
    t = tpl.graph
    base = len(g)
    if g._columns is not None:
        g.inputs = g.inputs  # tuples before the graph grows
    keep = tpl.keep
    for n, i in enumerate(keep):
        mapping[i] = base + n
    ins = t.inputs
    g.ops.extend(tpl.ops)
    g._inputs.extend([tuple([mapping[j] for j in ins[i]]) for i in keep])
    g.attrs.extend(tpl.attrs)
    g.names.extend(tpl.names)
    g.starts.extend(tpl.starts)
    g.ends.extend(tpl.ends)
    for n, value in tpl.consts:
        g.consts[base + n] = value
    moved: dict[int, int] = {}
    for j, grp in enumerate(t.groups):  # nested calls: parents first, as in the template
        if grp.last not in mapping:
            continue  # a call whose result the body never uses
        parent = k if grp.parent is None else moved[grp.parent]
        first = min(mapping.get(i, len(g)) for i in range(grp.first, grp.last + 1))
        moved[j] = len(g.groups)
        g.groups.append(
            Group(
                grp.name,
                max(first, base),
                mapping[grp.last],
                _rebase(grp.call_span, call, name),
                parent,
                grp.source,
            )
        )


def _rebase(span: Span | None, call: Span, name: str) -> Span | None:
    """`span` (a call written inside a body) with `call`, the body's own call, at the end of
    its chain."""
    if span is None:
        return None
    chain = [span]
    while chain[-1].via is not None:
        chain.append(chain[-1].via)
    out = call
    for s in reversed(chain):
        out = Span(s.source, s.start, s.end, out, s.function if s.via is not None else name)
    return out


def template(d: Definition, cls: type) -> Template:
    """`d`'s template, building it and its callees' first (a stack; cycles refused)."""
    if d.template is not None:
        return d.template  # type: ignore[return-value]
    order: list[Definition] = []
    state = {id(d): 1}
    stack = [(d, iter(calls(d)))]
    while stack:
        f, todo = stack[-1]
        tok = next(todo, None)
        if tok is None:
            stack.pop()
            state[id(f)] = 2
            order.append(f)
            continue
        callee = f.table.visible[tok[1]]
        seen = state.get(id(callee))
        if callee.template is not None or seen == 2:
            continue
        if seen == 1:
            names = [s[0].name for s in stack]
            chain = [*names[names.index(callee.name) :], callee.name]
            raise AgradError(
                f"recursion: {' -> '.join(chain)}",
                Span(f.source, tok[2], tok[3]),
                "a function cannot call itself, directly or through others; write the steps out",
            )
        state[id(callee)] = 1
        stack.append((callee, iter(calls(callee))))
    for f in order:
        f.template = _build(f, cls)
    return d.template  # type: ignore[return-value]


def _build(d: Definition, cls: type) -> Template:
    """Parse `d`'s body with parser class `cls` into a template graph (its callees'
    templates exist already)."""
    p = cls(d.source)
    p.table, p.scope = d.table, d
    g = p.graph
    params = [g.add_input(t[1], t[2], t[3]) for t in d.params]
    for stmt in d.body:
        target = stmt[0]
        if target[1] in g.input_ids:
            p.fail(
                f"'{target[1]}' is a parameter of '{d.name}' and cannot be assigned",
                target[2],
                target[3],
                "give the local value a new name",
            )
        if target[1] in d.table.visible:
            p.fail(
                f"'{target[1]}' is a function and cannot be assigned",
                target[2],
                target[3],
                "choose another name",
            )
        if len(stmt) == 2:
            p.fail("expected an expression after '='", stmt[1][2], stmt[1][3])
        p.assign(target, p.expression(stmt, 2), stmt[1][2])
    result = p.expression(d.result, 0)
    live = g.ancestors([result])
    keep = [i for i in range(len(g)) if live[i] and g.ops[i] != INPUT]
    return Template(g, params, result, keep)


def unknown_in_body(p, name: str, start: int, end: int) -> None:
    """Refuse a name in a body that is neither a parameter, a local, a constant nor a
    function."""
    d = p.scope
    known = [t[1] for t in d.params] + list(p.graph.symbols) + list(CONSTANTS)
    hint = suggest(name, known) or (
        f"a body sees only its parameters ({', '.join(t[1] for t in d.params) or 'none'}), "
        "its own names, constants and functions; pass the value as a parameter"
    )
    p.fail(f"unknown name '{name}' in the body of '{d.name}'", start, end, hint)


def not_callable(p, name: str) -> bool:
    """True when `name` is neither a built-in nor a user function of `p`'s file."""
    return name not in FUNCTIONS and find(p, name) is None
