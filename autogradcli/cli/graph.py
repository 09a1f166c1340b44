"""`agrad graph`, `optimize`, `stats` and `compile`: commands about the graph itself."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ..errors import AgradError
from ..render.drawing import GraphRequest, graph_view, text_chunks
from .app import (
    AtOpt,
    ExprOpt,
    FileArg,
    OutputOpt,
    ValuesArg,
    app,
    assignments,
    console,
    formula,
    guard,
    note,
    out_option,
    pick_format,
)


class GraphFormat(str, Enum):
    """Output formats of `agrad graph` (svg, png and pdf run Graphviz)."""

    dot = "dot"
    tree = "tree"
    table = "table"
    mermaid = "mermaid"
    json = "json"
    svg = "svg"
    png = "png"
    pdf = "pdf"


class RenderFormat(str, Enum):
    """File types Graphviz can render."""

    svg = "svg"
    png = "png"
    pdf = "pdf"


GRAPH_SUFFIXES = {
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".json": "json",
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".txt": "tree",
}
RENDERED = ("svg", "png", "pdf")


class StatsFormat(str, Enum):
    """Output formats of `agrad stats`."""

    table = "table"
    json = "json"


@app.command(
    "graph",
    epilog="Examples:  agrad graph samples/seed.txt --at a=1 b=2 c=3 d=4  |  agrad graph "
    "samples/seed.txt --at a=1 b=2 c=3 d=4 -o seed.svg  |  agrad graph "
    "samples/mlp.txt --collapse --format mermaid  |  agrad graph samples/seed.txt --format tree",
    context_settings={"ignore_unknown_options": True},
)
@guard
def graph_command(
    ctx: typer.Context,
    file: FileArg = None,
    values: ValuesArg = None,
    expr: ExprOpt = None,
    at: AtOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[
        GraphFormat | None,
        typer.Option("--format", "-f", help="Output format [default: from -o's suffix, or dot]."),
    ] = None,
    out: Annotated[str | None, out_option("the drawing (format from the suffix)")] = None,
    render: Annotated[
        RenderFormat | None,
        typer.Option("--render", help="Same as --format svg, png or pdf (needs -o)."),
    ] = None,
    dpi: Annotated[
        int | None, typer.Option("--dpi", min=10, max=2400, help="Resolution of png output.")
    ] = None,
    backward: Annotated[
        bool,
        typer.Option("--backward", help="Draw the recorded backward pass as a graph (needs --at)."),
    ] = False,
    adjoints: Annotated[
        bool, typer.Option("--adjoints", help="Draw how each gradient accumulates (needs --at).")
    ] = False,
    order: Annotated[
        int | None,
        typer.Option("--order", min=1, max=2, help="With --backward, 2: the pass after it too."),
    ] = None,
    constants: Annotated[
        bool,
        typer.Option("--constants", help="Draw every constant as its own box (DOT, images)."),
    ] = False,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="One box per named intermediate.")
    ] = False,
    collapse_calls: Annotated[
        bool,
        typer.Option("--collapse-calls", help="Each call of a user function as one box."),
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
    digits: Annotated[
        int | None, typer.Option("--digits", min=1, max=17, help="Digits shown [default: 4].")
    ] = None,
) -> None:
    """Draw the computational graph: DOT, SVG/PNG/PDF, a terminal tree, tables, Mermaid, JSON."""
    from ..render.view import warn_if_big

    points = assignments(ctx, at, values)
    graph = formula(file, expr, points)
    if render is not None:
        if fmt is not None and fmt.value != render.value:
            raise AgradError(f"--render {render.value} contradicts --format {fmt.value}")
        fmt = GraphFormat(render.value)
    chosen = pick_format(fmt and fmt.value, out, GRAPH_SUFFIXES, "dot")
    if chosen in RENDERED and out is None:
        raise AgradError(
            f"{chosen} output is binary or long; it needs a file", None, f"add -o graph.{chosen}"
        )
    if digits is not None and chosen == "json":
        raise AgradError("--digits rounds drawings; JSON always has every digit", None, None)
    digits = 4 if digits is None else digits
    if dpi is not None and chosen != "png":
        raise AgradError("--dpi sets the resolution of png output", None, "add -o graph.png")
    if out:
        from ..io.outfile import check_target

        check_target(out, [file])
    request = GraphRequest(points, output, optimized, backward, adjoints, order, focus, depth,
                           collapse, collapse_calls,
                           chosen in ("dot", "mermaid", *RENDERED) and not constants)  # fmt: skip
    view = graph_view(graph, request)
    big = warn_if_big(view)
    if big:
        typer.echo(big, err=True)
    _write_graph(view, chosen, digits, out, file, dpi)


def _write_graph(view, fmt: str, digits: int, out: str | None, file: str | None, dpi) -> None:
    """Render a view in one format to stdout or -o; text formats stream chunk by chunk, so a
    large graph is never held as one string."""
    from ..io.outfile import atomic_open, write_behind, write_bytes

    if fmt in RENDERED:
        from ..render.dot import dot, render

        write_bytes(out, render(dot(view, digits), fmt, dpi), [file])
    elif fmt in ("tree", "table"):
        from ..render.table import view_tables, view_tree

        drawing = view_tree(view) if fmt == "tree" else view_tables(view)
        if out is None:
            console().print(drawing)
            return
        with atomic_open(out, [file]) as fh:
            console(file=fh).print(drawing)
    else:
        chunks = text_chunks(view, fmt, digits)
        if out is None:
            import sys

            sys.stdout.writelines(chunks)
            return
        with atomic_open(out, [file], binary=True) as fh:
            write_behind(fh, chunks)
    note(f"wrote {out}")


@app.command(
    "optimize",
    epilog="Examples:  agrad optimize samples/seed.txt  |  agrad optimize samples/mlp.txt "
    "-o mlp_optimized.txt",
)
@guard
def optimize_command(
    file: FileArg = None,
    expr: ExprOpt = None,
    out: Annotated[str | None, out_option("the optimized formula (agrad syntax)")] = None,
) -> None:
    """Optimize a graph (fold constants, safe identities, CSE, dead nodes); report each pass."""
    from rich.table import Table

    from ..graph.passes import optimize
    from ..io.outfile import check_target, write_text
    from ..language.printer import graph_text

    if out:
        check_target(out, [file])
    graph, report = optimize(formula(file, expr))
    table = Table(title="Optimizing " + _escaped(graph))
    for col in ("pass", "nodes", "edges"):
        table.add_column(col, justify="left" if col == "pass" else "right")
    for r in report:
        table.add_row(
            r.name,
            f"{r.nodes_before:,} → {r.nodes_after:,}",
            f"{r.edges_before:,} → {r.edges_after:,}",
        )
    console(stderr=out == "-").print(table)
    if out:
        origin = _origin(graph).replace("\n", " ").replace("\r", " ")
        text = f"# optimized by agrad from {origin} (claims are not copied)\n" + graph_text(graph)
        write_text(out, text, [file])
        if out != "-":
            note(f"wrote {out}")


def _origin(graph) -> str:
    return graph.source.name if graph.source else "<graph>"


def _escaped(graph) -> str:
    from rich.markup import escape

    return escape(_origin(graph))


@app.command("stats", epilog="Example: agrad stats samples/mlp.txt")
@guard
def stats_command(
    file: FileArg = None,
    expr: ExprOpt = None,
    fmt: Annotated[StatsFormat, typer.Option("--format", "-f", help="Output format.")] = (
        StatsFormat.table
    ),
) -> None:
    """Report size, depth, op histogram, shared subexpressions and parallel levels."""
    from ..graph.stats import stats

    graph = formula(file, expr)
    s = stats(graph)
    if fmt is StatsFormat.json:
        from ..io.outfile import write_stdout
        from ..render.jsondoc import dumps

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
        write_stdout(dumps(doc) + "\n")
        return
    from ..render.table import stats_tables

    console().print(stats_tables(s, _origin(graph)))


@app.command(
    "compile",
    epilog="Example: agrad compile samples/seed.txt -o seed_grad.py; then in Python: "
    "from seed_grad import value_and_grad; value_and_grad(a=1, b=2, c=3, d=4)",
)
@guard
def compile_command(
    file: FileArg = None,
    expr: ExprOpt = None,
    out: Annotated[str | None, out_option("the module (a .py file)")] = None,
    hessian: Annotated[
        bool,
        typer.Option("--hessian", help="Compile the gradient instead: its grads are the Hessian."),
    ] = False,
) -> None:
    """Write a standalone NumPy module with value_and_grad(**inputs) for a formula file."""
    from ..codegen.compile import compile_graph
    from ..io.outfile import check_target, write_text

    if out and out != "-" and not out.endswith(".py"):
        raise AgradError(f"{out}: a compiled module is Python source", None, "name it *.py")
    if out:
        check_target(out, [file])
    graph = formula(file, expr)
    origin = _origin(graph)
    if hessian:
        from ..engines.higher import gradient_graph

        graph = gradient_graph(graph)
    source = compile_graph(graph, origin)
    write_text(out or "-", source, [file])
    if out and out != "-":
        note(f"wrote {out}")
