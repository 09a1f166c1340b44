"""Claims about functions (`expect diff(f(x), x) == ...`) and `agrad check` on a library."""

from __future__ import annotations

import pytest
from conftest import agrad, write

from autogradcli.errors import AgradError
from autogradcli.language.parser import parse
from autogradcli.language.rules import Rules
from autogradcli.verify.files import check_file

LIBRARY = """\
# a library: definitions and claims, no output
softplus2(x) = log(1 + exp(x))
def gelu_t(x):
    k = sqrt(2 / pi)
    return 0.5 * x * (1 + tanh(k * (x + 0.044715 * x^3)))
expect diff(softplus2(x), x) == sigmoid(x)
expect softplus2(0) == log(2)
expect diff(softplus2(x) * softplus2(y), x, y) == sigmoid(x) * sigmoid(y)
expect diff(gelu_t(x), x) == 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))) + 0.5 * x * (1 - tanh(sqrt(2/pi) * (x + 0.044715 * x^3))^2) * sqrt(2/pi) * (1 + 3 * 0.044715 * x^2)
"""  # noqa: E501


def test_a_library_checks_every_claim(tmp_path):
    path = write(tmp_path, LIBRARY, "nn.agrad")
    results = check_file(path, points=10)
    assert [r.status for r in results] == ["pass"] * 4
    assert [r.wrt for r in results] == ["x", "", "x, y", "x"]


def test_agrad_check_on_a_library_exits_0_and_does_not_ask_for_an_output(tmp_path):
    path = write(tmp_path, LIBRARY, "nn.agrad")
    result = agrad("check", path, "--points", "5")
    assert result.exit_code == 0, result.output
    assert "no expression" not in result.output
    assert "expect diff(softplus2(x), x) == sigmoid(x)" in result.stdout


def test_a_wrong_claim_fails_with_exit_1(tmp_path):
    path = write(
        tmp_path, "softplus2(x) = log(1 + exp(x))\nexpect diff(softplus2(x), x) == exp(x)\n"
    )
    result = agrad("check", path, "--points", "5")
    assert result.exit_code == 1
    assert "fail" in result.stdout


def test_a_file_with_outputs_checks_its_function_claims_beside_them(tmp_path):
    text = "sq(x) = x*x\ny = sq(a) + 1\nexpect diff(sq(t), t) == 2*t\nexpect diff(y, a) == 2*a\n"
    results = check_file(write(tmp_path, text), points=5)
    assert [(r.output, r.status) for r in results] == [
        ("y", "pass"),
        ("expect diff(y, a) == 2*a", "pass"),
        ("expect diff(sq(t), t) == 2*t", "pass"),
    ]


def test_function_claims_keep_their_inputs_out_of_the_formula():
    g = parse("sq(x) = x*x\ny = sq(a)\nexpect diff(sq(t), t) == 2*t\n", "t.txt")
    assert list(g.input_ids) == ["a"]
    assert list(g.rules.input_ids) == ["t"]
    assert g.rules.claims[0].target == "sq(t)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sq(x) = x*x\nexpect diff(sq(t), u) == 2*t",
         "expect: 'u' is not a name the left side uses"),
        ("sq(x) = x*x\nexpect diff(sq(t), t) == 2*s", "expect: 's' is not used on the left side"),
        ("sq(x) = x*x\nexpect diff(sq(t)) == 2",
         "expect diff(...) needs the names to differentiate by"),
        ("sq(x) = x*x\nexpect diff(sq(t), t+1) == 2", "expect diff(f, x): x must be one name"),
    ],
)  # fmt: skip
def test_claim_errors(text, message):
    with pytest.raises(AgradError) as info:
        parse(text, "t.txt", library=True)
    assert info.value.message == message
    assert info.value.span is not None


def test_rules_parser_finishes_with_the_files_shapes():
    from autogradcli.language.lexer import Source
    from autogradcli.language.parser import _Parser

    p = _Parser(Source("t.txt", "n(v) = sum(v)\n"))
    rules = Rules(p)
    p.graph.shapes = {"v": (3,), "other": (2,)}
    rules.q.graph.add_input("v")
    assert rules.finish(p.graph).shapes == {"v": (3,)}


@pytest.mark.parametrize(
    ("claim", "status"),
    [
        ("expect ident2(x) == flip(x)", 1),  # equal sums, different elements
        ("expect ident2(x) * 0 == [5, -5, 0]", 1),
        ("expect ident2(x) == x + [1, -1, 0]", 1),
        ("expect ident2(x) == x", 0),
        ("expect ident2(x) * 2 == 2 * x", 0),
        ("expect ident2(x) == [1, 2]", 2),  # shapes that do not fit: an error naming both
    ],
)
def test_array_value_claims_compare_every_element(tmp_path, claim, status):
    path = tmp_path / "lib.agrad"
    path.write_text(f"# shape: x (3)\nident2(x) = x * 1\n{claim}\n")
    assert agrad("check", str(path)).exit_code == status


def test_a_formula_value_claim_on_an_array_compares_every_element(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("# shape: x (3)\ny = flip(x) * 1\nexpect y == x\n")
    assert agrad("check", str(path)).exit_code == 1
