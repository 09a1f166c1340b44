"""The whole-file parser on calls with keyword arguments, indexing and expression lists: it
takes them (no fallback) and builds the line parser's graph, attributes included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from autogradcli.errors import AgradError, Source
from autogradcli.graph import Graph
from autogradcli.language import bulk, bulk_lex, parser

INDICES = ["0", "-1", "1:3", "::2", ":, 0", "1, -1", ":-1", "2:"]
CALLS = [
    "sum({a}, axis=0)",
    "sum({a}, axis=(0, 1), keepdims=true)",
    "mean({a}, axis=-1, keepdims=false)",
    "max({a})",
    "std({a}, ddof=1)",
    "softmax({a}, axis=0)",
    "logsumexp({a})",
    "max({a}, {b})",
    "reshape({a}, shape=(2, 2))",
]


@st.composite
def array_lines(draw) -> str:
    """A file of assignments over an array input W, with every array construct."""
    names = ["W"]
    lines = []
    for i in range(draw(st.integers(1, 14))):
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        pick = draw(st.integers(0, 4))
        if pick == 0:
            body = f"{a}[{draw(st.sampled_from(INDICES))}]"
        elif pick == 1:
            body = draw(st.sampled_from(CALLS)).format(a=a, b=b)
        elif pick == 2:
            body = f"[{a}, 2 * {b}]"
        elif pick == 3:
            body = f"sum({a}[{draw(st.sampled_from(INDICES))}], axis=0) * {b}"
        else:
            body = f"tanh({a}) + {b}"
        lines.append(f"v{i} = {body}\n")
        names.append(f"v{i}")
    return "".join(lines)


def contents(text: str, whole: bool):
    """A graph's contents (attributes included) from one path, or the error it raises."""
    try:
        if whole:
            g = Graph(Source("t.txt", text))
            if bulk.build(g, parser.parse_general) is None:
                return None
        else:
            g = parser.parse_general(text, "t.txt")
    except AgradError as exc:
        return ("error", exc.render())
    consts = {i: np.asarray(v).tolist() for i, v in g.consts.items()}
    return g.ops, g.inputs, g.attrs, g.names, list(g.starts), list(g.ends), consts, g.symbols


@settings(max_examples=200, deadline=None)
@given(array_lines())
def test_the_whole_file_path_takes_array_syntax_and_agrees(text):
    general = contents(text, whole=False)
    assert general[0] != "error"
    whole = contents(text, whole=True)
    assert whole is not None, text  # taken, not declined
    assert whole == general


def test_literal_tokens_join_the_shape_by_their_text():
    text = "a = W[0]\nb = W[1]\nc = sum(W, axis=0)\nd = sum(W, axis=1)\nf = a * b + c + d\n"
    assert contents(text, whole=True) == contents(text, whole=False)
    g = Graph(Source("t.txt", text))
    bulk.build(g, parser.parse_general)
    assert [a for a in g.attrs if a] == [
        {"key": (0,)}, {"key": (1,)}, {"axis": 0}, {"axis": 1}
    ]  # fmt: skip


def test_constructs_it_leaves_to_the_line_parser():
    for text in ("a = W.T\n", "a = [1, 2]\n", "a = stack(W, W, W)\n", "a = sum(W, axis=n)\n"):
        assert contents(text, whole=True) is None, text


def test_brackets_are_tokens_only_when_present():
    b = bulk_lex.padded("a = W[0]\n")
    toks = bulk_lex.tokens(b[:-8], brackets=True)
    kinds = toks["kind"].tolist()
    assert kinds == [bulk_lex.NAME, bulk_lex.EQ, bulk_lex.NAME, bulk_lex.LB, bulk_lex.NUM,
                     bulk_lex.RB]  # fmt: skip
