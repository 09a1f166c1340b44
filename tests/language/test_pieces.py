"""The language's smaller pieces: literals, `--at` values, claims and the byte lexer."""

from __future__ import annotations

import numpy as np
import pytest

from autogradcli.errors import AgradError, Source
from autogradcli.language.bulk_lex import decode
from autogradcli.language.claims import read_claim
from autogradcli.language.literals import parse_value
from autogradcli.language.parser import parse
from autogradcli.language.values import bind, parse_assignments


def test_values_and_literals():
    np.testing.assert_array_equal(parse_value(Source("--at", "x=[1, -2]"), 2), [1.0, -2.0])
    given = parse_assignments(["x=1,y=[2,3]"])
    graph = parse("f = x + sum(y)", "t.txt")
    assert {k: v.tolist() for k, v in bind(graph, given).items()} == {"x": 1.0, "y": [2.0, 3.0]}
    with pytest.raises(AgradError, match="no value for input 'y'"):
        bind(graph, parse_assignments(["x=1"]))


def test_claims_are_read_into_the_graph():
    graph = parse("f = x^2\nexpect diff(f, x) == 2*x\n", "t.txt")
    (claim,) = graph.claims
    assert (claim.kind, claim.target, claim.wrt, claim.text) == (
        "diff", "f", "x", "expect diff(f, x) == 2*x",
    )  # fmt: skip
    assert read_claim.__module__ == "autogradcli.language.claims"


def test_bulk_lexer_decodes_bytes():
    assert decode(np.array([b"v1", b"x22"])) == ["v1", "x22"]


def test_the_parser_is_built_from_its_error_reports_and_the_simple_line_shortcut():
    from autogradcli.language.parse_errors import ParseErrors
    from autogradcli.language.parser import _Parser
    from autogradcli.language.simple_lines import SimpleLines

    assert issubclass(_Parser, ParseErrors) and issubclass(_Parser, SimpleLines)
    with pytest.raises(AgradError, match="missing operator between 'x' and 'y'") as err:
        parse("f = x y", "t.txt")
    assert err.value.hint == "did you mean 'x*y'?"
    long = "\n".join(f"v{k} = x * {k} + sin(x)" for k in range(60)) + "\n"
    assert len(parse(long, "t.txt")) > 180  # over SIMPLE_MIN_CHARS: the shortcut reads it
