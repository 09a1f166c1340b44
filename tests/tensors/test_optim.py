"""Optimizers beside torch.optim, and `agrad minimize`."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import autogradcli as ag
from autogradcli.cli import app
from autogradcli.language.parser import parse_file
from autogradcli.tensors.minimize import minimize

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def loss(lib, w, b, x, y):
    """A small least-squares problem with a tanh, written for both libraries."""
    pred = (x @ w + b).tanh()
    return ((pred - y) ** 2).mean() + (w * w).sum() * 0.01


def trajectory(make_opt, steps=20):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    w = ag.tensor(rng.normal(size=3), requires_grad=True)
    b = ag.tensor(0.1, requires_grad=True)
    opt = make_opt([w, b])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss(ag, w, b, ag.tensor(x), ag.tensor(y)).backward()
        opt.step()
        out.append(np.concatenate([w.data.ravel(), b.data.ravel()]))
    return np.array(out), (x, y)


def torch_trajectory(make_opt, data, steps=20):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    rng.normal(size=(8, 3)), rng.normal(size=8)
    w = torch.tensor(rng.normal(size=3), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    x, y = (torch.tensor(a, dtype=torch.float64) for a in data)
    opt = make_opt(torch, [w, b])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss(torch, w, b, x, y).backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]))
    return np.array(out)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda p: ag.optim.SGD(p, lr=0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
        (
            lambda p: ag.optim.SGD(p, lr=0.05, momentum=0.9),
            lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9),
        ),
        (lambda p: ag.optim.Adam(p, lr=0.01), lambda t, p: t.optim.Adam(p, lr=0.01)),
        (
            lambda p: ag.optim.Adam(p, lr=0.1, betas=(0.8, 0.99), eps=1e-6),
            lambda t, p: t.optim.Adam(p, lr=0.1, betas=(0.8, 0.99), eps=1e-6),
        ),
    ],
    ids=["sgd", "momentum", "adam", "adam-betas"],
)
def test_trajectories_match_torch(ours, theirs):
    mine, data = trajectory(ours)
    np.testing.assert_allclose(mine, torch_trajectory(theirs, data), rtol=0, atol=1e-10)


def test_sgd_by_hand_and_zero_grad():
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    opt = ag.optim.SGD([w], lr=0.5, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    # step 1: g = 2w = [2, -4], buf = g, w = [0, 0]; step 2: g = 0, buf = 0.5*buf
    np.testing.assert_allclose(w.data, [-0.5, 1.0])
    opt.zero_grad()
    assert w.grad is None


def test_rosenbrock_with_adam_reaches_the_minimum():
    graph = parse_file(str(ROOT / "samples/rosenbrock.txt"))
    run = minimize(graph, {"x": np.array(-1.2), "y": np.array(1.0)}, steps=3000, lr=0.05)
    x, y = (float(run.end[3][n]) for n in ("x", "y"))
    assert abs(x - 1) < 1e-6 and abs(y - 1) < 1e-6
    assert run.end[1] < 1e-12 and run.reason.startswith("converged")


def test_minimize_command_table_and_trace(tmp_path):
    trace = tmp_path / "t.csv"
    result = runner.invoke(
        app,
        [
            "minimize",
            str(ROOT / "samples/rosenbrock.txt"),
            "--at",
            "x=-1.2",
            "y=1",
            "--lr",
            "0.05",
            "--steps",
            "3000",
            "--trace",
            str(trace),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "converged" in result.stdout and "0.99999" in result.stdout
    rows = list(csv.DictReader(trace.read_text().splitlines()))
    assert list(rows[0]) == ["step", "loss", "grad_norm", "x", "y"]
    assert float(rows[0]["loss"]) == pytest.approx(24.2)
    assert float(rows[-1]["loss"]) < 1e-12


@pytest.mark.parametrize("kind", ["sgd", "momentum"])
def test_minimize_other_optimizers_and_arrays(kind, tmp_path):
    result = runner.invoke(
        app,
        [
            "minimize",
            str(ROOT / "samples/logistic.txt"),
            "--at",
            "w=[0,0]",
            "b=0",
            "--optimizer",
            kind,
            "--lr",
            "0.5",
            "--steps",
            "200",
            "--trace",
            str(tmp_path / "t.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "t.csv").read_text().splitlines()))
    assert "w[1]" in rows[0]
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_minimize_needs_a_scalar_and_plot_needs_matplotlib(tmp_path, monkeypatch):
    vec = tmp_path / "v.txt"
    vec.write_text("y = x * 2\n", encoding="utf-8")
    result = runner.invoke(app, ["minimize", str(vec), "--at", "x=[1,2]"])
    assert result.exit_code == 2 and "needs a scalar output" in result.stderr
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = runner.invoke(
        app,
        [
            "minimize",
            str(ROOT / "samples/rosenbrock.txt"),
            "--at",
            "x=0",
            "y=0",
            "--steps",
            "3",
            "--plot",
            str(tmp_path / "p.png"),
        ],
    )
    assert result.exit_code == 2
    assert "-m pip install matplotlib" in result.stderr


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "p.png"
    result = runner.invoke(
        app,
        [
            "minimize",
            str(ROOT / "samples/rosenbrock.txt"),
            "--at",
            "x=0",
            "y=0",
            "--steps",
            "20",
            "--plot",
            str(out),
        ],
    )
    assert result.exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("script", "final"),
    [("logistic_regression.py", "accuracy 0.96"), ("moons_mlp.py", "accuracy 1.000")],
)
def test_sample_scripts_train(script, final):
    import subprocess

    done = subprocess.run(
        [sys.executable, str(ROOT / "samples" / script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 5
    losses = [float(line.split("loss")[1].split()[0]) for line in lines if "loss" in line]
    assert losses[-1] < losses[0] / 5
    assert any(final in line for line in lines[-3:])
