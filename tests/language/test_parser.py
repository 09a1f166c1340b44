"""The expression language: precedence, literals, statements, scale and error positions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import run, value

from autogradcli.errors import AgradError
from autogradcli.language.lexer import MAX_NESTING
from autogradcli.language.parser import parse


@pytest.mark.parametrize(
    ("text", "at", "expected"),
    [
        ("-x^2", {"x": 3}, -9.0),
        ("-x**2", {"x": 3}, -9.0),
        ("2^3^2", {}, 512.0),
        ("2**3**2", {}, 512.0),
        ("2^-1", {}, 0.5),
        ("2^-x*3", {"x": 1}, 1.5),
        ("x - -1", {"x": 2}, 3.0),
        ("x--1", {"x": 2}, 3.0),
        ("--x", {"x": 2}, 2.0),
        ("+x", {"x": 2}, 2.0),
        ("-2^2", {}, -4.0),
        ("(-2)^2", {}, 4.0),
        ("2*3^2", {}, 18.0),
        ("(2*3)^2", {}, 36.0),
        ("1 - 2 - 3", {}, -4.0),
        ("8 / 4 / 2", {}, 1.0),
        ("2 * 3 + 4 * 5", {}, 26.0),
        ("2 + 3 * 4", {}, 14.0),
        ("-3 * -x", {"x": 2}, 6.0),
        ("x^-y^z", {"x": 2, "y": 1, "z": 3}, 0.5),
        ("pow(2, 10)", {}, 1024.0),
        ("2 ^ 0.5 ^ 2", {}, 2**0.25),
        (".5", {}, 0.5),
        ("2.", {}, 2.0),
        ("1E-3", {}, 0.001),
        ("1e+2", {}, 100.0),
        ("2.5e1", {}, 25.0),
        ("pi", {}, math.pi),
        ("e", {}, math.e),
        ("2*pi*e", {}, 2 * math.pi * math.e),
        ("sum([1, 2, 3])", {}, 6.0),
        ("sum([[1, 2], [3, 4]] @ [1, -1])", {}, -2.0),
        ("[1, 2] @ [3, 4]", {}, 11.0),
        ("log(e)", {}, 1.0),
        ("max(1, 2) + min(1, 2)", {}, 3.0),
        ("atan2(1, 1)", {}, math.pi / 4),
    ],
)
def test_precedence_and_literals(text, at, expected):
    assert value(text, **at) == pytest.approx(expected, rel=1e-15)


def test_statements_comments_and_named_intermediates():
    text = "# header\nu = (a + b) * b^2   # trailing comment\nv = (c - d) * d**2; f = u + v\n"
    ev = run(text, a=1, b=2, c=3, d=4)
    assert ev.outputs[0].name == "f"
    assert float(ev.outputs[0].value) == -4.0


def test_newlines_inside_brackets_are_ignored():
    assert value("f = (a +\n  b) * sum([1,\n 2])", a=1, b=2) == 9.0


def test_crlf_tabs_bom_and_unicode_identifiers():
    text = "\ufeffθ2 = \tθ * 2\r\nf = θ2 + 1\r\n"
    ev = run(text, θ=3)
    assert float(ev.outputs[0].value) == 7.0
    assert set(ev.outputs[0].gradient) == {"θ"}


def test_bare_expressions_are_outputs_with_documented_names():
    g = parse("x * 2\ny\n(x + y)", "t.txt")
    assert [name for name, _ in g.outputs] == ["out1", "y", "out2"]
    g = parse("u = x + 1\nu * 2", "t.txt")
    assert [name for name, _ in g.outputs] == ["out"]


def test_last_assignment_is_the_output_without_bare_expressions():
    g = parse("a = x + 1\nb = a * 2", "t.txt")
    assert [name for name, _ in g.outputs] == ["b"]


def test_equal_literals_share_one_constant_node():
    g = parse("f = x^2 + y^2", "t.txt")
    assert g.ops.count("const") == 1


def test_duplicate_operands_keep_both_edges():
    g = parse("f = x * x", "t.txt")
    assert g.inputs[-1] == (0, 0)


def test_ten_thousand_term_sum_on_one_line():
    n = 10_000
    text = "f = " + " + ".join(f"x{i % 10}" for i in range(n))
    ev = run(text, **{f"x{k}": k + 1 for k in range(10)})
    assert float(ev.outputs[0].value) == sum((i % 10) + 1 for i in range(n))
    assert float(ev.outputs[0].gradient["x3"]) == n / 10


def test_sin_nested_a_thousand_deep():
    depth = 1000
    ev = run("f = " + "sin(" * depth + "x" + ")" * depth, x=0.5)
    expected, d = 0.5, 1.0
    for _ in range(depth):
        d *= math.cos(expected)
        expected = math.sin(expected)
    assert float(ev.outputs[0].value) == pytest.approx(expected, rel=1e-12)
    assert float(ev.outputs[0].gradient["x"]) == pytest.approx(d, rel=1e-9)


def test_parentheses_deeper_than_the_limit_are_a_clear_error():
    depth = MAX_NESTING + 1
    with pytest.raises(AgradError) as info:
        parse("f = " + "(" * depth + "x" + ")" * depth, "t.txt")
    assert f"{MAX_NESTING:,} deep" in info.value.message
    assert info.value.span.where() == f"t.txt:1:{5 + MAX_NESTING}"
    assert value("(" * 5000 + "x" + ")" * 5000, x=2) == 2.0


@pytest.mark.slow
def test_a_million_line_file():
    lines = ["v0 = x"] + [f"v{i} = v{i - 1} + x" for i in range(1, 1_000_000)]
    ev = run("\n".join(lines), x=0.5)
    assert float(ev.outputs[0].value) == 500_000.0
    assert float(ev.outputs[0].gradient["x"]) == 1_000_000.0


ERRORS = [
    ("f = sine(x)", "unknown function 'sine'", 1, 5, "did you mean 'sin'?"),
    ("f = x +\n", "the expression ends after '+'", 1, 7, None),
    ("f = (x + 1", "'(' is never closed", 1, 5, "add the missing ')'"),
    ("f = sin(x", "'sin(' is never closed", 1, 5, None),
    ("f = x + 1)", "')' has no matching '('", 1, 10, None),
    ("f = 2x", "missing operator between '2' and 'x'", 1, 6, "did you mean '2*x'?"),
    ("f = x y", "missing operator between 'x' and 'y'", 1, 7, None),
    ("f = x $ y", "unexpected character '$'", 1, 7, None),
    ("f = x % ", "the expression ends after '%'", 1, 7, "complete the expression"),
    ("f = sin(x, y)", "sin() takes 1 argument, got 2", 1, 5, "write sin(x)"),
    ("f = atan2(x)", "atan2() takes 2 arguments, got 1", 1, 5, None),
    ("f = sin()", "sin() takes 1 argument, got 0", 1, 5, None),
    ("f = x\nf = y", "'f' is assigned twice", 2, 1, "first assigned at t.txt:1:1"),
    ("g = x + 1\nx = 2", "'x' is used before it is assigned", 1, 5, "assigned later, at t.txt:2:1"),
    ("pi = 3", "cannot assign to the constant 'pi'", 1, 1, None),
    ("sin = 3", "'sin' is a function and cannot be assigned", 1, 1, None),
    ("f = sin + 1", "'sin' is a function", 1, 5, "call it: sin(x)"),
    ("f = x + x(2)", "'x' is not a function", 1, 9, "write x*(...) to multiply"),
    ("# only a comment\n\n", "the file has no expression to evaluate", 1, 1, None),
    ("", "the file has no expression to evaluate", 1, 1, None),
    ("f =", "expected an expression after '='", 1, 3, None),
    ("f = * x", "expected an expression after '=', found '*'", 1, 5, None),
    ("f = x * * y", "expected an expression after '*', found '*'", 1, 9, None),
    ("f = x, y", "',' outside a function call", 1, 6, None),
    ("f = (x, y)", "',' inside parentheses that are not a call", 1, 7, None),
    ("a + b = c", "'=' must follow a single name", 1, 7, None),
    ("f = [1, x", "'[' is never closed", 1, 5, None),
    ("f = [[1, 2], [3]]", "array rows have different lengths", 1, 5, None),
    ("f = []", "empty array", 1, 5, None),
    ("f = [1, 2", "'[' is never closed", 1, 5, None),
    ("f = x ]", "']' has no matching '['", 1, 7, None),
    ("u = 1\n\tf = u +\t(x", "'(' is never closed", 2, 10, None),
]


@pytest.mark.parametrize(("text", "message", "line", "col", "hint"), ERRORS)
def test_error_messages_and_positions(text, message, line, col, hint):
    with pytest.raises(AgradError) as info:
        parse(text, "t.txt")
    err = info.value
    assert message in err.message
    assert err.span.where() == f"t.txt:{line}:{col}"
    if hint:
        assert hint in err.hint
    rendered = err.render()
    assert rendered.startswith(f"t.txt:{line}:{col}: error: ")
    caret_line = rendered.splitlines()[2]
    source_line = rendered.splitlines()[1]
    assert caret_line.index("^") == source_line.index("| ") + 2 + col - 1


def test_caret_under_tabs_lines_up():
    with pytest.raises(AgradError) as info:
        parse("\tf = sine(x)", "t.txt")
    lines = info.value.render().splitlines()
    assert lines[2].endswith("| \t    ^^^^")


def test_parse_builds_flat_graph_in_topological_order():
    g = parse("u = (a + b) * b^2\nv = (c - d) * d**2\nf = u + v", "t.txt")
    for i, ins in enumerate(g.inputs):
        assert all(j < i for j in ins)
    assert g.names[g.symbols["u"]] == "u"
    assert np.isclose(value("f = (a + b) * b^2", a=1, b=2), 12.0)
