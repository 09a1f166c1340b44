"""agrad: a command-line gradient calculator and computational-graph tool.

The library has two front ends on one engine: `parse` turns an expression file into a static
Graph; `tensor` records a dynamic graph as Python runs, with PyTorch's autograd semantics.
Names are imported on first use, so the command line starts without loading what it does not
need.
"""

import sys
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "AgradError": "errors",
    "BatchRequest": "render.batch",
    "cat": "tensors.joins",
    "concat": "tensors.joins",
    "stack": "tensors.joins",
    "where": "tensors.joins",
    "explain": "render.explained",
    "Graph": "graph",
    "Plan": "engines.plan",
    "Tensor": "tensors.tensor",
    "functional": "tensors.functional",
    "grad": "tensors.autograd",
    "hessian_plan": "engines.higher",
    "is_grad_enabled": "tensors.grad_mode",
    "no_grad": "tensors.grad_mode",
    "optim": "tensors.optim",
    "parse": "language.parser",
    "point_function": "engines.point",
    "run_batch": "render.batch",
    "parse_file": "language.parser",
    "special": "tensors.special",
    "tensor": "tensors.tensor",
    "to_dot": "render.export",
    "to_text": "render.export",
    "trace": "tensors.autograd",
}
_MODULES = {"functional", "optim", "special"}  # names that are modules, not attributes of one

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'autogradcli' has no attribute {name!r}")
    module = import_module(f".{_LAZY[name]}", __name__)
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def _notebook() -> None:
    """In Jupyter (IPython already running), show graphs and tensors as pictures."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and hasattr(shell, "display_formatter"):
        import_module(".render.export", __name__).register_notebook(shell)


_notebook()
