"""Messages a new user meets: an unclosed bracket named where it opened, `==` pointed to eq."""

from __future__ import annotations

import pytest

from autogradcli.errors import AgradError
from autogradcli.language.parse_errors import ParseErrors
from autogradcli.language.parser import parse


def _error(text: str) -> AgradError:
    with pytest.raises(AgradError) as caught:
        parse(text)
    return caught.value


def test_an_unclosed_parenthesis_is_named_on_its_own_line():
    err = _error("u = (a + b * b^2\nf = u + c\n")
    assert err.message == "'(' is never closed"
    assert err.span.source.locate(err.span.start) == (1, 5)
    assert "2*f" not in err.render()
    assert "add the missing ')'" in err.render()


def test_an_unclosed_call_is_named_where_it_opened():
    err = _error("u = sin(a +\nf = u + c\n")
    assert err.message == "'(' is never closed"
    assert err.span.source.locate(err.span.start) == (1, 8)


def test_a_statement_continued_inside_closed_brackets_keeps_its_own_error():
    err = _error("u = (a +\n b c)\n")
    assert err.message == "missing operator between 'b' and 'c'"
    assert (parse("u = (a +\n b)\nf = u * 2").lookup("f")) is not None


def test_double_equals_points_to_eq():
    err = _error("f = x == y")
    assert err.message == "unexpected '==': it separates the two sides of an expect claim only"
    assert "eq(x, y)" in err.render()
    assert ParseErrors  # the module under test


def test_eq_is_the_comparison_the_hint_names():
    import numpy as np

    from autogradcli.engines.evaluate import evaluate

    graph = parse("f = eq(x, y)")
    assert (
        float(evaluate(graph, {"x": np.float64(2.0), "y": np.float64(2.0)}).outputs[0].value) == 1
    )


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("return a\n", "return ends the body of a def block"),
        ("use t1.agrad\n", 'quote the file name: use "nn.agrad"'),
        ("def 1f(x): return x\n", "write def name(x, y):"),
    ],
)
def test_statement_words_get_their_own_hint_not_a_product(text, hint):
    with pytest.raises(AgradError) as err:
        parse(text, "t.txt")
    assert hint in err.value.hint and "*" not in err.value.hint
