"""A hand-written logistic-regression loss and gradient, checked by
`agrad check samples/impl/logistic_spec.txt --impl samples/impl/logistic_grad.py:loss_and_grad`.

`wrong_grad` forgets the 1/n of the mean, a classic slip that `agrad check` catches."""

import numpy as np

X = np.array([[1.0, 2.0], [2.0, 0.5], [3.0, 3.5], [4.0, 1.0]])
Y = np.array([0.0, 0.0, 1.0, 1.0])


def loss_and_grad(w, b):
    """The loss and its gradient with respect to w and b."""
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    loss = np.mean(np.logaddexp(0.0, z) - Y * z)
    r = (p - Y) / len(Y)
    return loss, {"w": X.T @ r, "b": np.sum(r)}


def wrong_grad(w, b):
    """The same gradient without the 1/n of the mean."""
    z = X @ w + b
    r = 1.0 / (1.0 + np.exp(-z)) - Y
    return {"w": X.T @ r, "b": np.sum(r)}
