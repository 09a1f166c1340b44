"""agrad: a command-line gradient calculator and computational-graph tool.

The library has two front ends on one engine: `parse` turns an expression file into a static
Graph; `tensor` records a dynamic graph as Python runs, with PyTorch's autograd semantics.
Names are imported on first use, so the command line starts without loading what it does not
need.
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "AgradError": "errors",
    "Graph": "graph",
    "Plan": "plan",
    "Tensor": "tensors",
    "grad": "autograd",
    "is_grad_enabled": "tensors",
    "no_grad": "tensors",
    "optim": None,
    "parse": "parser",
    "parse_file": "parser",
    "tensor": "tensors",
    "to_dot": "export",
    "to_text": "export",
    "trace": "autograd",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'autogradcli' has no attribute {name!r}")
    module = _LAZY[name]
    value = import_module(f".{name}" if module is None else f".{module}", __name__)
    value = value if module is None else getattr(value, name)
    globals()[name] = value
    return value
