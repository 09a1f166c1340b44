"""Formulas users bring, written as they write them, against PyTorch: value and gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, run, write

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(26)


def _t(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=True)


def _same(text: str, build, **at) -> None:
    """agrad's value and gradient of `text` at `at` equal torch's of `build(**tensors)`."""
    out = run(text, **at).outputs[0]
    ts = {k: _t(v) for k, v in at.items()}
    loss = build(**ts)
    loss.backward()
    assert float(out.value) == pytest.approx(loss.item(), rel=1e-12, abs=1e-14)
    for k, v in ts.items():
        np.testing.assert_allclose(out.gradient[k], v.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_a_softmax_over_a_batch():
    at = {"W": RNG.normal(size=(4, 3)), "C": RNG.normal(size=(4, 3))}
    _same("f = sum(softmax(W, axis=1) * C)", lambda W, C: (W.softmax(1) * C).sum(), **at)
    _same("f = sum(log_softmax(W, axis=0) * C)", lambda W, C: (W.log_softmax(0) * C).sum(), **at)


def test_a_layer_norm_over_the_last_axis():
    at = {"x": RNG.normal(size=(2, 5)), "g": RNG.normal(size=5), "b": RNG.normal(size=5)}
    at["C"] = RNG.normal(size=(2, 5))
    text = (
        "m = mean(x, axis=-1, keepdims=true)\n"
        "v = var(x, axis=-1, keepdims=true)\n"
        "f = sum((g * (x - m) / sqrt(v + 1e-5) + b) * C)\n"
    )
    _same(text, lambda x, g, b, C: (F.layer_norm(x, (5,), g, b, eps=1e-5) * C).sum(), **at)


def test_a_layer_norm_from_the_library():
    nn = Path(__file__).resolve().parents[2] / "samples" / "nn.agrad"
    at = {"x": RNG.normal(size=(3, 4)), "g": RNG.normal(size=4), "b": RNG.normal(size=4)}
    text = f'use "{nn}"\nf = sum(gelu(layernorm(x, g, b)))\n'

    def torch_f(x, g, b):
        return F.gelu(F.layer_norm(x, (4,), g, b, eps=1e-5), approximate="tanh").sum()

    _same(text, torch_f, **at)


def test_single_head_attention():
    at = {k: RNG.normal(size=s) for k, s in {"Q": (3, 2), "K": (4, 2), "V": (4, 5)}.items()}
    text = "A = softmax(Q @ K.T / sqrt(2), axis=-1) @ V\nf = sum(A * A)\n"
    _same(text, lambda Q, K, V: (F.scaled_dot_product_attention(Q, K, V) ** 2).sum(), **at)


def test_logistic_regression_with_mean():
    at = {"X": RNG.normal(size=(6, 3)), "w": RNG.normal(size=3), "b": 0.3}
    at["y"] = RNG.integers(0, 2, size=6).astype(float)
    text = "p = sigmoid(X @ w + b)\nloss = -mean(y * log(p) + (1 - y) * log(1 - p))\n"

    def torch_f(X, w, b, y):
        return F.binary_cross_entropy(torch.sigmoid(X @ w + b), y)

    _same(text, torch_f, **at)


def test_an_mse_with_indexing():
    at = {"y": RNG.normal(size=4), "t": RNG.normal(size=3), "W": RNG.normal(size=(3, 4))}
    text = "loss = (y[0] - t[0])^2 + mean((W @ y - t)^2) + (W[1, -1] * y[-1] - t[2])^2\n"

    def torch_f(y, t, W):
        return (y[0] - t[0]) ** 2 + F.mse_loss(W @ y, t) + (W[1, -1] * y[-1] - t[2]) ** 2

    _same(text, torch_f, **at)


def test_a_loss_over_a_points_file_with_an_id_column(tmp_path):
    rows = [(7, 0.5, 1.0), (8, -1.0, 0.0), (9, 2.0, 1.0)]
    csv = "id,x,y\n" + "".join(f"{i},{x},{y}\n" for i, x, y in rows)
    points = write(tmp_path, csv, "points.csv")
    formula = write(tmp_path, "loss = log(1 + exp(-(2 * y - 1) * (w * x + b)))\n")
    result = agrad("eval", formula, "--at-file", points, "--keep", "id", "--at", "w=0.3", "b=-0.1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    header = lines[0].split(",")
    assert header[:1] == ["id"]
    for line, (i, x, y) in zip(lines[1:], rows, strict=True):
        cells = dict(zip(header, line.split(","), strict=True))
        w, b = _t(0.3), _t(-0.1)
        loss = F.binary_cross_entropy_with_logits(w * x + b, torch.tensor(y, dtype=torch.float64))
        loss.backward()
        assert cells["id"] == str(i)
        assert float(cells["loss"]) == pytest.approx(loss.item(), rel=1e-12)
        assert float(cells["dloss/dw"]) == pytest.approx(w.grad.item(), rel=1e-12)
        assert float(cells["dloss/db"]) == pytest.approx(b.grad.item(), rel=1e-12)
