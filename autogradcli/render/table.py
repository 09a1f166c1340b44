"""Rich tables for the terminal. User text is passed as Text, never as markup."""

from __future__ import annotations

import re

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..engines.evaluate import Evaluation
from ..errors import printable
from ..graph import CONST, INPUT
from .numfmt import fmt


def _t(s: str, style: str = "") -> Text:
    """User text: control characters escaped, so it can start no new line."""
    return Text(printable(s), style=style)


def _n(s: str, style: str = "") -> Text:
    """Numbers as NumPy prints them: a matrix keeps its line breaks."""
    return Text(s, style=style)


_NUMBER = re.compile(r"\[*[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|inf)\]*,?")


def keep_numbers_whole(table: Table) -> Table:
    """Give each column at least the width of its longest number, so that a narrow terminal
    wraps arrays between elements and never cuts a number (or shortens it to `-…`); text
    that must still break is folded, never replaced by an ellipsis."""
    for column in table.columns:
        column.overflow = "fold"
        longest = 0
        for cell in column._cells:
            for word in str(cell).split():
                if _NUMBER.fullmatch(word):
                    longest = max(longest, len(word))
        if longest:
            column.min_width = max(column.min_width or 0, longest)
    return table


def evaluation_tables(
    ev: Evaluation, nodes: bool = False, edges: bool = False, digits: int = 6
) -> Group:
    """The output, gradient (or Jacobian), node and edge tables of an evaluation."""
    parts: list = [_gradient_table(ev, digits)]
    for r in ev.outputs:
        if r.jacobian is not None and r.value.ndim > 0:
            parts.append(_jacobian_table(ev, r, digits))
    if nodes:
        parts.append(_node_table(ev, digits))
    if edges:
        parts.append(_edge_table(ev, digits))
    return Group(*parts)


def _gradient_table(ev: Evaluation, digits: int) -> Table:
    several = len(ev.outputs) > 1
    title = "Jacobian" if several else f"{ev.outputs[0].name} = {fmt(ev.outputs[0].value, digits)}"
    table = Table(title=_t(title), title_style="bold")
    table.add_column("input")
    table.add_column("value", justify="right")
    for r in ev.outputs:
        table.add_column(_t(f"∂{r.name}/∂input"), justify="right")
    for w in ev.wrt:
        node = ev.graph.lookup(w)
        row = [_t(w), _n(fmt(ev.values[node], digits))]
        row += [_n(fmt(r.gradient[w], digits)) for r in ev.outputs]
        table.add_row(*row)
    if several:
        table.add_section()
        table.add_row(
            _t("output value", "bold"), _t(""), *[_n(fmt(r.value, digits)) for r in ev.outputs]
        )
    if any(r.value.ndim > 0 for r in ev.outputs):
        table.caption = "array outputs: gradient of the sum of the elements (--jacobian: full)"
    return keep_numbers_whole(table)


def _jacobian_table(ev: Evaluation, r, digits: int) -> Table:
    table = Table(title=_t(f"Jacobian of {r.name}, shape {r.value.shape} × input shape"))
    table.add_column("input")
    table.add_column("Jacobian", justify="right")
    for w, jac in r.jacobian.items():
        table.add_row(_t(w), _n(fmt(jac, digits)))
    return keep_numbers_whole(table)


