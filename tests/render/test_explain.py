"""agrad explain: the seed's steps as golden files, every number the engine's own, every format
for the samples."""

from __future__ import annotations

import json
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


def test_a_quiz_blanks_numbers_and_gives_the_answers():
    result = agrad("explain", "samples/seed.txt", *SEED_AT, "--quiz", "5", "--seed", "3")
    assert result.exit_code == 0, result.output
    body, _, key = result.stdout.partition("\nAnswers\n")
    assert [f"[?{n}]" in body for n in range(1, 6)] == [True] * 5
    answers = dict(line.strip().split(" = ") for line in key.strip().splitlines())
    full = agrad("explain", "samples/seed.txt", *SEED_AT).stdout
    for blank, value in answers.items():  # the answer is what the full explanation shows there
        line = next(x for x in body.splitlines() if blank in x).split("    [")[0].strip()
        shown = {line.replace(blank, value), line.replace(blank, f"({value})")}
        assert any(text in full for text in shown), line
    md = agrad("explain", "samples/seed.txt", *SEED_AT, "--quiz", "2", "-f", "markdown").stdout
    assert "## Answers" in md
    as_json = agrad("explain", "samples/seed.txt", *SEED_AT, "--quiz", "2", "-f", "json")
    assert as_json.exit_code == 2
    assert agrad("explain", "samples/seed.txt", *SEED_AT, "--seed", "2").exit_code == 2


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
