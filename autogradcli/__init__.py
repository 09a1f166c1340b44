"""agrad: a command-line gradient calculator and computational-graph tool.

The library has two front ends on one engine: `parse` turns an expression file into a static
Graph; `tensor` records a dynamic graph as Python runs, with PyTorch's autograd semantics.
"""

from . import optim
from .autograd import grad, trace
from .errors import AgradError
from .export import to_dot, to_text
from .graph import Graph
from .parser import parse, parse_file
from .tensor import Tensor, is_grad_enabled, no_grad, tensor

__version__ = "0.1.0"

__all__ = [
    "AgradError",
    "Graph",
    "Tensor",
    "__version__",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "optim",
    "parse",
    "parse_file",
    "tensor",
    "to_dot",
    "to_text",
    "trace",
]
