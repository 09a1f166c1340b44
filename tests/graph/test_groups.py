"""Graph.groups: one record per inlined call, kept consistent (or dropped) by the passes."""

from __future__ import annotations

import numpy as np

from autogradcli.engines.evaluate import evaluate
from autogradcli.graph import Group
from autogradcli.graph.groups import owners, remap
from autogradcli.graph.passes import eliminate_common, eliminate_dead, fold_constants, optimize
from autogradcli.language.parser import parse

TEXT = """\
sq(x) = x * x
def f(a, b):
    t = sq(a) + b
    return log(t)
y = f(p, q) * f(q, p)
"""


def test_groups_record_each_call_parents_first():
    g = parse(TEXT, "t.txt")
    shape = [(grp.name, grp.first, grp.last, grp.parent) for grp in g.groups]
    assert shape == [("f", 2, 4, None), ("sq", 2, 2, 0), ("f", 5, 7, None), ("sq", 5, 5, 2)]
    for grp in g.groups:
        assert g.ops[grp.last] != "input"
        body = range(grp.first, grp.last + 1)
        assert all(j <= grp.last for i in body for j in g.inputs[i])
    assert g.groups[0].call_span.where() == "t.txt:5:5"
    assert g.groups[1].call_span.where() == "t.txt:3:9"
    assert g.groups[1].call_span.via.where() == "t.txt:5:5"
    assert isinstance(g.groups[0], Group)


def test_owner_is_the_innermost_call():
    g = parse(TEXT, "t.txt")
    assert [g.owner(i) for i in range(len(g))] == [-1, -1, 1, 0, 0, 3, 2, 2, -1]
    assert owners(g.groups, len(g)) == [g.owner(i) for i in range(len(g))]


def test_where_names_the_body_and_every_call_site():
    g = parse(TEXT, "t.txt")
    assert g.where(2) == "t.txt:1:9 (in sq, called at t.txt:3:9) (in f, called at t.txt:5:5)"
    assert g.where(5) == "t.txt:1:9 (in sq, called at t.txt:3:9) (in f, called at t.txt:5:15)"
    assert g.where(8) == "t.txt:5:5"


def test_passes_keep_groups_that_survive_whole():
    g = parse("f(x) = exp(x) * 2\ny = f(a) + f(b)", "t.txt")
    for run in (fold_constants, eliminate_dead, eliminate_common):
        after = run(g)
        assert [(grp.name, grp.parent) for grp in after.groups] == [("f", None), ("f", None)]
        for grp in after.groups:
            assert after.ops[grp.last] == "mul"
            assert after.ops[grp.first] in ("const", "exp")


def test_cse_across_two_equal_calls_drops_the_second_group():
    g = parse("f(x) = exp(x) * 2\ny = f(a) + f(a)", "t.txt")
    after = eliminate_common(g)
    assert [grp.name for grp in after.groups] == ["f"]
    values = {"a": np.array(0.3)}
    assert evaluate(after, values).outputs[0].value == evaluate(g, values).outputs[0].value


def test_a_call_folded_to_a_constant_stays_a_group_of_that_constant():
    g = parse("k(x) = x * 3\nf(x) = k(2) + x\ny = f(a)", "t.txt")
    assert [grp.name for grp in g.groups] == ["f", "k"]
    after, _ = optimize(g)
    assert [(grp.name, grp.parent) for grp in after.groups] == [("f", None), ("k", 0)]
    k = after.groups[1]
    assert k.first == k.last and float(after.consts[k.last]) == 6


def test_a_call_whose_result_folds_away_is_dropped():
    g = parse("one(x) = x * 1\ny = one(a) + 1", "t.txt")
    after, _ = optimize(g)
    assert after.groups == []


def test_remap_reparents_to_the_nearest_survivor():
    groups = [Group("a", 0, 5, None, None), Group("b", 1, 4, None, 0), Group("c", 2, 3, None, 1)]
    mapping = [0, -1, 1, 2, 0, 3]  # b's result merged into an earlier node
    new = remap(groups, mapping)
    assert [(x.name, x.first, x.last, x.parent) for x in new] == [
        ("a", 0, 3, None),
        ("c", 1, 2, 0),
    ]
