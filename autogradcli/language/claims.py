"""`expect` statements: claims about values and derivatives that `agrad check` verifies."""

from __future__ import annotations

from ..errors import suggest
from ..graph import Claim


def read_claim(p, stmt: list) -> None:
    """Parse `expect f == expr` or `expect diff(f, x) == expr` for parser `p`."""
    g = p.graph
    split = next((k for k, t in enumerate(stmt) if t[1] == "=="), None)
    start, end = stmt[0][2], stmt[-1][3]
    if split is None:
        p.fail(
            "an expect statement needs '=='",
            start,
            end,
            "write: expect diff(f, x) == cos(x)   or   expect f == x^2",
        )
    lhs = stmt[1:split]
    texts = [t[1] for t in lhs]
    order = (len(lhs) - 4) // 2  # diff(f, x1, ..., xk): 4 + 2k tokens
    shape = ["(", *[","] * order, ")"]
    if len(lhs) == 1 and lhs[0][0] == "name":
        kind, target, names = "value", texts[0], []
    elif order >= 1 and len(lhs) == 4 + 2 * order and texts[0] == "diff" and texts[1::2] == shape:
        kind, target, names = "diff", texts[2], texts[4::2]
    elif _has_call(lhs):
        from .rules import read_rule

        read_rule(p, stmt, split)  # a claim about functions: `expect diff(f(x), x) == ...`
        return
    else:
        p.fail(
            "the left side of expect must be a name, diff(name, input) or diff(name, x, y)",
            lhs[0][2] if lhs else start,
            lhs[-1][3] if lhs else end,
            "write: expect diff(f, x) == cos(x)   or   expect diff(f, x, x) == -sin(x)",
        )
    if target not in g.symbols and target not in g.input_ids:
        i = lhs[2 if kind == "diff" else 0]
        p.fail(
            f"expect: '{target}' is not defined above this line",
            i[2],
            i[3],
            suggest(target, [*g.symbols, *g.input_ids]) or "claims follow the lines they check",
        )
    for k, wrt in enumerate(names):
        if wrt not in g.input_ids:
            i = lhs[4 + 2 * k]
            p.fail(
                f"expect: '{wrt}' is not an input of the formula",
                i[2],
                i[3],
                suggest(wrt, list(g.input_ids)) or "diff(f, x) differentiates by an input",
            )
    if split + 1 >= len(stmt):
        p.fail("expected an expression after '=='", stmt[split][2], stmt[split][3])
    known = len(g.input_ids)
    node = p.expression(stmt, split + 1)
    if len(g.input_ids) > known:
        name = list(g.input_ids)[known]
        i = g.input_ids[name]
        p.fail(
            f"expect: '{name}' is not an input of the formula",
            g.starts[i],
            g.ends[i],
            "a claim may only use names the formula defines or uses",
        )
    wrt, then = (names[0], tuple(names[1:])) if names else (None, ())
    g.claims.append(Claim(kind, target, wrt, node, p.span(start, end), then))


def _has_call(lhs: list) -> bool:
    """True when the left side calls a function (other than an outer `diff(`)."""
    for k in range(len(lhs) - 1):
        if lhs[k][0] == "name" and lhs[k + 1][1] == "(" and (k > 0 or lhs[0][1] != "diff"):
            return True
    return False
