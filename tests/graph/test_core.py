"""The flat graph: nodes in creation order, edges kept with duplicates, names and outputs."""

from __future__ import annotations

from autogradcli.graph import Graph as Reexported
from autogradcli.graph.core import CONST, INPUT, Graph


def test_nodes_in_order_with_duplicate_edges():
    assert Reexported is Graph
    g = Graph()
    x = g.add_input("x")
    sq = g.add_op("mul", (x, x))
    two = g.add_const(2.0)
    out = g.add_op("add", (sq, two))
    g.add_output("f", out)
    assert g.ops == [INPUT, "mul", CONST, "add"]
    assert g.inputs[sq] == (x, x)  # x*x keeps both edges
    assert g.edge_count() == 4 and g.outputs == [("f", out)]
    assert g.lookup("x") == x and g.lookup("nosuch") is None
