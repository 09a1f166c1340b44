"""The parser's shortcut for simple lines builds exactly what the general path builds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autogradcli import lexer, parser
from autogradcli.errors import AgradError

ATOMS = st.sampled_from(["x0", "x1", "θ", "_y", "2", ".5", "1e-3", "2.", "pi", "e", "10"])
OPS = st.sampled_from(["+", "-", "*", "/", "^", "**"])
FUNCS = st.sampled_from(["sin", "exp", "tanh", "log1p", "abs", "sqrt", "sine", "atan2"])
SPACE = st.sampled_from(["", " ", "  ", "\t"])
END = st.sampled_from(["\n", "\r\n", "  # comment\n", ";", "\n\n"])


@st.composite
def programs(draw) -> str:
    """Random files mixing simple lines, general lines, blank lines and comments."""
    names: list[str] = []
    lines = []
    for i in range(draw(st.integers(1, 12))):

        def atom():
            pool = [*names, "x0", "x1", "θ", "_y"] if names else None
            return draw(st.sampled_from(pool)) if pool and draw(st.booleans()) else draw(ATOMS)

        s = draw(SPACE)
        shape = draw(st.integers(0, 8))
        target = (
            draw(st.sampled_from([f"v{i}", "pi", f"v{max(i - 1, 0)}", "sin"]))
            if draw(st.integers(0, 9)) == 0
            else f"v{i}"
        )
        if shape == 0:
            body = atom()
        elif shape == 1:
            body = f"{atom()}{s}{draw(OPS)}{s}{atom()}"
        elif shape == 2:
            body = f"{draw(FUNCS)}({s}{atom()}{s})"
        elif shape == 3:
            body = f"({atom()} + {atom()}) * -{atom()}"
        elif shape == 4:
            body = f"{atom()} {draw(OPS)} {atom()} {draw(OPS)} {atom()}"
        elif shape == 5:
            lines.append(f"{s}# just a comment\n")
            continue
        elif shape == 7:
            body = f"{draw(FUNCS)}({s}{atom()}{s}{draw(OPS)}{s}{atom()}{s})"
        elif shape == 8:
            body = f"{draw(FUNCS)}({atom()} {draw(OPS)} {atom()}{s}{draw(OPS)}{s}{atom()}{s})"
        else:
            lines.append(f"{atom()}{draw(END)}")
            continue
        lines.append(f"{s}{target}{s}={s}{body}{draw(END)}")
        names.append(target)
    return "".join(lines)


def build(text: str, fast: bool):
    """Parse with or without the shortcut; a graph's full contents, or the error."""
    old = lexer.FAST_PATH
    lexer.FAST_PATH = fast
    try:
        g = parser.parse(text, "t.txt")
    except AgradError as exc:
        return ("error", exc.render())
    finally:
        lexer.FAST_PATH = old
    consts = {i: np.asarray(v).tolist() for i, v in g.consts.items()}
    return (g.ops, g.inputs, g.names, g.starts, g.ends, consts, g.outputs, g.symbols, g.input_ids)


@settings(max_examples=300, deadline=None)
@given(programs())
def test_shortcut_and_general_path_agree(text):
    assert build(text, fast=True) == build(text, fast=False)


@pytest.mark.parametrize(
    "text",
    [
        "v = sine(x)\n",
        "v = atan2(x)\n",
        "v = x\nv = y\n",
        "pi = 2\n",
        "v = x + 1\r\nw = v * v  # c\r\n",
        "v=x^y\nw=sin(v)",
        "v = 2x\n",
        "v = x(2)\nx = 1\n",
        "v = a + b * c\nw = a * b + c\nu = a ^ b ^ c\nt = a - b - c\ns = a / b ^ c\n",
        "v = a ^ 2 * z\nw = 2 * q + q\n",
        "v = log(1 + x^2)\nw = tanh(v * 2 - x)\nu = exp(-x)\n",
        "v = sine(x + 1)\n",
        "v = atan2(x * y)\n",
        "v = sin(x + pi)\nsin = 2\n",
    ],
)
def test_shortcut_examples(text):
    assert build(text, fast=True) == build(text, fast=False)


def test_shortcut_is_taken_for_simple_lines():
    assert lexer.SIMPLE.match("v12 = v3 * x\n")
    assert lexer.SIMPLE.match("  θ = sin( x )  # c\r\n")
    assert lexer.SIMPLE.match("w = 1e-3\n")
    assert lexer.SIMPLE.match("v = v1 + x * 3\n")
    assert lexer.SIMPLE.match("v = log(1 + v3^2)\n")
    assert not lexer.SIMPLE.match("v = a + b + c + d\n")
    assert not lexer.SIMPLE.match("v = -x\n")
    assert not lexer.SIMPLE.match("v = 2x\n")
    assert not lexer.SIMPLE.match("v = x; w = y\n")
