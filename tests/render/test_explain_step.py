"""`agrad explain --step` and `ag.explain(loss, step=optimizer)`: the update after the backward
pass, checked against `agrad minimize`'s first step and against hand-written update rules."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import agrad

import autogradcli as ag
from autogradcli.render.explain_step import Rule

MLP_AT = ["--at", "x=[0.5,-1]", "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]", "b1=[0,0.1,-0.1]",
          "W2=[0.7,-0.8,0.9]", "b2=0.05", "t=1"]  # fmt: skip
PARAMS = ["W1", "b1", "W2", "b2"]


def minimize_first_step(tmp_path, optimizer: str, *extra: str) -> dict[str, np.ndarray]:
    """`agrad minimize --steps 1`: the point after one step, by parameter, and the loss."""
    trace = tmp_path / f"{optimizer}.csv"
    wrt = [w for p in PARAMS for w in ("--wrt", p)]
    done = agrad("minimize", "samples/mlp.txt", *MLP_AT, "--optimizer", optimizer, "--lr", "0.1",
                 *wrt, *extra, "--steps", "1", "--trace", str(trace))  # fmt: skip
    assert done.exit_code == 0, done.output
    header, _, after_step = trace.read_text(encoding="utf-8").splitlines()[:3]
    names = re.split(r",(?![^\[]*\])", header)  # W1[0,1]: a comma inside the brackets
    after = dict(zip(names, after_step.split(","), strict=True))
    out = {p: np.array([float(v) for k, v in after.items() if k.split("[")[0] == p])
           for p in PARAMS}  # fmt: skip
    out["loss"] = np.array([float(after["loss"])])
    return out


def explained_step(optimizer: str, *extra: str) -> dict[str, np.ndarray]:
    """`agrad explain --step ... -f json`: each parameter's new value, and the loss after."""
    done = agrad("explain", "samples/mlp.txt", *MLP_AT, "--step", optimizer, "--lr", "0.1",
                 "--wrt", ",".join(PARAMS), *extra, "-f", "json")  # fmt: skip
    assert done.exit_code == 0, done.output
    steps = json.loads(done.stdout)["step"]["steps"]
    out = {s["text"].split(" ←")[0]: np.ravel(s["value"]) for s in steps if s["kind"] == "update"}
    out["loss"] = np.array([s["value"] for s in steps if s["kind"] == "loss"])
    return out


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_the_update_is_agrad_minimizes_first_step(tmp_path, optimizer):
    want = minimize_first_step(tmp_path, optimizer)
    got = explained_step(optimizer)
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-15)


def test_sgd_by_hand_and_the_text():
    done = agrad("explain", "samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4", "--step",
                 "sgd", "--lr", "0.1", "--wrt", "a,d")  # fmt: skip
    assert done.exit_code == 0, done.output
    text = done.stdout.split("Training step (SGD, lr 0.1)\n")[1]
    # gradient 4 and -24 (the seed): a = 1 - 0.1 * 4, d = 4 + 0.1 * 24
    assert "  1. a ← a − 0.1 · ∂f/∂a = 1 − 0.1 · 4 = 0.6\n" in text
    assert "  2. d ← d − 0.1 · ∂f/∂d = 4 − 0.1 · (-24) = 6.4\n" in text
    f_after = (0.6 + 2) * 4 + (3 - 6.4) * 6.4**2  # by hand at the new point
    assert f"f after the step = {f_after:.6g} (before: -4)" in text


def test_a_tensor_loss_explained_with_its_optimizer():
    """ag.explain(loss, step=opt) after loss.backward(): the same numbers opt.step() makes."""
    w = ag.tensor([0.5, -0.25], requires_grad=True)
    b = ag.tensor(0.1, requires_grad=True)
    X = ag.tensor([[1.0, 2.0], [2.0, 0.5], [3.0, 3.5]])
    y = ag.tensor([0.0, 1.0, 1.0])
    opt = ag.optim.Adam([w, b], lr=0.05)
    for _ in range(2):  # a step already taken: the explanation uses the optimizer's state
        opt.zero_grad()
        loss = (((X @ w + b) - y) ** 2).sum()
        loss.backward()
        if _ == 0:
            opt.step()
    shown = ag.explain(loss, at={"w": w, "b": b}, step=opt)
    text = str(shown)
    assert "Forward pass (loss)" in text and "∂loss/∂w" in text
    assert "Training step (Adam, lr 0.05" in text and "^2)" in text  # the second step: t = 2
    opt.step()
    got = json.loads(shown.render("json"))["step"]["steps"]
    new = {s["text"].split(" ←")[0]: s["value"] for s in got if s["kind"] == "update"}
    np.testing.assert_allclose(new["w"], w.data, rtol=1e-12)
    np.testing.assert_allclose(new["b"], b.data, rtol=1e-12)
    assert shown.render("html").startswith("<!DOCTYPE html>")


def test_a_tensor_graph_without_optimizer_and_names():
    x = ag.tensor(2.0, requires_grad=True)
    loss = x * x.sin()
    loss.backward()
    text = str(ag.explain(loss))
    assert "loss = x0 * t1" in text or "x0" in text
    grads = [line for line in text.splitlines() if "∂loss/∂x0 =" in line]
    assert grads and grads[-1].split(" = ")[-1].split()[0] == f"{float(x.grad.data):.6g}"


def test_step_flags_that_cannot_be_honoured():
    seed = ["samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4"]
    for args, message in [
        (["--lr", "0.1"], "--lr sets the training step"),
        (["--step", "sgd", "--momentum", "0.5"], "--momentum is for --step momentum"),
        (["--step", "sgd", "--quiz", "2"], "--quiz hides gradients"),
        (["--step", "sgd", "-f", "latex"], "not latex"),
        (["--step", "sgd", "--lr", "0"], "must be positive"),
    ]:
        done = agrad("explain", *seed, *args)
        assert done.exit_code == 2 and message in done.stderr, (args, done.output)


def test_a_rule_on_a_parsed_graph():
    shown = ag.explain("samples/seed.txt", a=1, b=2, c=3, d=4, wrt=["b"],
                       step=Rule("momentum", 0.1, 0.9))  # fmt: skip
    assert "buf_b = ∂f/∂b = 16    (first step: the velocity is the gradient)" in str(shown)
    assert "b ← b − 0.1 · buf_b = 2 − 0.1 · 16 = 0.4" in str(shown)


def test_a_step_refuses_intermediate_names_and_updates_a_repeated_name_once():
    bad = agrad("explain", "samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4",
                "--step", "sgd", "--wrt", "u")  # fmt: skip
    assert bad.exit_code == 2 and "'u' is not one" in bad.stderr and "Traceback" not in bad.stderr
    twice = agrad("explain", "samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4",
                  "--step", "sgd", "--wrt", "a,a")  # fmt: skip
    assert twice.exit_code == 0 and twice.stdout.count("a ← a") == 1
