"""The dynamic front end: a PyTorch-style Tensor that records the graph as Python runs.

Every operation is a registry op applied through `apply`; `backward` and `grad` (in
`autograd.py`) turn the recorded graph into a flat Graph and run the shared engine on it, so
there is no second set of derivative rules.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..ops import FORWARD, REGISTRY, Kind
from ..ops.numeric import fp_watch
from .arrays import ArrayMethods
from .grad_mode import GRAD_MODE

# Ops whose PyTorch backward keeps no tensors, so a second backward through them is allowed.
NOTHING_SAVED = {name for name, op in REGISTRY.items() if op.saves_nothing}


class Node:
    """A backward function (`grad_fn`): which op made a tensor, from which tensors."""

    _classes: ClassVar[dict[str, type]] = {}

    def __init__(self, op: str, inputs: tuple, attrs: dict | None):
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.freed = False

    @classmethod
    def make(cls, name: str, op: str, inputs: tuple, attrs: dict | None) -> Node:
        """An instance of the subclass called `name` (so type(fn).__name__ is PyTorch's)."""
        sub = cls._classes.get(name)
        if sub is None:
            sub = cls._classes[name] = type(name, (cls,), {"__doc__": f"The {op} backward."})
        return sub(op, inputs, attrs)

    def name(self) -> str:
        """PyTorch-style name, e.g. MulBackward0."""
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """(function, 0) per input: its grad_fn, AccumulateGrad for a leaf, or None."""
        out = []
        for t in self.inputs:
            if t.grad_fn is not None:
                out.append((t.grad_fn, 0))
            elif t.requires_grad:
                out.append((t._accumulator(), 0))
            else:
                out.append((None, 0))
        return tuple(out)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """Where a leaf's gradient lands (what PyTorch shows in next_functions)."""

    def __init__(self, variable: Tensor):
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        """Always "AccumulateGrad"."""
        return "AccumulateGrad"


class Tensor(ArrayMethods):
    """A float64 array that can record the operations applied to it."""

    __array_priority__ = 1000  # make numpy scalars defer to Tensor's reflected operators

    def __init__(self, data: Any, requires_grad: bool = False, _fn: Node | None = None):
        self.data = np.array(data, dtype=np.float64)
        self.requires_grad = bool(requires_grad)
        self.grad_fn = _fn
        self._grad: Tensor | None = None
        self._retains = False
        self._acc: AccumulateGrad | None = None

    # --- autograd state ---------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op that recorded a grad_fn."""
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (leaves, and non-leaves that called retain_grad())."""
        if not self.is_leaf and not self._retains:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        self._grad = value

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient after backward()."""
        if self.requires_grad:
            self._retains = True
        else:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")

    @property
    def retains_grad(self) -> bool:
        """Whether retain_grad() was called on this non-leaf tensor."""
        return self._retains

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad on a leaf, in place."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if not self.is_leaf:
            return self
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same values, cut from the graph."""
        return Tensor(self.data)

    def _accumulator(self) -> AccumulateGrad:
        if self._acc is None:
            self._acc = AccumulateGrad(self)
        return self._acc

    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's .grad (see autograd.backward)."""
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph)

    def graph(self, names: dict | None = None):
        """The recorded graph ending at this tensor, as a static Graph with this tensor as
        its output (named from `names`, keyed by id(tensor), else `out`)."""
        from .autograd import to_graph

        graph, _, index = to_graph([self], names=names)
        graph.add_output((names or {}).get(id(self)) or "out", index[id(self)])
        return graph

    # --- plain data ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    def size(self, dim: int | None = None):
        """The shape, or one of its sizes."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def item(self) -> float:
        """The value of a one-element tensor as a float."""
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (refused while it requires grad, as in PyTorch)."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use "
                "tensor.detach().numpy() instead."
            )
        return self.data

    def tolist(self):
        """The data as nested lists."""
        return self.data.tolist()

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn=<{self.grad_fn.name()}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.data.reshape(()))

    def _op(self, op: str, *others: Any, attrs: dict | None = None, name: str | None = None):
        """Registry op `op` on this tensor (and `others`), recorded for backward."""
        return apply(op, self, *others, attrs=attrs, name=name)

    # --- shape ops ----------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """The same elements in a new shape."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        return apply("reshape", self, attrs={"shape": tuple(int(s) for s in shape)})

    view = reshape

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return apply("transpose", self)

    def t(self) -> Tensor:
        """The transpose of a matrix (named TBackward0, as in PyTorch)."""
        return apply("transpose", self, name="TBackward0")

    def __getitem__(self, key) -> Tensor:
        key = key.data.astype(int) if isinstance(key, Tensor) else key
        return apply("index", self, attrs={"key": key}, name=_index_name(key))

    # --- reductions with PyTorch's keywords ---------------------------------------------
    def sum(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Sum of all elements, or along `dim`."""
        if dim is None and not keepdim:
            return apply("sum", self)
        return apply("sum", self, attrs={"axis": dim, "keepdims": keepdim}, name="SumBackward1")

    def mean(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Mean of all elements, or along `dim`."""
        if dim is None and not keepdim:
            return apply("mean", self)
        return apply("mean", self, attrs={"axis": dim, "keepdims": keepdim}, name="MeanBackward1")

    # --- operators ----------------------------------------------------------------------
    def __add__(self, other):
        return apply("add", self, other)

    def __radd__(self, other):
        return apply("add", other, self)

    def __sub__(self, other):
        return apply("sub", self, other)

    def __rsub__(self, other):
        return apply("sub", other, self, name="RsubBackward1")

    def __mul__(self, other):
        return apply("mul", self, other)

    def __rmul__(self, other):
        return apply("mul", other, self)

    def __truediv__(self, other):
        return apply("div", self, other)

    def __rtruediv__(self, other):
        return apply("div", other, self)

    def __pow__(self, other):
        return apply(
            "pow", self, other, name="PowBackward1" if isinstance(other, Tensor) else "PowBackward0"
        )

    def __rpow__(self, other):
        return apply("pow", other, self, name="PowBackward2")

    def __mod__(self, other):
        name = "RemainderBackward1" if isinstance(other, Tensor) else "RemainderBackward0"
        return apply("mod", self, other, name=name)

    def __rmod__(self, other):
        return apply("mod", other, self, name="RemainderBackward1")

    def clamp(self, min=None, max=None) -> Tensor:
        """Elements limited to [min, max]; one bound may be None (PyTorch's clamp)."""
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        lo = -np.inf if min is None else min
        hi = np.inf if max is None else max
        name = "ClampBackward0" if isinstance(min, Tensor) or isinstance(max, Tensor) else None
        return apply("clip", self, lo, hi, name=name or "ClampBackward1")

    def polygamma(self, n: int) -> Tensor:
        """psi^(n) of each element (PyTorch's x.polygamma(n))."""
        return apply("polygamma", self, attrs={"n": int(n)})

    def __matmul__(self, other):
        return apply("matmul", self, other, name=_matmul_name(self, other))

    def __rmatmul__(self, other):
        return apply("matmul", other, self, name=_matmul_name(as_tensor(other), self))

    def __neg__(self):
        return apply("neg", self)

    def __pos__(self):
        return self

    def _compare(self, other, fn) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(fn(self.data, other).astype(np.float64))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):  # elementwise, as in PyTorch
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)


