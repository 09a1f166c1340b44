"""What `agrad graph` draws, as one call: a `GraphRequest` in, the `View` to render out."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AgradError


@dataclass
class GraphRequest:
    """Which graph to draw and how: values, the backward pass, groupings, focus."""

    points: list[str] | None = None  # `name=value` words of --at: values and gradients drawn
    output: list[str] | None = None
    optimized: bool = False
    backward: bool = False
    adjoints: bool = False
    order: int | None = None
    focus: str | None = None
    depth: int | None = None
    collapse: bool = False
    collapse_calls: bool = False
    fold_constants: bool = False  # one box for constants (graphs of at most 5,000 items)


def graph_view(graph, request: GraphRequest):
    """The view of `graph` that the request asks for, every flag checked."""
    from ..engines.evaluate import evaluate
    from ..graph.passes import optimize
    from ..language.values import bind, parse_assignments
    from .view import build

    if request.optimized:
        graph, _ = optimize(graph)
    ev = None
    if request.points:
        inputs = bind(graph, parse_assignments(request.points))
        ev = evaluate(graph, inputs, request.output, None, edges=True)
    else:
        _need_values(graph, request)
    _check(request)
    if request.backward:
        view = _backward_view(graph, ev, request)
    else:
        view = build(graph, ev, request.focus, request.depth, request.collapse, request.adjoints)
    if request.collapse_calls:
        from .calls import collapse_calls as collapse_all

        view = collapse_all(view)
    if request.fold_constants and len(view.items) <= 5000:
        from .view import fold_constants

        view = fold_constants(view)
    return view


def _need_values(graph, request: GraphRequest) -> None:
    """Refuse what draws gradients when no values were given."""
    if request.backward or request.adjoints:
        flag = "--backward" if request.backward else "--adjoints"
        raise AgradError(
            f"{flag} draws gradients, which need values", None, "pass the inputs: --at a=1 b=2"
        )
    if request.output:
        from ..engines.evaluate import pick_outputs

        pick_outputs(graph, request.output)
        raise AgradError(
            "--output picks the outputs whose gradients are drawn, which need values",
            None,
            "pass the inputs: --at a=1 b=2",
        )


def _check(request: GraphRequest) -> None:
    """Refuse combinations that cannot be drawn."""
    if request.order is not None and not request.backward:
        raise AgradError("--order draws further backward passes", None, "add --backward")
    if request.backward and request.adjoints:
        raise AgradError("--backward and --adjoints are two drawings", None, "choose one")
    if request.collapse and request.collapse_calls:
        raise AgradError(
            "--collapse and --collapse-calls are two groupings", None, "choose one of them"
        )
    if request.backward and request.collapse_calls:
        raise AgradError(
            "--collapse-calls groups the formula's calls; the backward pass has none",
            None,
            "drop --backward, or --collapse-calls",
        )


def _backward_view(graph, ev, request: GraphRequest):
    """The recorded backward pass of the first output (or --output) as its own graph."""
    from ..engines.evaluate import Evaluation
    from ..engines.higher import backward_graph
    from .view import build

    out = ev.outputs[0].node
    g2, values, first = backward_graph(graph, ev.inputs, out, request.order or 1)
    shown = Evaluation(g2, ev.inputs, values, [], [], None, [])
    return build(g2, shown, request.focus, request.depth, request.collapse, first_backward=first)


def text_chunks(view, fmt: str, digits: int):
    """A view as DOT, Mermaid or JSON text, in runs of about a megabyte: a large graph is
    never held as one string."""
    return _joined(_chunks(view, fmt, digits))


def _joined(chunks, size: int = 1 << 20):
    """Chunks joined into runs of about `size` characters: one write per run instead of one
    per line."""
    run: list[str] = []
    length = 0
    for chunk in chunks:
        run.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(run)
            run, length = [], 0
    if run:
        yield "".join(run)


def _chunks(view, fmt: str, digits: int):
    """A view as DOT, Mermaid or JSON text, in chunks."""
    if fmt == "dot":
        from .dot import dot_lines

        return dot_lines(view, digits)
    if fmt == "json":
        from .jsondoc import view_chunks

        return view_chunks(view)
    from .mermaid import mermaid

    return [mermaid(view, digits)]
