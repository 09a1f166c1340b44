"""agrad explain: the seed's steps as golden files, every number the engine's own, every format
for the samples."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write

from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse_file
from autogradcli.render import explain

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SEED_AT = ["--at", "a=1", "b=2", "c=3", "d=4"]
MLP_AT = ["--at", "x=[0.5,-1]", "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]", "b1=[0,0.1,-0.1]",
          "W2=[0.7,-0.8,0.9]", "b2=0.05", "t=1"]  # fmt: skip


@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("markdown", "md"), ("latex", "tex")])
def test_the_seed_matches_its_golden_file(fmt, suffix):
    result = agrad("explain", "samples/seed.txt", *SEED_AT, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / f"explain_seed.{suffix}").read_text(encoding="utf-8")


def test_every_number_is_the_engines_own():
    graph = parse_file("samples/seed.txt")
    ev = evaluate(graph, {k: np.array(v) for k, v in zip("abcd", (1.0, 2, 3, 4), strict=True)},
                  edges=True)  # fmt: skip
    doc = json.loads(explain.as_json(explain.explain(ev)))
    r = ev.outputs[0]
    chains = [s for s in doc["backward"] if s["kind"] == "chain"]
    edges = [(i, k) for (i, k) in r.contributions if graph.ops[graph.inputs[i][k]] != "const"]
    want = sorted(float(r.contributions[e]) for e in edges)
    assert sorted(s["contribution"] for s in chains) == want
    sums = {s["text"].split(" = ")[0]: s["adjoint"] for s in doc["backward"] if s["kind"] == "sum"}
    assert sums == {"∂f/∂d": -24.0, "∂f/∂b": 16.0}  # where two paths meet
    assert [s["value"] for s in doc["forward"]][-1] == -4.0


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json", "html"])
def test_the_mlp_and_a_thirty_node_formula_in_every_format(tmp_path, fmt):
    assert agrad("explain", "samples/mlp.txt", *MLP_AT, "-f", fmt).exit_code == 0
    terms = " + ".join(f"sin(x * {k}) * y^{k % 3 + 1}" for k in range(1, 6))
    path = write(tmp_path, f"f = {terms}\n", "thirty.txt")
    result = agrad("explain", path, "--at", "x=0.3", "y=1.5", "-f", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        assert len(json.loads(result.stdout)["forward"]) >= 20  # 30 nodes with the inputs


def compile_latex(folder: Path, body: str) -> None:
    """Compile the blocks in a document with amsmath (skip without a TeX engine)."""
    if shutil.which("pdflatex") is None:
        pytest.skip("no TeX engine installed")
    doc = folder / "steps.tex"
    doc.write_text("\\documentclass{article}\\usepackage{amsmath}\\allowdisplaybreaks"
                   f"\\begin{{document}}\n{body}\\end{{document}}\n")  # fmt: skip
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", doc.name], cwd=folder,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]


def test_latex_compiles_where_tex_is_installed(tmp_path):
    compile_latex(tmp_path, (GOLDEN / "explain_seed.tex").read_text(encoding="utf-8"))


def test_output_choice_suffix_and_errors(tmp_path):
    result = agrad("explain", "samples/polar.txt", "--at", "x=1", "y=1", "--output", "r")
    assert result.exit_code == 0 and "Forward pass (r)" in result.stdout
    two = agrad("explain", "samples/polar.txt", "--at", "x=1", "y=1", "--output", "r",
                "--output", "θ")  # fmt: skip
    assert two.exit_code == 2 and "one --output NAME" in two.stderr
    out = tmp_path / "steps.md"
    assert agrad("explain", "samples/seed.txt", *SEED_AT, "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("## Forward pass (f)")
    digits = agrad("explain", "samples/seed.txt", *SEED_AT, "-f", "json", "--digits", "3")
    assert digits.exit_code == 2


def test_the_suffix_picks_the_format():
    from autogradcli.cli.explain import EXPLAIN_SUFFIXES

    assert EXPLAIN_SUFFIXES == {".txt": "text", ".md": "markdown", ".tex": "latex", ".json": "json",
                                ".html": "html", ".htm": "html"}  # fmt: skip


def _plain_numbers(text: str) -> str:
    """`16 · (-1)` as `16 · -1`: negatives without the parentheses a factor gets."""
    return re.sub(r"\((-[0-9.e+-]+)\)", r"\1", text)


def test_a_quiz_blanks_numbers_and_gives_the_answers():
    result = agrad("explain", "samples/seed.txt", *SEED_AT, "--quiz", "5", "--seed", "3")
    assert result.exit_code == 0, result.output
    body, _, key = result.stdout.partition("\nAnswers\n")
    assert [f"[?{n}]" in body for n in range(1, 6)] == [True] * 5
    answers = dict(line.strip().split(" = ") for line in key.strip().splitlines())
    full = _plain_numbers(agrad("explain", "samples/seed.txt", *SEED_AT).stdout)
    for line in body.splitlines():  # filled in, each line is what the full explanation shows
        if "[?" in line:
            for blank, value in answers.items():
                line = line.replace(blank, value)
            assert _plain_numbers(line) in full, line
    md = agrad("explain", "samples/seed.txt", *SEED_AT, "--quiz", "2", "-f", "markdown").stdout
    assert "## Answers" in md
    as_json = agrad("explain", "samples/seed.txt", *SEED_AT, "--quiz", "2", "-f", "json")
    assert as_json.exit_code == 2
    assert agrad("explain", "samples/seed.txt", *SEED_AT, "--seed", "2").exit_code == 2


ODD_AT = ["--at", "a=1.1", "b=2.3", "c=3.7", "d=4.9"]  # no two numbers of the steps alike


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("seed", range(6))
def test_no_blank_is_given_away_by_the_text(fmt, seed):
    """No equation shows a blank as its only unknown, and no answer is printed elsewhere in
    the backward pass (a partial may equal a forward value: that is the lesson)."""
    out = agrad("explain", "samples/seed.txt", *ODD_AT, "--quiz", "4", "--seed", str(seed),
                "-f", fmt).stdout  # fmt: skip
    split = "\nAnswers\n" if fmt == "text" else "\n## Answers\n"
    body, _, key = out.partition(split)
    body = body.split("Backward pass")[1]
    answers = re.findall(r"\[\?(\d+)\]`? = (\S+)", key)
    assert len(answers) >= 4
    for line in body.splitlines():
        equation = line.split("+=")[-1].split("    [")[0]
        if "[?" in equation and ("·" in equation or " + " in equation):
            assert equation.count("[?") != 1, line  # a product or a sum: two unknowns or more
    key_of = dict(answers)
    for line in body.splitlines():  # a quizzed input's gradient is shown nowhere else
        if "[?" not in line:
            continue
        target = re.search(r"∂f/∂(\w+) \+?=", line).group(1)
        total = next((x for x in body.splitlines() if f"∂f/∂{target} = " in x), line)
        gradient = key_of[re.findall(r"\[\?(\d+)\]", total)[-1]]
        if gradient in re.findall(r"-?[0-9.]+", line.split("    [")[0]):
            continue  # the consumer's adjoint times a partial of 1: the lesson itself
        for other in body.splitlines():
            if other != total:
                shown = re.findall(r"-?[0-9.]+", _plain_numbers(other.split("    [")[0]))
                assert gradient not in shown, other


def test_wrt_keeps_only_the_paths_to_those_inputs():
    result = agrad("explain", "samples/seed.txt", *SEED_AT, "--wrt", "a")
    backward = result.stdout.split("Backward pass")[1]
    assert "∂f/∂a += ∂f/∂t1 · ∂t1/∂a = 4 · 1 = 4" in backward
    assert "∂f/∂b" not in backward and "∂f/∂v" not in backward


def test_collapsed_steps_are_one_per_named_line_with_hand_computed_partials():
    result = agrad("explain", "samples/seed.txt", *SEED_AT, "--collapse")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "  1. u = (a + b) * b^2 = 12    [samples/seed.txt:3:5]" in text
    # through u's whole expression: du/db = b^2 + (a+b)*2b = 4 + 12 at a=1, b=2
    assert "∂f/∂b += ∂f/∂u · ∂u/∂b = 1 · 16 = 16" in text
    assert "∂f/∂d += ∂f/∂v · ∂v/∂d = 1 · (-24) = -24" in text
    assert text.count("+=") == 6  # f<-u, f<-v, and one edge per operand of u and v


def test_collapsed_contributions_add_up_to_the_gradient_on_arrays():
    import json

    args = ["samples/mlp.txt", "--at", "x=[0.5,-1]", "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]",
            "b1=[0,0.1,-0.1]", "W2=[0.7,-0.8,0.9]", "b2=0.05", "t=1"]  # fmt: skip
    full = json.loads(agrad("explain", *args, "-f", "json").stdout)
    short = json.loads(agrad("explain", *args, "-f", "json", "--collapse").stdout)
    assert len(short["backward"]) < len(full["backward"])
    last = {s["text"].split(" ")[0]: s["adjoint"] for s in full["backward"] if s["kind"] == "sum"}
    for name, adjoint in last.items():  # every input's gradient is the same either way
        sums = [s for s in short["backward"] if s["kind"] == "sum" and s["text"].startswith(name)]
        chains = [s for s in short["backward"] if s["kind"] == "chain"
                  and s["text"].startswith(name + " ")]  # fmt: skip
        if sums:
            assert sums[0]["adjoint"] == adjoint
        elif len(chains) == 1:
            assert chains[0]["contribution"] == adjoint


def test_a_long_sum_is_shortened_and_a_long_file_collapsed(tmp_path):
    lines = ["y0 = x * 0.5", *(f"y{k} = sin(y{k - 1}) * 0.9 + x" for k in range(1, 500))]
    path = tmp_path / "chain.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = agrad("explain", str(path), "--at", "x=0.3")
    assert "one step per named line" in result.stderr
    total = result.stdout.splitlines()[-1]
    assert "… +" in total and "(500 terms)" in total and len(total) < 200
    expanded = agrad("explain", str(path), "--at", "x=0.3", "--expand")
    assert expanded.stderr == "" and expanded.stdout.count("\n") > 2 * result.stdout.count("\n")
    tex = agrad("explain", str(path), "--at", "x=0.3", "-f", "latex").stdout
    assert "\\dots" in tex and "\\quad\\text{(500 terms)}" in tex and "…" not in tex


def test_source_text_in_latex_is_escaped():
    from autogradcli.render.explain_lines import _tex_text

    assert _tex_text("a_b^2 {x} & 5% #1 $ ~ \\") == (
        "a\\_b\\^{}2 \\{x\\} \\& 5\\% \\#1 \\$ \\~{} \\textbackslash{}"
    )


def test_collapsed_latex_with_a_long_sum_compiles_where_tex_is_installed(tmp_path):
    lines = ["y0 = x * 0.5", *(f"y{k} = sin(y{k - 1}) * 0.9 + x" for k in range(1, 150))]
    chain = write(tmp_path, "\n".join(lines) + "\n", "chain.txt")
    runs = [["samples/seed.txt", *SEED_AT], [chain, "--at", "x=0.3"], ["samples/mlp.txt", *MLP_AT]]
    body = "".join(agrad("explain", *r, "-f", "latex", "--collapse").stdout for r in runs)
    assert "\\dots" in body and "\\text{(c - d) * d**2}" in body
    compile_latex(tmp_path, body)
