"""Claims about functions: `expect diff(softplus2(x), x) == sigmoid(x)` or
`expect softplus2(0) == log(2)`.

The left side is any expression, usually a call; the names it uses are the claim's own inputs
(not the file's), so such claims live in a graph of their own (`Graph.rules`) that `agrad
check` checks beside the file's outputs, and a library of definitions and claims alone can be
checked.
"""

from __future__ import annotations

from ..graph import Claim, Graph
from .inline import table_of


class Rules:
    """The parser of one file's claims about functions and the graph they build."""

    def __init__(self, p):
        self.p = p
        self.q = type(p)(p.source)
        self.q.table = table_of(p)

    def read(self, stmt: list, split: int) -> None:
        """Add the claim `stmt` (`==` at index `split`)."""
        p, q = self.p, self.q
        g = q.graph
        lhs = stmt[1:split]
        start, end = stmt[0][2], stmt[-1][3]
        names: list[tuple] = []
        if len(lhs) > 3 and lhs[0][1] == "diff" and lhs[1][1] == "(" and lhs[-1][1] == ")":
            body, names = _diff_parts(p, lhs[2:-1])
            kind = "diff"
        else:
            body, kind = lhs, "value"
        if not body:
            p.fail(
                "expect: nothing to differentiate", start, end, "write expect diff(f(x), x) == ..."
            )
        node = q.expression(body, 0)
        target = p.source.snippet(body[0][2], body[-1][3])
        g.symbols.setdefault(target, node)
        for t in names:
            if t[1] not in g.input_ids:
                p.fail(
                    f"expect: '{t[1]}' is not a name the left side uses",
                    t[2],
                    t[3],
                    "diff(f(x), x) differentiates by a name written in f(x)",
                )
        if split + 1 >= len(stmt):
            p.fail("expected an expression after '=='", stmt[split][2], stmt[split][3])
        known = len(g.input_ids)
        rhs = q.expression(stmt, split + 1)
        if len(g.input_ids) > known:
            name = list(g.input_ids)[known]
            i = g.input_ids[name]
            p.fail(
                f"expect: '{name}' is not used on the left side",
                g.starts[i],
                g.ends[i],
                "the right side may use only names the left side uses",
            )
        wrt = names[0][1] if names else None
        then = tuple(t[1] for t in names[1:])
        g.claims.append(Claim(kind, target, wrt, rhs, p.span(start, end), then))

    def finish(self, main: Graph) -> Graph:
        """The claims' graph, with the file's `# shape:` and `# range:` for its names."""
        g = self.q.graph
        g.shapes = {k: v for k, v in main.shapes.items() if k in g.input_ids}
        g.ranges = {k: v for k, v in main.ranges.items() if k in g.input_ids}
        return g


def _diff_parts(p, inner: list) -> tuple[list, list]:
    """Split `expr, x, y` (the inside of diff(...)) at its top-level commas."""
    depth, cut = 0, []
    for k, t in enumerate(inner):
        if t[1] in ("(", "["):
            depth += 1
        elif t[1] in (")", "]"):
            depth -= 1
        elif t[1] == "," and depth == 0:
            cut.append(k)
    if not cut:
        p.fail(
            "expect diff(...) needs the names to differentiate by",
            inner[0][2],
            inner[-1][3],
            "write expect diff(f(x), x) == ...",
        )
    names = []
    for a, b in zip(cut, [*cut[1:], len(inner)], strict=True):
        part = inner[a + 1 : b]
        if len(part) != 1 or part[0][0] != "name":
            at = part[0] if part else inner[a]
            p.fail("expect diff(f, x): x must be one name", at[2], at[3])
        names.append(part[0])
    return inner[: cut[0]], names


def read_rule(p, stmt: list, split: int) -> None:
    """Read a claim about functions into parser `p`'s rules."""
    if p.rules is None:
        p.rules = Rules(p)
    p.rules.read(stmt, split)
