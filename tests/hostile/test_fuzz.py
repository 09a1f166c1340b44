"""A fuzzer: random text made of the language's pieces and of garbage never crashes agrad.

Every file either parses or gives an AgradError with a position inside the text; every graph
that parses evaluates (values may be nan or inf, which are reported, never raised), and its
one-point answer is the same on NumPy and on Python floats, bit for bit. CI runs 5,000 files; set
AGRAD_FUZZ=300000 for a longer local run (about 3 s per 10,000 files).
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np

from autogradcli.engines import choose as choose_mod
from autogradcli.engines.evaluate import evaluate
from autogradcli.errors import AgradError
from autogradcli.language.parser import parse
from autogradcli.ops import FUNCTIONS

FILES = int(os.environ.get("AGRAD_FUZZ", "5000"))
PIECES = [
    "x", "y", "z", "u", "f", "pi", "e", "0", "1", "2", ".5", "1e308", "-", "+", "*", "/", "^",
    "**", "@", "(", ")", "[", "]", ",", ";", "\n", "=", "==", " ", "\t", "#", "expect ",
    "diff(", "# range: x in [0, 1]", "# shape: x (2)", "\r\n", "\x00", "²", "\uff11", "é", "θ",
    "sum(", "norm(", "max(", "atan2(", "1/0", "log(0)", "\ufeff", '"', "'", "\\",
]  # fmt: skip
NAMES = sorted(n for n in FUNCTIONS if n not in ("sum", "mean", "prod", "dot", "norm"))
TWO = {"pow", "atan2", "hypot", "min", "max"}


def _expr(rng: random.Random, depth: int) -> str:
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(["x", "y", "z", "2", "0.5", "pi", "e", "1e308", "0", "-1"])
    roll = rng.random()
    if roll < 0.4:
        op = rng.choice(["+", "-", "*", "/", "^", "**"])
        return f"({_expr(rng, depth - 1)} {op} {_expr(rng, depth - 1)})"
    if roll < 0.5:
        return f"-{_expr(rng, depth - 1)}"
    name = rng.choice(NAMES)
    args = ", ".join(_expr(rng, depth - 1) for _ in range(2 if name in TWO else 1))
    return f"{name}({args})"


def _formula(rng: random.Random) -> str:
    lines = [f"v{k} = {_expr(rng, rng.randint(1, 4))}" for k in range(rng.randint(1, 4))]
    text = "\n".join(lines) + "\n"
    if rng.random() < 0.3:  # one hazard somewhere
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(PIECES) + text[at:]
    return text


def _text(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return _formula(rng)
    parts = []
    for _ in range(rng.randint(1, 30)):
        roll = rng.random()
        if roll < 0.6:
            parts.append(rng.choice(PIECES))
        elif roll < 0.85:
            parts.append(rng.choice(NAMES) + "(")
        else:
            parts.append(chr(rng.randint(0, 0x2FFF)))
    if rng.random() < 0.5:
        parts.insert(0, "f = ")
    return "".join(parts)


def test_random_text_never_crashes():
    rng = random.Random(20261202)
    parsed = errors = 0
    old = choose_mod.FLOAT_NODES
    choose_mod.FLOAT_NODES = 0  # every eligible graph also runs on Python floats
    try:
        for _ in range(FILES):
            text = _text(rng)
            try:
                graph = parse(text, "fuzz.txt")
            except AgradError as exc:
                errors += 1
                if exc.span is not None:
                    assert 0 <= exc.span.start <= len(text), (text, exc.span)
                assert exc.render()
                continue
            parsed += 1
            inputs = {n: np.array(rng.uniform(-3, 3)) for n in graph.input_ids}
            _evaluate_both(graph, inputs, text)
    finally:
        choose_mod.FLOAT_NODES = old
    assert parsed > FILES // 50 and errors > FILES // 2


def _evaluate_both(graph, inputs, text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            numpy_ev = evaluate(graph, inputs)
        except AgradError:
            return  # mismatched shapes and the like: reported with a position
        float_ev = evaluate(graph, inputs, floats=True)
    for a, b in zip(numpy_ev.outputs, float_ev.outputs, strict=True):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value), err_msg=text)
        for w in a.gradient:
            np.testing.assert_array_equal(a.gradient[w], b.gradient[w], err_msg=text)
