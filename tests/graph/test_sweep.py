"""The one reverse sweep: order, accumulation and which adjoints exist, with a toy backend."""

from __future__ import annotations

from autogradcli.engines.interpreter import needs_grad
from autogradcli.graph.sweep import sweep
from autogradcli.language.parser import parse


def test_the_sweep_visits_children_first_and_sums_where_paths_meet():
    graph = parse("f = a * b + a", "t.txt")  # df/da = b + 1, df/db = a
    values = {graph.input_ids["a"]: 3, graph.input_ids["b"]: 5}
    seen = []

    def vjp(i, g):  # exact integer arithmetic: mul and add only
        seen.append(i)
        x, y = graph.inputs[i]
        if graph.ops[i] == "add":
            return [g, g]
        return [g * values[y], g * values[x]]

    out = graph.outputs[0][1]
    needs = needs_grad(graph, graph.input_ids.values())
    adj = sweep(graph, out, needs, 1, vjp)
    assert seen == sorted(seen, reverse=True)
    assert adj[graph.input_ids["a"]] == 5 + 1 and adj[graph.input_ids["b"]] == 3


def test_unneeded_nodes_get_no_adjoint():
    graph = parse("f = a * b", "t.txt")
    needs = needs_grad(graph, [graph.input_ids["a"]])
    adj = sweep(graph, graph.outputs[0][1], needs, 1.0, lambda i, g: [g * 2.0, g * 7.0])
    assert adj[graph.input_ids["a"]] == 2.0 and adj[graph.input_ids["b"]] is None
    assert sweep(graph, graph.input_ids["b"], needs, 1.0, None) == [None] * len(graph)