def _op_method(name: str):
    def method(self, *others):
        return apply(name, self, *others)

    method.__name__ = name
    method.__doc__ = f"{REGISTRY[name].doc} (the registry op '{name}')."
    return method


for _name, _op in REGISTRY.items():
    if _op.symbol is None and _op.kind is not Kind.SHAPE and not hasattr(Tensor, _name):
        if _name == "where":  # PyTorch's x.where(cond, y) means something else
            continue
        setattr(Tensor, _name, _op_method(_name))
Tensor.maximum = _op_method("max")
Tensor.clip = Tensor.clamp
Tensor.remainder = Tensor.__mod__
Tensor.deg2rad = _op_method("radians")
Tensor.rad2deg = _op_method("degrees")
Tensor.minimum = _op_method("min")
Tensor.matmul = Tensor.__matmul__
Tensor.pow = Tensor.__pow__


def _index_name(key) -> str:
    """PyTorch names the backward by the last non-trivial index: select, slice or index."""
    parts = key if isinstance(key, tuple) else (key,)
    name = "SliceBackward0"
    for part in parts:
        if isinstance(part, slice) and part == slice(None):
            continue
        if isinstance(part, int | np.integer):
            name = "SelectBackward0"
        elif isinstance(part, slice):
            name = "SliceBackward0"
        elif part is None or part is Ellipsis:
            continue
        else:
            return "IndexBackward0"
    return name


def _matmul_name(a: Tensor, b: Tensor) -> str:
    kinds = {
        (2, 2): "MmBackward0",
        (2, 1): "MvBackward0",
        (1, 1): "DotBackward0",
        (1, 2): "SqueezeBackward4",
    }
    return kinds.get((a.ndim, b.ndim), "MatmulBackward0")


def as_tensor(x: Any) -> Tensor:
    """A Tensor as is; anything else as a constant Tensor."""
    return x if isinstance(x, Tensor) else Tensor(x)


def tensor(data: Any, requires_grad: bool = False) -> Tensor:
    """Make a leaf Tensor (float64) from numbers, nested lists or an array."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(np.array(data, dtype=np.float64), requires_grad=requires_grad)


def apply(op: str, *args: Any, attrs: dict | None = None, name: str | None = None) -> Tensor:
    """Run registry op `op` forward; record a backward node when any input requires grad."""
    ts = tuple(as_tensor(a) for a in args)
    with fp_watch():
        out = FORWARD[op](*[t.data for t in ts], **(attrs or {}))
    if not (getattr(GRAD_MODE, "enabled", True) and any(t.requires_grad for t in ts)):
        return Tensor(out)
    fn_name = name or REGISTRY[op].torch_name or f"{op.capitalize()}Backward0"
    return Tensor(out, True, Node.make(fn_name, op, ts, attrs))
