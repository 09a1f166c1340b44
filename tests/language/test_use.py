"""`use "file"`: libraries of functions, their paths, clashes and cycles."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from autogradcli.engines.evaluate import evaluate
from autogradcli.errors import AgradError
from autogradcli.language import bulk, lexer
from autogradcli.language.parser import parse, parse_file


def lib(tmp_path, **files: str):
    """Write files (`a_agrad="..."` becomes a.agrad) under tmp_path."""
    for name, text in files.items():
        path = tmp_path / name.replace("_agrad", ".agrad").replace("_txt", ".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def error(path) -> AgradError:
    with pytest.raises(AgradError) as info:
        parse_file(str(path))
    return info.value


def test_use_makes_a_library_callable_with_spans_in_it(tmp_path):
    lib(tmp_path, nn_agrad="# nn\nsoftplus2(x) = log(1 + exp(x))\n", main_txt="")
    (tmp_path / "main.txt").write_text('use "nn.agrad"\ny = softplus2(a)\n')
    g = parse_file(str(tmp_path / "main.txt"))
    ev = evaluate(g, {"a": np.array(0.5)})
    assert float(ev.outputs[0].value) == pytest.approx(math.log1p(math.exp(0.5)), rel=1e-15)
    log = g.ops.index("log")
    span = g.span(log)
    assert span.where() == f"{tmp_path / 'nn.agrad'}:2:16"
    assert span.calls() == f" (in softplus2, called at {tmp_path / 'main.txt'}:2:5)"


def test_paths_are_relative_to_the_using_file_and_dotdot_resolves(tmp_path):
    lib(tmp_path, base_agrad="cube(x) = x^3\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.agrad").write_text('use "../base.agrad"\nsq3(x) = cube(x) * 3\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.txt").write_text('use "../lib/a.agrad"\ny = sq3(a)\n')
    g = parse_file(str(tmp_path / "sub" / "m.txt"))
    assert float(evaluate(g, {"a": np.array(2.0)}).outputs[0].value) == 24
    assert [grp.name for grp in g.groups] == ["sq3", "cube"]
    assert g.groups[1].parent == 0
    assert g.groups[1].source.name == os.path.normpath(str(tmp_path / "base.agrad"))


def test_used_files_do_not_pass_on_what_they_use(tmp_path):
    lib(tmp_path, base_agrad="cube(x) = x^3\n", a_agrad='use "base.agrad"\nf(x) = cube(x)\n')
    (tmp_path / "m.txt").write_text('use "a.agrad"\ny = cube(a)\n')
    assert error(tmp_path / "m.txt").message == "unknown function 'cube'"


def test_missing_file_is_an_error_at_the_use_line(tmp_path):
    (tmp_path / "nn.agrad").write_text("f(x) = x\n")
    (tmp_path / "m.txt").write_text('y = 1\nuse "mn.agrad"\n')
    err = error(tmp_path / "m.txt")
    assert err.message == f"no such file: {tmp_path / 'mn.agrad'}"
    assert err.span.where().endswith("m.txt:2:5")
    assert err.hint == "did you mean 'nn.agrad'?"


def test_cycles_are_refused_with_the_chain(tmp_path):
    lib(tmp_path, a_agrad='use "b.agrad"\nf(x) = x\n', b_agrad='use "a.agrad"\ng(x) = x\n')
    (tmp_path / "m.txt").write_text('use "a.agrad"\ny = f(1)\n')
    err = error(tmp_path / "m.txt")
    a, b = tmp_path / "a.agrad", tmp_path / "b.agrad"
    assert err.message == f"files use each other in a cycle: {a} -> {b} -> {a}"
    assert err.span.where() == f"{b}:1:5"


def test_a_file_using_itself_is_a_cycle(tmp_path):
    (tmp_path / "m.txt").write_text('use "m.txt"\ny = 1\n')
    assert "cycle" in error(tmp_path / "m.txt").message


def test_a_name_in_two_used_files_is_an_error_naming_both(tmp_path):
    lib(tmp_path, a_agrad="f(x) = x\n", b_agrad="f(x) = 2*x\n")
    (tmp_path / "m.txt").write_text('use "a.agrad"\nuse "b.agrad"\ny = f(1)\n')
    err = error(tmp_path / "m.txt")
    assert (
        err.message == f"'f' is defined in both {tmp_path / 'a.agrad'} and {tmp_path / 'b.agrad'}"
    )
    assert err.span.where().endswith("m.txt:2:5")


def test_redefining_a_used_function_is_an_error(tmp_path):
    lib(tmp_path, a_agrad="f(x) = x\n")
    (tmp_path / "m.txt").write_text('use "a.agrad"\nf(x) = 3*x\ny = f(1)\n')
    assert error(tmp_path / "m.txt").message == f"'f' is already defined in {tmp_path / 'a.agrad'}"


def test_a_used_file_may_not_compute(tmp_path):
    lib(tmp_path, a_agrad="f(x) = x\ny = f(2)\n")
    (tmp_path / "m.txt").write_text('use "a.agrad"\nz = f(1)\n')
    err = error(tmp_path / "m.txt")
    assert "a used file may hold only definitions" in err.message
    assert err.span.where() == f"{tmp_path / 'a.agrad'}:2:1"


def test_network_paths_are_refused():
    with pytest.raises(AgradError, match="use reads local files only"):
        parse('use "https://example.com/nn.agrad"\ny = 1', "t.txt")


def test_inline_text_resolves_use_from_the_current_folder(tmp_path, monkeypatch):
    lib(tmp_path, nn_agrad="twice(x) = 2*x\n")
    monkeypatch.chdir(tmp_path)
    g = parse('use "nn.agrad"; y = twice(a)', "-e")
    assert float(evaluate(g, {"a": np.array(4.0)}).outputs[0].value) == 8
    assert g.groups[0].source.name == "nn.agrad"


def test_whole_file_parser_declines_files_with_functions(tmp_path, monkeypatch):
    monkeypatch.setattr(lexer, "BULK_MIN_CHARS", 0)
    lib(tmp_path, nn_agrad="sq(x) = x*x\n")
    lines = ['use "nn.agrad"', "def cube(x):", "    return x*sq(x)"]
    lines += [f"v{i} = v{i - 1} + a" if i else "v0 = a" for i in range(50)]
    lines.append("y = cube(v49)")
    (tmp_path / "m.txt").write_text("\n".join(lines) + "\n")
    built = []
    real = bulk.build
    monkeypatch.setattr(bulk, "build", lambda *a: built.append(real(*a)) or built[-1])
    g = parse_file(str(tmp_path / "m.txt"))
    assert built == [None]  # declined: the line parser read it
    assert float(evaluate(g, {"a": np.array(0.1)}).outputs[0].value) == pytest.approx(125.0)
    assert [grp.name for grp in g.groups] == ["cube", "sq"]
    plain = "\n".join(lines[3:-1]) + "\n"
    assert len(parse(plain, "p.txt")) == 50  # without functions: the whole-file parser
    assert built[-1] is not None
