"""A hand-written softplus as a torch.autograd.Function, checked by
`agrad check samples/impl/softplus_spec.txt --impl torch:samples/impl/softplus_torch.py:Softplus`.

`WrongSoftplus` uses exp(x) where the derivative is sigmoid(x): right only for very negative x."""

import torch


class Softplus(torch.autograd.Function):
    """log(1 + e^x), with its derivative sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.nn.functional.softplus(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(x)


class WrongSoftplus(Softplus):
    """The same forward with the derivative of e^x instead."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.exp(x)
