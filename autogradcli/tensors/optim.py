"""Optimizers with PyTorch's update rules: SGD (with momentum) and Adam."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .tensor import Tensor


class Optimizer:
    """Holds parameters; zero_grad() clears their gradients, step() updates them."""

    def __init__(self, params: Iterable[Tensor], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Tensor):
                kind = type(p).__name__
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {kind}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if not lr >= 0.0:  # also refuses nan, as PyTorch does
            raise ValueError(f"Invalid learning rate: {lr}")

    def zero_grad(self) -> None:
        """Set every parameter's .grad to None (PyTorch's default)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:  # pragma: no cover - overridden
        """Update the parameters from their gradients."""
        raise NotImplementedError


class SGD(Optimizer):
    """p -= lr * buf, with buf = momentum * buf + grad (buf = grad on the first step)."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        self.lr, self.momentum = lr, momentum
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for k, p in enumerate(self.params):
            if p._grad is None:
                continue
            g = p._grad.data
            if self.momentum:
                buf = self.buffers[k]
                buf = g.copy() if buf is None else self.momentum * buf + g
                self.buffers[k] = buf
                g = buf
            p.data = p.data - self.lr * g


class Adam(Optimizer):
    """Adam with bias correction, written as torch.optim.Adam computes it."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        super().__init__(params, lr)
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for k, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {k}: {beta}")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.steps = [0] * len(self.params)

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        b1, b2 = self.betas
        for k, p in enumerate(self.params):
            if p._grad is None:
                continue
            g = p._grad.data
            self.steps[k] += 1
            t = self.steps[k]
            self.m[k] = self.m[k] + (g - self.m[k]) * (1 - b1)
            self.v[k] = self.v[k] * b2 + (1 - b2) * g * g
            step_size = self.lr / (1 - b1**t)
            denom = np.sqrt(self.v[k]) / np.sqrt(1 - b2**t) + self.eps
            p.data = p.data - step_size * (self.m[k] / denom)