def _node_table(ev: Evaluation, digits: int) -> Table:
    g = ev.graph
    table = Table(title="Nodes (in evaluation order)")
    for col in ("id", "name", "op", "inputs", "value"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for r in ev.outputs:
        table.add_column(_t(f"adjoint ∂{r.name}/∂node"), justify="right")
    table.add_column("source")
    for i in range(len(g)):
        op = g.ops[i]
        span = g.span(i)
        where = "{}:{}".format(*span.source.locate(span.start)) if span and op != CONST else ""
        label = "const" if op == CONST else op
        row = [
            _t(f"n{i}"),
            _t(g.names[i] or ""),
            _t(label, "dim" if op in (CONST, INPUT) else ""),
            _t(", ".join(f"n{j}" for j in g.inputs[i])),
            _n(fmt(ev.values[i], digits)),
        ]
        row += [_n("" if r.adjoints[i] is None else fmt(r.adjoints[i], digits)) for r in ev.outputs]
        row.append(_t(f"{where} {span.text()}".strip() if span else ""))
        table.add_row(*row)
    return keep_numbers_whole(table)


def _edge_table(ev: Evaluation, digits: int) -> Table:
    g = ev.graph
    table = Table(title="Edges: local partial ∂to/∂from and contribution = adjoint × partial")
    for col in ("from", "to", "arg", "local partial"):
        table.add_column(col, justify="right" if col == "local partial" else "left")
    for r in ev.outputs:
        table.add_column(_t(f"contribution to ∂{r.name}"), justify="right")
    for i, a in enumerate(g.inputs):
        for k, j in enumerate(a):
            row = [_t(_ref(g, j)), _t(_ref(g, i)), _t(str(k)), _n(fmt(ev.partials[(i, k)], digits))]
            row += [
                _n(fmt(r.contributions[(i, k)], digits)) if (i, k) in r.contributions else _t("")
                for r in ev.outputs
            ]
            table.add_row(*row)
    return keep_numbers_whole(table)


def _ref(g, i: int) -> str:
    name = g.names[i]
    if g.ops[i] == CONST and name is None:
        return f"n{i} ({fmt(g.consts[i])})"
    return f"n{i} {name}" if name else f"n{i} {g.ops[i]}"


def ops_table(ops) -> Table:
    """`agrad ops`: every registry op with its derivative, domain and kink convention."""
    table = Table(title="Operations (one registry entry each)")
    for col in ("name", "syntax", "arity", "derivative", "test domain", "at kinks", "meaning"):
        table.add_column(col)
    for op in ops:
        domain = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in op.domain)
        table.add_row(
            *map(_t, (op.name, op.syntax, str(op.arity), op.derivative, domain, op.kink, op.doc))
        )
    table.caption = (
        "Second derivatives differentiate these rules again, so they follow the same "
        "conventions: abs'' = relu'' = sign'' = 0 (also at 0), max'' = min'' = 0 (also at a "
        "tie), as PyTorch's double backward gives them; prod has none yet."
    )
    return table


STATUS_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "error": "bold red",
    "not differentiable here": "yellow",
}


def check_table(results, title: str = "agrad check") -> Group:
    """The summary of `agrad check`: a table per file, a row per output × input, claim or rule.

    The file is each table's title, so a long path is never cut to fit a column.
    """
    by_file: dict[str, list] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    tables = []
    for k, (file, rows) in enumerate(by_file.items()):
        last = k == len(by_file) - 1
        table = Table(
            title=_t(f"{title}: {file}" if k == 0 else file),
            title_justify="left",
            caption="simplify: whether SymPy proved a claim's two sides "
            "equal (numeric agreement decides the status); error: the largest scaled error"
            if last and any(r.kind == "claim" for r in results)
            else None,
        )
        for col in ("output", "wrt", "points", "error", "status", "simplify"):
            table.add_column(col, justify="right" if col in ("points", "error") else "left")
        for r in rows:
            style = STATUS_STYLE.get(r.status, "dim" if r.status.startswith("skipped") else "")
            error = "" if r.max_error is None else f"{r.max_error:.1e}"
            points = str(r.points) + (f" (+{r.kinks} at kinks)" if r.kinks else "")
            table.add_row(
                *map(_t, (r.output, r.wrt, points, error)), _t(r.status, style), _t(r.proof)
            )
        tables.append(keep_numbers_whole(table))
    return Group(*tables)


def check_details(results) -> list[str]:
    """One line per failure or note worth reading under the table."""
    return [
        printable(f"{r.file}:{r.line}: {r.output} {('d/d' + r.wrt) if r.wrt else ''}: {r.detail}")
        for r in results
        if r.detail and (r.failed or r.kind in ("claim", "error"))
    ]


def eval_check_table(results, digits: int = 6) -> Table:
    """`agrad eval --check`: the engine's gradient beside SymPy and finite differences."""
    table = Table(title="Gradient check: engine vs SymPy vs finite differences")
    for col in ("output", "input", "engine", "SymPy", "finite diff.", "max rel. error", "status"):
        table.add_column(col, justify="left" if col in ("output", "input", "status") else "right")
    for r in results:
        v = r.values
        cells = [
            fmt(v[k], digits) if v.get(k) is not None else "" for k in ("engine", "sympy", "fd")
        ]
        error = "" if r.max_error is None else f"{r.max_error:.1e}"
        style = STATUS_STYLE.get(r.status, "dim")
        table.add_row(_t(r.output), _t(r.wrt), *map(_n, cells), _t(error), _t(r.status, style))
    return keep_numbers_whole(table)


