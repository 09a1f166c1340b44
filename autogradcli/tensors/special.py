"""`torch.special` for agrad tensors: special functions under PyTorch's names.

Each is the registry op of the same meaning (`gammaln` is `lgamma`, `expit` is `sigmoid`,
`psi` is `digamma`), so first and second derivatives come from the registry's rules.
"""

from __future__ import annotations

from typing import Any

from .tensor import Tensor, apply


def erf(input: Any) -> Tensor:
    """The error function."""
    return apply("erf", input)


def erfc(input: Any) -> Tensor:
    """1 - erf(x), accurate where erf(x) is near 1."""
    return apply("erfc", input)


def expit(input: Any) -> Tensor:
    """The logistic function 1/(1 + e^-x)."""
    return apply("sigmoid", input)


def exp2(input: Any) -> Tensor:
    """2^x."""
    return apply("exp2", input)


def expm1(input: Any) -> Tensor:
    """e^x - 1, accurate near 0."""
    return apply("expm1", input)


def log1p(input: Any) -> Tensor:
    """log(1 + x), accurate near 0."""
    return apply("log1p", input, name="Log1PBackward0")


def gammaln(input: Any) -> Tensor:
    """log|gamma(x)|."""
    return apply("lgamma", input)


def digamma(input: Any) -> Tensor:
    """psi(x), the derivative of gammaln."""
    return apply("digamma", input)


psi = digamma


def polygamma(n: int, input: Any) -> Tensor:
    """psi^(n)(x), the n-th derivative of digamma."""
    return apply("polygamma", input, attrs={"n": int(n)})


def sinc(input: Any) -> Tensor:
    """sin(pi x)/(pi x), 1 at 0."""
    return apply("sinc", input)


def round(input: Any) -> Tensor:
    """The nearest whole number, halves to even."""
    return apply("round", input, name="RoundBackward1")
