"""The Tensor API's modules are the ones `autogradcli` exports."""

from __future__ import annotations

import numpy as np

import autogradcli as ag
from autogradcli.tensors import autograd, optim
from autogradcli.tensors.grad_mode import no_grad
from autogradcli.tensors.tensor import Tensor, tensor


def test_public_names_come_from_the_tensors_folder():
    assert ag.Tensor is Tensor and ag.tensor is tensor and ag.no_grad is no_grad
    assert ag.grad is autograd.grad and ag.trace is autograd.trace and ag.optim is optim


def test_grad_and_sgd_from_their_modules():
    x = tensor([1.0, 2.0], requires_grad=True)
    (g,) = autograd.grad((x * x).sum(), [x])
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    opt = optim.SGD([x], lr=0.5)
    x.grad = g
    opt.step()
    np.testing.assert_array_equal(x.detach().numpy(), [0.0, 0.0])
