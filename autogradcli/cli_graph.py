"""`agrad graph`, `optimize`, `stats` and `compile`: commands about the graph itself."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from .cli import (
    AtOpt,
    FileArg,
    Format,
    OutputOpt,
    ValuesArg,
    app,
    console,
    guard,
)
from .errors import AgradError


class GraphFormat(str, Enum):
    """Output formats of `agrad graph`."""

    dot = "dot"
    tree = "tree"
    table = "table"
    mermaid = "mermaid"
    json = "json"


class RenderFormat(str, Enum):
    """File types Graphviz can render."""

    svg = "svg"
    png = "png"
    pdf = "pdf"


@app.command(
    "graph",
    epilog="Examples:  agrad graph samples/seed.txt --at a=1 b=2 c=3 d=4  |  agrad graph "
    "samples/seed.txt --at a=1 b=2 c=3 d=4 --render svg -o seed.svg  |  agrad graph "
    "samples/mlp.txt --collapse --format mermaid  |  agrad graph samples/seed.txt --format tree",
    context_settings={"ignore_unknown_options": True},
)
@guard
def graph_command(
    file: FileArg,
    values: ValuesArg = None,
    at: AtOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[GraphFormat, typer.Option("--format", "-f", help="Output format.")] = (
        GraphFormat.dot
    ),
    out: Annotated[str | None, typer.Option("-o", metavar="FILE", help="Write to FILE.")] = None,
    render: Annotated[
        RenderFormat | None, typer.Option("--render", help="Run Graphviz: svg, png or pdf.")
    ] = None,
    backward: Annotated[
        bool, typer.Option("--backward", help="Draw how each gradient accumulates (needs --at).")
    ] = False,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="One box per named intermediate.")
    ] = False,
    focus: Annotated[
        str | None, typer.Option("--focus", metavar="NAME", help="Only what feeds NAME.")
    ] = None,
    depth: Annotated[
        int | None, typer.Option("--depth", min=0, help="Draw at most N edges back.")
    ] = None,
    optimized: Annotated[bool, typer.Option("--optimize", help="Draw the optimized graph.")] = (
        False
    ),
    digits: Annotated[int, typer.Option("--digits", min=1, max=17, help="Digits shown.")] = 4,
) -> None:
    """Draw the computational graph: DOT, a terminal tree, tables, Mermaid or JSON."""
    from .evaluate import evaluate
    from .optimize import optimize
    from .parser import parse_file
    from .values import bind, parse_assignments
    from .view import build, warn_if_big

    graph = parse_file(file)
    if optimized:
        graph, _ = optimize(graph)
    assignments = [*(at or []), *(values or [])]
    ev = None
    if assignments:
        inputs = bind(graph, parse_assignments(assignments))
        ev = evaluate(graph, inputs, output, None, edges=True)
    elif backward:
        raise AgradError(
            "--backward draws gradients, which need values", None, "pass the inputs: --at a=1 b=2"
        )
    if render is not None and out is None:
        raise AgradError(
            f"--render {render.value} needs an output file", None, f"add -o graph.{render.value}"
        )
    view = build(graph, ev, focus, depth, collapse, backward)
    big = warn_if_big(view)
    if big:
        typer.echo(big, err=True)
    if render is not None:
        from .render_dot import dot
        from .render_dot import render as run_dot

        run_dot(dot(view, digits), render.value, out)
        typer.echo(f"wrote {out}", err=True)
        return
    text = _graph_text(view, fmt, digits)
    if text is None:
        return
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def _graph_text(view, fmt: GraphFormat, digits: int) -> str | None:
    """Render a view; Rich formats print directly and return None."""
    if fmt is GraphFormat.dot:
        from .render_dot import dot

        return dot(view, digits)
    if fmt is GraphFormat.mermaid:
        from .render_mermaid import mermaid

        return mermaid(view, digits)
    if fmt is GraphFormat.json:
        from .render_json import dumps, view_dict

        return dumps(view_dict(view)) + "\n"
    from .render_table import view_tables, view_tree

    console().print(view_tree(view) if fmt is GraphFormat.tree else view_tables(view))
    return None


@app.command(
    "optimize",
    epilog="Examples:  agrad optimize samples/seed.txt  |  agrad optimize big.txt -o small.txt",
)
@guard
def optimize_command(
    file: FileArg,
    out: Annotated[
        str | None, typer.Option("-o", metavar="FILE", help="Write the optimized file here.")
    ] = None,
) -> None:
    """Optimize a graph (fold constants, safe identities, CSE, dead nodes); report each pass."""
    from rich.table import Table

    from .optimize import optimize
    from .parser import parse_file
    from .render_agrad import graph_text

    graph, report = optimize(parse_file(file))
    table = Table(title=f"Optimizing {file}")
    for col in ("pass", "nodes", "edges"):
        table.add_column(col, justify="left" if col == "pass" else "right")
    for r in report:
        table.add_row(
            r.name,
            f"{r.nodes_before:,} → {r.nodes_after:,}",
            f"{r.edges_before:,} → {r.edges_after:,}",
        )
    console().print(table)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(f"# optimized by agrad from {file} (claims are not copied)\n")
            fh.write(graph_text(graph))
        typer.echo(f"wrote {out}", err=True)


@app.command("stats", epilog="Example: agrad stats samples/mlp.txt")
@guard
def stats_command(
    file: FileArg,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Report size, depth, op histogram, shared subexpressions and parallel levels."""
    from .parser import parse_file
    from .stats import stats

    s = stats(parse_file(file))
    if fmt is Format.json:
        from .render_json import dumps

        doc = {
            "nodes": s.nodes,
            "edges": s.edges,
            "inputs": s.inputs,
            "constants": s.constants,
            "operations": s.operations,
            "outputs": s.outputs,
            "depth": s.depth,
            "ops": dict(s.ops.most_common()),
            "shared": s.reused,
            "duplicates": s.duplicates,
            "levels": s.levels,
        }
        sys.stdout.write(dumps(doc) + "\n")
        return
    from .render_table import stats_tables

    console().print(stats_tables(s, file))


@app.command(
    "compile",
    epilog="Example: agrad compile samples/seed.txt -o seed_grad.py; then in Python: "
    "from seed_grad import value_and_grad; value_and_grad(a=1, b=2, c=3, d=4)",
)
@guard
def compile_command(
    file: FileArg,
    out: Annotated[
        str | None, typer.Option("-o", metavar="FILE", help="Write the module here.")
    ] = None,
) -> None:
    """Write a standalone NumPy module with value_and_grad(**inputs) for a formula file."""
    from .compile import compile_graph
    from .parser import parse_file

    source = compile_graph(parse_file(file), file)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(source)
        typer.echo(f"wrote {out}", err=True)
    else:
        sys.stdout.write(source)