def view_tree(view):
    """A Rich tree from each root down to its inputs; a node seen before is referenced."""
    from rich.tree import Tree

    from .view import label_lines

    items = {item.id: item for item in view.items}
    children: dict[int, list[int]] = {}
    for link in view.links:
        children.setdefault(link.dst, []).append(link.src)
    fed = {link.src for link in view.links}
    top = Tree(_t("agrad graph" + (" (adjoints)" if view.backward else "")), guide_style="dim")
    seen: set[int] = set()
    stack = [(i, top) for i in reversed([it.id for it in view.items if it.id not in fed])]
    while stack:
        i, parent = stack.pop()
        item = items[i]
        text = "  ".join(label_lines(view, item)) + (
            f"   {item.source}" if item.kind != "const" and item.source != item.title else ""
        )
        if i in seen and children.get(i):
            parent.add(_t(f"n{i} {item.title} (shown above)", "dim"))
            continue
        seen.add(i)
        branch = parent.add(_t(f"n{i} {text}", "bold" if item.kind == "output" else ""))
        for j in reversed(children.get(i, [])):
            stack.append((j, branch))
    return top


def view_tables(view) -> Group:
    """Node and edge tables for `agrad graph --format table`."""
    from .view import edge_text

    nodes = Table(title="Nodes")
    for col in ("id", "kind", "label", "op", "value", "grad", "source"):
        nodes.add_column(col)
    for item in view.items:
        value = view.value(item.id)
        adjoint = view.adjoint(item.id)
        nodes.add_row(
            *map(_t, (f"n{item.id}", item.kind, item.title, item.op)),
            _n("" if value is None else fmt(value)),
            _n("" if adjoint is None else fmt(adjoint)),
            _t(f"{item.location} {item.source}".strip()),
        )
    edges = Table(title="Edges" + (" (contributions to adjoints)" if view.backward else ""))
    for col in ("from", "to", "arg", "label"):
        edges.add_column(col)
    for link in view.links:
        edges.add_row(
            *map(
                _t,
                (
                    f"n{link.src}",
                    f"n{link.dst}",
                    "" if link.arg < 0 else str(link.arg),
                    edge_text(view, link),
                ),
            )
        )
    return Group(keep_numbers_whole(nodes), keep_numbers_whole(edges))


def stats_tables(s, name: str) -> Group:
    """`agrad stats`: sizes, op histogram and parallel levels."""
    summary = Table(title=_t(f"Graph of {name}"), show_header=False)
    summary.add_column("what")
    summary.add_column("count", justify="right")
    rows = [
        ("nodes", s.nodes),
        ("edges", s.edges),
        ("inputs", s.inputs),
        ("constants", s.constants),
        ("operations", s.operations),
        ("outputs", s.outputs),
        ("depth (critical path, in operations)", s.depth),
        ("shared nodes (used more than once)", s.reused),
        ("duplicate subexpressions (CSE would merge)", s.duplicates),
        ("parallel levels", len(s.levels)),
        ("widest level", max(s.levels, default=0)),
    ]
    for what, count in rows:
        summary.add_row(what, f"{count:,}")
    ops = Table(title="Operations")
    ops.add_column("op")
    ops.add_column("count", justify="right")
    for op, count in s.ops.most_common():
        ops.add_row(op, f"{count:,}")
    width = Table(title="Parallel levels: operations that could run at the same time")
    width.add_column("level", justify="right")
    width.add_column("width", justify="right")
    width.add_column("")
    top = max(s.levels, default=1)
    shown = s.levels if len(s.levels) <= 40 else s.levels[:20] + s.levels[-20:]
    for k, w in enumerate(shown, 1):
        level = k if len(s.levels) <= 40 or k <= 20 else len(s.levels) - 40 + k
        width.add_row(str(level), str(w), "█" * max(1, round(30 * w / top)))
    return Group(summary, ops, width)


def minimize_table(run) -> Table:
    """Start and end of a minimization."""
    start, end = run.start, run.end
    verb = "Converged" if run.reason.startswith("converged") else "Stopped"
    table = Table(title=_t(f"{verb} after {end[0]} steps: {run.reason}"))
    table.add_column("")
    table.add_column("start", justify="right")
    table.add_column("end", justify="right")
    for name in run.names:
        table.add_row(_t(name), _n(fmt(start[3][name], 10)), _n(fmt(end[3][name], 10)))
    for name in run.fixed:
        table.add_row(_t(f"{name} (fixed)"), _n(fmt(start[3][name], 10)), "")
    table.add_section()
    table.add_row("value", fmt(start[1], 10), fmt(end[1], 10))
    table.add_row("gradient norm", fmt(start[2], 4), fmt(end[2], 4))
    return keep_numbers_whole(table)
