"""Generated modules: assembled from real functions, safe docstrings, the plan written out."""

from __future__ import annotations

import numpy as np

from autogradcli.codegen.plan_source import plan_source
from autogradcli.codegen.source import docstring_name, reference
from autogradcli.engines.plan import Plan
from autogradcli.language.parser import parse
from autogradcli.ops.numeric import unbroadcast


def test_references_and_copies():
    sources: dict[str, str] = {}
    assert reference(np.sin, sources) == "np.sin" and sources == {}
    assert reference(unbroadcast, sources) == "unbroadcast"
    assert sources["unbroadcast"].startswith("def unbroadcast(")


def test_docstring_names_cannot_end_the_docstring():
    assert docstring_name('a"""\nb\\.txt') == "a????b?.txt"
    assert docstring_name("") == "a graph"


def test_plan_source_runs_standalone():
    text = plan_source(Plan.of(parse("f = x * y + sin(x)", "t.txt")), "t.txt")
    space: dict = {}
    exec(compile(text, "generated.py", "exec"), space)  # our own generated code
    values, grads = space["value_and_grad"](x=1.0, y=2.0)
    assert values["f"] == 2.0 + np.sin(1.0) and grads["f"]["y"] == 1.0
