"""A 2-16-1 tanh network trained on two-moons data with agrad's Tensor API and Adam.

Run: python samples/moons_mlp.py
"""

import numpy as np

import autogradcli as ag


def make_moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles, labelled -1 and +1."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, size=n)
    upper = rng.integers(0, 2, size=n).astype(bool)
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([x, y], axis=1) + rng.normal(scale=noise, size=(n, 2))
    return points, np.where(upper, 1.0, -1.0)


def main():
    x, y = make_moons()
    xs, ys = ag.tensor(x), ag.tensor(y)
    rng = np.random.default_rng(1)
    w1 = ag.tensor(rng.normal(scale=1.0, size=(2, 16)), requires_grad=True)
    b1 = ag.tensor(np.zeros(16), requires_grad=True)
    w2 = ag.tensor(rng.normal(scale=0.3, size=16), requires_grad=True)
    b2 = ag.tensor(0.0, requires_grad=True)
    params = [w1, b1, w2, b2]
    opt = ag.optim.Adam(params, lr=0.05)
    for step in range(301):
        opt.zero_grad()
        scores = (xs @ w1 + b1).tanh() @ w2 + b2
        loss = (1 - ys * scores).relu().mean() + 1e-4 * (w1 * w1).sum()  # hinge loss
        loss.backward()
        opt.step()
        if step % 50 == 0:
            accuracy = float(((scores.detach() * ys) > 0).mean().item())
            print(f"step {step:3d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
