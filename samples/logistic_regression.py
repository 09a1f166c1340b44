"""Logistic regression with agrad's Tensor API on a small generated dataset.

Run: python samples/logistic_regression.py
"""

import numpy as np

import autogradcli as ag


def make_data(n=200, seed=0):
    """Two Gaussian blobs in 2-D, labelled 0 and 1."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n).astype(float)
    centers = np.where(labels[:, None] == 1, [1.5, 1.0], [-1.0, -1.5])
    return centers + rng.normal(size=(n, 2)), labels


def main():
    x, y = make_data()
    xs, ys = ag.tensor(x), ag.tensor(y)
    w = ag.tensor([0.0, 0.0], requires_grad=True)
    b = ag.tensor(0.0, requires_grad=True)
    opt = ag.optim.SGD([w, b], lr=0.5)
    for step in range(201):
        opt.zero_grad()
        z = xs @ w + b
        loss = (z.softplus() - ys * z).mean()  # mean negative log-likelihood, computed stably
        loss.backward()
        opt.step()
        if step % 50 == 0:
            with ag.no_grad():
                accuracy = float((((xs @ w + b) > 0) == ys).mean().item())
            print(f"step {step:3d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")
    print(f"weights {w.data.round(3).tolist()}  bias {b.item():.3f}")


if __name__ == "__main__":
    main()
