"""Functions in formula files: both forms, calls inlined, every error with its position."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import run
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import EXPRESSIONS

from autogradcli.errors import AgradError
from autogradcli.language import functions, inline, lexer
from autogradcli.language.parser import parse, parse_file


def fails(text: str, name: str = "t.txt") -> AgradError:
    """The error parsing `text` raises."""
    with pytest.raises(AgradError) as info:
        parse(text, name)
    return info.value


def test_one_expression_form_against_hand_values():
    ev = run("softplus2(x) = log(1 + exp(x))\ny = softplus2(a)", a=0.3)
    assert ev.outputs[0].value == pytest.approx(math.log1p(math.exp(0.3)), rel=1e-15)
    assert ev.outputs[0].gradient["a"] == pytest.approx(1 / (1 + math.exp(-0.3)), rel=1e-15)


def test_block_form_with_locals_semicolons_comments_and_crlf():
    text = (
        "def poly(x, k):   # a block\r\n"
        "    m = x * k; n = m + 1\r\n"
        "    # a comment inside\r\n"
        "\r\n"
        "    return m * n\r\n"
        "y = poly(a, 3)\r\n"
    )
    ev = run(text, a=2.0)
    assert float(ev.outputs[0].value) == 6 * 7
    assert float(ev.outputs[0].gradient["a"]) == 3 * 7 + 6 * 3  # d/da (3a)(3a+1)


def test_one_line_block_and_zero_parameters():
    ev = run("def sq(x): return x * x\ntwo() = 2\ny = sq(a) + two()", a=3.0)
    assert float(ev.outputs[0].value) == 11
    assert float(ev.outputs[0].gradient["a"]) == 6


def test_functions_call_functions_defined_later_and_main_calls_before_definition():
    text = "y = f(a)\nf(x) = 2 * g(x)\ng(x) = x^3\n"
    ev = run(text, a=2.0)
    assert float(ev.outputs[0].value) == 16
    assert float(ev.outputs[0].gradient["a"]) == 24


def test_gradients_against_sympy():
    sp = pytest.importorskip("sympy")
    text = (
        "def ln(x, g, b):\n  m = (x + g) / 2\n  return g * (x - m) / sqrt((x - m)^2 + 1e-5) + b\n"
    )
    text += "y = ln(p, q, r) * ln(q, p, r)"
    p, q, r = sp.symbols("p q r")

    def ln(x, g, b):
        m = (x + g) / 2
        return g * (x - m) / sp.sqrt((x - m) ** 2 + sp.Float(1e-5)) + b

    expr = ln(p, q, r) * ln(q, p, r)
    at = {p: 0.7, q: -1.3, r: 0.2}
    ev = run(text, p=0.7, q=-1.3, r=0.2)
    assert float(ev.outputs[0].value) == pytest.approx(float(expr.subs(at)), rel=1e-12)
    for s in (p, q, r):
        want = float(sp.diff(expr, s).subs(at))
        assert float(ev.outputs[0].gradient[str(s)]) == pytest.approx(want, rel=1e-10)


def test_body_returning_a_parameter_adds_no_node_and_no_group():
    g = parse("ident(x) = x\ny = ident(a) * 2", "t.txt")
    assert g.groups == []
    assert len(g) == 3


def test_unused_locals_are_not_copied():
    g = parse("def f(x):\n  dead = exp(x)\n  return x + 1\ny = f(a)", "t.txt")
    assert "exp" not in g.ops


def test_recursion_names_the_cycle_at_the_call():
    err = fails("f(x) = g(x) + 1\ng(x) = h(x)\nh(x) = f(x)\ny = f(a)")
    assert err.message == "recursion: f -> g -> h -> f"
    assert err.span.where() == "t.txt:3:8"
    assert fails("f(x) = f(x)\ny = f(a)").message == "recursion: f -> f"


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("f(x) = x*2\ny = f(a, b)", "f() takes 1 argument, got 2", "t.txt:2:5"),
        ("f(x) = x + z\ny = f(a)", "unknown name 'z' in the body of 'f'", "t.txt:1:12"),
        ("z = 3\nf(x) = x + z\ny = f(a)", "unknown name 'z' in the body of 'f'", "t.txt:2:12"),
        ("sin(x) = x\ny = sin(a)",
         "'sin' is a built-in function and cannot be redefined", "t.txt:1:1"),
        ("pi(x) = x\ny = 1", "'pi' is a built-in constant and cannot be redefined", "t.txt:1:1"),
        ("f(x) = x\nf(y) = y\nz = f(a)", "function 'f' is defined twice", "t.txt:2:1"),
        ("f(x, x) = x\nz = f(a)", "parameter 'x' of 'f' is named twice", "t.txt:1:6"),
        ("def f(x):\n  m = x\nz = f(a)", "the body of 'f' has no 'return'", "t.txt:1:5"),
        ("def f(x) return x", "a def header ends with ':' after its parameters", "t.txt:1:10"),
        ("f(x) = 2*x\nf = 3", "'f' is a function and cannot be assigned", "t.txt:2:1"),
        ("f(x) = x\ny = f + 1", "'f' is a function", "t.txt:2:5"),
        ("f(x) = 2*x", "the file defines functions but computes nothing", "t.txt:1:1"),
        ("y = ff(a)\nf(x) = x", "unknown function 'ff'", "t.txt:1:5"),
        ("def f(x):\n  x = 2\n  return x\ny = f(a)",
         "'x' is a parameter of 'f' and cannot be assigned", "t.txt:2:3"),
        ("def f(x):\n  x + 1\n  return x\ny = f(a)", None, "t.txt:2:3"),
        ("f(x+1) = x\ny = 1",
         "the parameters of 'f' must be plain names separated by commas", "t.txt:1:4"),
        ("f = a*3\nf(x) = 2*x\ny = f(2)", None, "t.txt:1:1"),
    ],
)  # fmt: skip
def test_errors_name_the_place_and_suggest(text, message, where):
    err = fails(text)
    if message is not None:
        assert err.message == message
    assert err.span.where() == where
    assert err.hint


def test_unknown_function_suggests_a_user_function():
    assert fails("y = layernrm(a)\nlayernorm(x) = x").hint == "did you mean 'layernorm'?"


def test_a_body_error_at_run_time_names_the_body_and_the_call():
    ev = run("g(x) = log(x)\nf(x) = 2 * g(x)\ny = f(a) * 2", a=-1.0)
    notice = ev.notices[0]
    assert notice.where == "t.txt:1:8 (in g, called at t.txt:2:12) (in f, called at t.txt:3:5)"


def test_a_library_file_parses_to_no_output_when_asked():
    g = parse("f(x) = x^2\nexpect diff(f(x), x) == 2*x", "lib.agrad", library=True)
    assert g.outputs == []
    assert len(g.rules.claims) == 1


def test_is_header_tells_definitions_from_calls():
    src = lexer.Source("t", 'f(a, b) = a\nf(a) == 2\ndef g(x):\nuse "x"\ny = f(a)\n')
    stmts = list(lexer.tokens(src))
    assert [functions.is_header(s) for s in stmts] == [True, False, True, True, False]


def test_scan_records_definitions_and_block_ends():
    src = lexer.Source("t", "def f(x):\n  m = x\n  return m\ny = 1\ng(x) = x\n")
    table = functions.scan(src)
    assert list(table.own) == ["f", "g"]
    assert table.skip[0] == len("def f(x):\n  m = x\n  return m\n")
    assert table.other is not None and table.other.where() == "t:4:1"


@settings(max_examples=120, deadline=None)
@given(EXPRESSIONS, st.booleans(), st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_inlining_equals_the_body_written_out(text, block, x, y, z):
    if block:
        defined = f"def f(x, y, z):\n    t = {text}\n    return t\n"
    else:
        defined = f"f(x, y, z) = {text}\n"
    called = parse(defined + "out = f(x, y, z) + x*0 + y*0 + z*0\n", "a.txt")
    written = parse(f"out = ({text}) + x*0 + y*0 + z*0\n", "b.txt")
    values = {"x": np.array(x), "y": np.array(y), "z": np.array(z)}
    from autogradcli.engines.evaluate import evaluate

    a, b = evaluate(called, values), evaluate(written, values)
    np.testing.assert_array_equal(a.outputs[0].value, b.outputs[0].value)
    for w in values:
        np.testing.assert_array_equal(a.outputs[0].gradient[w], b.outputs[0].gradient[w])


def test_inline_module_finds_and_builds_templates_once():
    from autogradcli.language.parser import _Parser

    p = _Parser(lexer.Source("t.txt", "f(x) = x + 1\ng(x) = f(x) * f(x)\ny = 1\n"))
    d = inline.find(p, "g")
    tpl = inline.template(d, _Parser)
    assert tpl is inline.template(d, _Parser)
    assert [grp.name for grp in tpl.graph.groups] == ["f", "f"]
    assert inline.find(p, "nope") is None


def test_parse_file_reads_definitions_from_a_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("sq(x) = x*x\ny = sq(3)\n")
    assert float(run(path.read_text()).outputs[0].value) == 9
    assert parse_file(str(path)).groups[0].name == "sq"


def test_every_engine_runs_an_inlined_call(tmp_path, monkeypatch):
    from conftest import agrad

    from autogradcli.engines import choose
    from autogradcli.engines import evaluate as evaluate_mod

    text = (
        "def f(x, y):\n  m = x * y\n  return log(1 + exp(m)) / (1 + y^2)\nz = f(a, b) + f(b, a)\n"
    )
    path = tmp_path / "f.txt"
    path.write_text(text)
    points = tmp_path / "p.csv"
    points.write_text("a,b\n0.1,0.2\n0.5,-1\n2,3\n")
    outs = [
        agrad("eval", str(path), "--at-file", str(points), "--engine", engine, "-f", "csv")
        for engine in ("interpreted", "compiled")
    ]
    assert outs[0].exit_code == outs[1].exit_code == 0, outs[0].output + outs[1].output
    assert outs[0].stdout == outs[1].stdout
    at = {"a": np.array(0.5), "b": np.array(-1.0)}
    reference = run(text, a=0.5, b=-1.0).outputs[0]
    monkeypatch.setattr(choose, "FLOAT_NODES", 0)  # the Python-float path
    floats = evaluate_mod.evaluate(parse(text, "t.txt"), at).outputs[0]
    assert float(floats.value) == float(reference.value)
    assert float(floats.gradient["a"]) == float(reference.gradient["a"])
    row = outs[0].stdout.splitlines()[2].split(",")
    assert float(row[2]) == float(reference.value)
    assert float(row[3]) == pytest.approx(float(reference.gradient["a"]), rel=1e-14)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("def bad2(x):\n  m = x +* 2\n  return m\ny = a\n", "expected an expression after '+'"),
        ("bad(x) = x * zz + 1\ny = a\n", "unknown name 'zz' in the body of 'bad'"),
        ("bad(x) = nosuchfn(x)\ny = a\n", "unknown function 'nosuchfn'"),
        ("bad(x) = sum(x, axs=1)\ny = a\n", "no keyword 'axs'"),
        ("f(x) = f(x)\ny = a\n", "recursion: f -> f"),
    ],
)
def test_a_body_never_called_is_checked_all_the_same(text, message):
    with pytest.raises(AgradError, match=re.escape(message)):
        parse(text, "t.txt")
