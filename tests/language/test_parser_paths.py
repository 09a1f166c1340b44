"""The parser's shortcuts (simple lines, whole files of them) build exactly what the general
path builds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autogradcli.errors import AgradError
from autogradcli.language import bulk, bulk_lex, bulk_nodes, lexer, parser

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


def build(text: str, fast: bool, whole: bool = False):
    """Parse with or without the shortcuts; a graph's full contents, or the error.

    `whole` lets the whole-file shortcut take files of any size.
    """
    old = lexer.FAST_PATH, lexer.SIMPLE_MIN_CHARS, lexer.BULK_MIN_CHARS
    lexer.FAST_PATH = fast
    lexer.SIMPLE_MIN_CHARS = 0
    lexer.BULK_MIN_CHARS = 0 if whole else 10**12
    try:
        g = parser.parse(text, "t.txt")
    except AgradError as exc:
        return ("error", exc.render())
    finally:
        lexer.FAST_PATH, lexer.SIMPLE_MIN_CHARS, lexer.BULK_MIN_CHARS = old
    consts = {i: np.asarray(v).tolist() for i, v in g.consts.items()}
    ranges = {k: (lo, hi, span.start, span.end) for k, (lo, hi, span) in g.ranges.items()}
    return (
        g.ops, g.inputs, g.names, g.starts, g.ends, consts, g.outputs, g.symbols, g.input_ids,
        ranges, g.shapes,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(programs())
def test_shortcut_and_general_path_agree(text):
    general = build(text, fast=False)
    assert build(text, fast=True) == general
    assert build(text, fast=True, whole=True) == general


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
    general = build(text, fast=False)
    assert build(text, fast=True) == general
    assert build(text, fast=True, whole=True) == general


def test_shortcut_is_taken_for_simple_lines():
    assert lexer.simple().match("v12 = v3 * x\n")
    assert lexer.simple().match("  θ = sin( x )  # c\r\n")
    assert lexer.simple().match("w = 1e-3\n")
    assert lexer.simple().match("v = v1 + x * 3\n")
    assert lexer.simple().match("v = log(1 + v3^2)\n")
    assert not lexer.simple().match("v = a + b + c + d\n")
    assert not lexer.simple().match("v = -x\n")
    assert not lexer.simple().match("v = 2x\n")
    assert not lexer.simple().match("v = x; w = y\n")


@st.composite
def generated(draw) -> tuple[str, bool]:
    """Files shaped like generated code (ASCII, one simple assignment a line), sometimes with
    one hazard the whole-file shortcut must hand to the line-by-line parser; and whether the
    file is free of hazards."""
    names: list[str] = []
    lines = []
    numbers = st.sampled_from(["2", "0.5", ".5", "2.", "10", "0.50", "3"])

    def atom():
        if names and draw(st.integers(0, 3)):
            return draw(st.sampled_from(names))
        return draw(st.sampled_from(["x", "y_1", "Z"])) if draw(st.booleans()) else draw(numbers)

    for i in range(draw(st.integers(1, 15))):
        s = draw(SPACE)
        ops = [draw(st.sampled_from(["+", "-", "*", "/", "^"])) for _ in range(2)]
        arith = draw(
            st.sampled_from(
                [
                    f"{atom()}{s}{ops[0]}{s}{atom()}",
                    f"{atom()} {ops[0]} {atom()}{s}{ops[1]}{s}{atom()}",
                    f"{atom()}{s}{ops[0]}{atom()}",
                ]
            )
        )
        fn = draw(st.sampled_from(["sin", "exp", "tanh", "log1p", "abs", "sqrt"]))
        body = draw(st.sampled_from([arith, f"{fn}({s}{arith}{s})", f"{fn}({atom()})"]))
        blank = draw(st.sampled_from(["", "", "   ", "\t", "# a comment: x = 1; y\n"]))
        end = draw(st.sampled_from(["\n", "\n", "\r\n", "  # note (v = 2)\n", "#\n"]))
        lines.append(f"{s}v{i}{s}={s}{body}{s}{end}{blank}")
        names.append(f"v{i}")
    hazards = [
        "v0 = 1e3 * x\n",
        "w = 2x\n",
        "w = x.y\n",
        "w = 1.2.3\n",
        "w = .\n",
        "w = -x\n",
        "w = pi * x\n",
        "e = 2\n",
        "w = sin + 1\n",
        "w = pow(x)\n",
        "w = foo(x)\n",
        "w = v0\n",
        "w = later\nlater = 1\n",
        "w = w + 1\n",
        "v0 = 1\n",
        "w = x ** 2\n",
        "w = (x)\n",
        "w = x # c\n",
        "w = x; u = y\n",
        "w = x\r\n",
        "w = [1, 2]\n",
        "w = θ\n",
        "w = sin(x, y)\n",
        "x\n",
        "w = x + y + z + q\n",
    ]
    clean = draw(st.integers(0, 2)) != 0
    if not clean:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(hazards)))
    return "".join(lines), clean


@settings(max_examples=300, deadline=None)
@given(generated())
def test_whole_file_shortcut_agrees_with_the_general_path(case):
    text, clean = case
    general = build(text, fast=False)
    assert build(text, fast=True, whole=True) == general
    if clean:
        assert general[0] != "error"
        assert whole_file_taken(text)


def whole_file_taken(text: str) -> bool:
    """True when the whole-file shortcut builds the graph (rather than declining)."""
    from autogradcli.errors import Source
    from autogradcli.graph import Graph

    return bulk.build(Graph(Source("t.txt", text)), parser.parse_general) is not None


@pytest.mark.parametrize(
    ("prefix", "header", "newline"),
    [
        ("v", "", "\n"),
        ("a_name_longer_than_eight_", "", "\n"),
        ("n" * 17, "", "\n"),
        ("v", "# generated by a script\n# range: x0 in [0, 1], x1 in [-1, 1]\n", "\r\n"),
    ],
)
def test_whole_file_shortcut_on_a_large_generated_file(prefix, header, newline):
    rng = np.random.default_rng(1)
    v = prefix
    lines = [f"{v}{i} = x{i} * 0.5" for i in range(10)]
    for i in range(10, 3000):
        a, b = rng.integers(0, i, size=2)
        op = "+-*/"[i % 4]
        if i % 5 == 0:
            lines.append(f"{v}{i} = log(1 + {v}{a}^2)")
        elif i % 7 == 0:
            lines.append(f"{v}{i} = {v}{a} * 0.12345678901234567 - 1234567890.5")
        else:
            lines.append(f"{v}{i} = {v}{a} {op} {v}{b}")
    text = header + newline.join(lines) + newline
    assert whole_file_taken(text)
    got = build(text, fast=True, whole=True)
    assert got == build(text, fast=False)
    assert ("x0" in got[-2]) == bool(header)  # the range directive was read


@pytest.mark.parametrize("hash_bits", [0, 1, 64])
def test_whole_file_shortcut_is_exact_when_name_hashes_collide(monkeypatch, hash_bits):
    """Names are grouped by a hash, then compared in full: collisions must not merge names."""
    real = bulk_lex.hash_pieces
    keep = np.uint64((1 << hash_bits) - 1) if hash_bits < 64 else np.uint64(2**64 - 1)
    monkeypatch.setattr(
        bulk_lex, "hash_pieces", lambda pieces: (real(pieces) & keep) << np.uint64(40)
    )
    text = "".join(
        f"v{i} = {'tanh' if i % 2 else 'sin'}(v{i // 2} * x{i % 3} + 0.{i % 7})\n"
        for i in range(1, 400)
    )
    text = "v0 = x0 * 2\n" + text
    assert whole_file_taken(text)
    assert build(text, fast=True, whole=True) == build(text, fast=False)


@st.composite
def expressions(draw, names: list[str], depth: int = 0) -> str:
    """A random expression of generated code: every construct the whole-file path takes."""
    numbers = st.sampled_from(["2", "0.5", ".5", "2.", "1e-3", "2.5E+4", "3e2", "10", "0"])
    pick = draw(st.integers(0, 9 if depth < 3 else 1))
    if pick == 0 or (not names and pick == 1):
        return draw(numbers) if draw(st.booleans()) else draw(st.sampled_from(["pi", "e", "x"]))
    if pick == 1:
        return draw(st.sampled_from(names))
    sub = lambda: draw(expressions(names, depth + 1))  # noqa: E731
    s = draw(SPACE)
    if pick in (2, 3):
        return f"{sub()}{s}{draw(OPS)}{s}{sub()}"
    if pick == 4:
        return f"-{s}{sub()}"
    if pick == 5:
        return f"({s}{sub()}{s})"
    if pick == 6:
        return f"{draw(st.sampled_from(['sin', 'exp', 'tanh', 'log1p', 'sqrt']))}({sub()})"
    if pick == 7:
        return f"{draw(st.sampled_from(['atan2', 'hypot', 'pow']))}({sub()},{s}{sub()})"
    if pick == 8:
        return f"{sub()} * {sub()} - {sub()} / {sub()}"
    return f"+{sub()}"


@st.composite
def generated_mixed(draw) -> str:
    """Files of assignments mixing every construct, aliases among them."""
    names: list[str] = []
    lines = []
    for i in range(draw(st.integers(1, 12))):
        body = draw(st.sampled_from(names)) if names and draw(st.integers(0, 5)) == 0 else (
            draw(expressions(names))
        )
        end = draw(st.sampled_from(["\n", "  # c\n", "\r\n"]))
        lines.append(f"v{i} = {body}{end}")
        names.append(f"v{i}")
    return "".join(lines)


@settings(max_examples=400, deadline=None)
@given(generated_mixed())
def test_the_whole_file_path_takes_every_construct_and_agrees(text):
    general = build(text, fast=False)
    assert general[0] != "error"
    assert whole_file_taken(text) or negates_a_named_number(text, general), text
    assert build(text, fast=True, whole=True) == general


def negates_a_named_number(text: str, general) -> bool:
    """`c = 2` then `w = -c`: the parser folds the minus into a constant, which the whole-file
    path leaves to it (the one construct it declines)."""
    import re

    ops, names, symbols = general[0], general[2], general[7]
    numbers = [n for n, i in symbols.items() if ops[i] == "const" and names[i] is None]
    unary = r"(?:^|[=(,*/^+-])\s*-[\s(+]*"
    return any(re.search(unary + re.escape(n) + r"\b", text, re.M) for n in numbers)


@settings(max_examples=200, deadline=None)
@given(generated_mixed(), st.sampled_from(["w = 2x\n", "w = x; u = y\n", "v0 = 1\n", "x\n",
                                            "w = sin(x, y)\n", "w = later\nlater = 1\n",
                                            "w = w + 1\n", "pi = 2\n", "w = (x\n", "w = x +\n"]))
def test_a_hazard_near_the_end_goes_to_the_line_parser_with_the_same_result(text, hazard):
    text = text + hazard
    assert build(text, fast=True, whole=True) == build(text, fast=False)


@settings(max_examples=200, deadline=None)
@given(generated_mixed(), st.sampled_from([1, 2, 3]))
def test_blocks_of_lines_lay_out_the_same_graph(text, lines):
    """Nodes are laid out a block of lines at a time; names, numbers and aliases carry over."""
    old = bulk_nodes.BLOCK_LINES
    bulk_nodes.BLOCK_LINES = lines
    try:
        assert build(text, fast=True, whole=True) == build(text, fast=False)
    finally:
        bulk_nodes.BLOCK_LINES = old
