"""samples/nn.agrad and samples/mlp_batch.txt: every hand-written claim holds, a wrong one
fails, and the batched network's loss and gradients match PyTorch's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write

from autogradcli.verify import folder_files, is_folder_file
from autogradcli.verify.files import check_file, expand

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
NN = SAMPLES / "nn.agrad"
MLP = SAMPLES / "mlp_batch.txt"


def _at_values() -> dict[str, np.ndarray]:
    """The `--at` values the sample's comment gives."""
    line = next(s for s in MLP.read_text().splitlines() if s.startswith("# agrad eval"))
    pairs = re.findall(r"(\w+)=(\S+)", line.split("--at", 1)[1])
    return {k: np.array(json.loads(v), dtype=float) for k, v in pairs}


def test_every_claim_of_the_library_is_checked_and_holds():
    results = check_file(str(NN), points=8)
    claims = [s for s in NN.read_text().splitlines() if s.startswith("expect ")]
    assert len(results) == len(claims) >= 20
    assert {r.status for r in results} == {"pass"}, [r.detail for r in results]


def test_a_wrong_array_claim_fails(tmp_path):
    text = (
        f'use "{NN}"\n# shape: x (4), w (4)\n'
        "expect diff(sum(softmax_last(x) * w), x) == softmax(x) * w\n"
        "expect diff(sum(softmax_last(x) * w), x) == softmax(x) * (w - sum(softmax(x) * w))\n"
    )
    results = check_file(write(tmp_path, text, "wrong.agrad"), points=5)
    assert [r.status for r in results] == ["fail", "pass"]


def test_an_array_claim_of_the_wrong_shape_is_one_error(tmp_path):
    text = f'use "{NN}"\n# shape: x (4)\nexpect diff(logsumexp_last(x), x) == [1, 2]\n'
    result = agrad("check", write(tmp_path, text, "shape.agrad"), "--points", "3")
    assert result.exit_code == 2
    assert "the left side has shape (4,) (the gradient's), the right side (2,)" in result.output


def test_a_shape_directive_may_name_the_inputs_of_claims(tmp_path):
    text = "lse(v) = logsumexp(v)\n# shape: v (3)\nexpect diff(lse(v), v) == softmax(v)\n"
    results = check_file(write(tmp_path, text, "lib.agrad"), points=3)
    assert [(r.wrt, r.status) for r in results] == [("v", "pass")]


def test_a_folder_means_formulas_and_libraries_but_not_mistakes_on_purpose():
    files = [Path(f).relative_to(SAMPLES).as_posix() for f in expand([str(SAMPLES)])]
    assert "nn.agrad" in files and "mlp_batch.txt" in files and "rules/chain.txt" in files
    assert not any(f.startswith("errors/") for f in files)
    assert all(f.endswith((".txt", ".agrad")) for f in files)
    assert folder_files(SAMPLES) == [Path(f) for f in expand([str(SAMPLES)])]
    assert not is_folder_file(SAMPLES / "errors" / "typo.agrad", SAMPLES)
    assert is_folder_file(SAMPLES / "errors" / "typo.agrad", SAMPLES / "errors")  # asked for


def test_the_batched_network_runs_from_the_command_line_as_its_comment_says():
    at = [f"{k}={json.dumps(v.tolist())}".replace(" ", "") for k, v in _at_values().items()]
    for cmd in (["eval"], ["explain"], ["graph", "--format", "mermaid"]):
        result = agrad(*cmd, str(MLP), "--at", *at)
        assert result.exit_code == 0, result.output
    result = agrad("graph", str(MLP), "--collapse-calls", "--format", "json", "--at", *at)
    assert result.exit_code == 0, result.output
    names = {g["name"] for g in json.loads(result.stdout)["groups"]}
    assert names >= {"cross_entropy", "log_softmax_last"}


def test_the_batched_network_matches_torch():
    torch = pytest.importorskip("torch")
    from autogradcli.engines.evaluate import evaluate
    from autogradcli.language.parser import parse_file

    at = _at_values()
    out = evaluate(parse_file(str(MLP)), at).outputs[0]
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in at.items()}
    X = torch.tensor([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [0.9, -0.6]], dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1])
    logits = torch.tanh(X @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    assert float(out.value) == pytest.approx(loss.item(), rel=1e-12)
    for k, v in t.items():
        np.testing.assert_allclose(out.gradient[k], v.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_the_batched_network_s_hessian_matches_torch():
    torch = pytest.importorskip("torch")
    at = _at_values()
    args = [f"{k}={json.dumps(v.tolist())}" for k, v in at.items()]
    result = agrad("eval", str(MLP), "--at", *args, "--hessian", "--wrt", "b2,W2", "-f", "json")
    assert result.exit_code == 0, result.output
    hess = json.loads(result.stdout)["outputs"]["loss"]["hessian"]
    X = torch.tensor([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [0.9, -0.6]], dtype=torch.float64)
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in at.items()}

    def loss(W2, b2):
        logits = torch.tanh(X @ t["W1"] + t["b1"]) @ W2 + b2
        return torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 1]))

    (hww, hwb), (hbw, hbb) = torch.autograd.functional.hessian(loss, (t["W2"], t["b2"]))
    blocks = {("W2", "W2"): hww, ("W2", "b2"): hwb, ("b2", "W2"): hbw, ("b2", "b2"): hbb}
    for (a, b), want in blocks.items():
        np.testing.assert_allclose(np.array(hess[a][b]), want.numpy(), rtol=1e-9, atol=1e-13)
