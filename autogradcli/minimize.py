"""Gradient descent on a file's scalar output, with the Tensor API's optimizers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import AgradError
from .evaluate import evaluate, pick_outputs
from .graph import Graph
from .optim import SGD, Adam
from .tensors import Tensor

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass
class Run:
    """A minimization: the rows of its trajectory and why it stopped."""

    names: list[str]
    rows: list[tuple[int, float, float, dict[str, np.ndarray]]] = field(default_factory=list)
    reason: str = ""

    @property
    def start(self):
        """(step, loss, gradient norm, point) at the start."""
        return self.rows[0]

    @property
    def end(self):
        """(step, loss, gradient norm, point) at the end."""
        return self.rows[-1]


def make_optimizer(kind: str, params: list[Tensor], lr: float, momentum: float):
    """SGD, SGD with momentum, or Adam."""
    if kind == "adam":
        return Adam(params, lr=lr)
    if kind == "momentum":
        return SGD(params, lr=lr, momentum=momentum)
    if kind == "sgd":
        return SGD(params, lr=lr)
    raise AgradError(f"unknown optimizer {kind!r}", None, f"choose one of {', '.join(OPTIMIZERS)}")


def minimize(
    graph: Graph,
    start: dict[str, np.ndarray],
    steps: int = 1000,
    lr: float = 0.01,
    optimizer: str = "adam",
    tol: float = 1e-8,
    momentum: float = 0.9,
    output: str | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Run:
    """Follow the gradient of the (scalar) output from `start` for up to `steps` steps."""
    name, _ = pick_outputs(graph, [output] if output else None)[0]
    params = [Tensor(np.array(v, dtype=float), requires_grad=True) for v in start.values()]
    names = list(start)
    opt = make_optimizer(optimizer, params, lr, momentum)
    run = Run(names)
    for step in range(steps + 1):
        point = {n: p.data.copy() for n, p in zip(names, params, strict=True)}
        ev = evaluate(graph, point, [name])
        result = ev.outputs[0]
        if result.value.size != 1:
            raise AgradError(
                f"minimize needs a scalar output; '{name}' has shape {result.value.shape}",
                None,
                "wrap it in sum(...) or mean(...)",
            )
        loss = float(result.value)
        grads = [result.gradient[n] for n in names]
        norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
        run.rows.append((step, loss, norm, point))
        if progress:
            progress(step, loss)
        if not np.isfinite(loss) or not np.isfinite(norm):
            run.reason = f"stopped: the loss or gradient became non-finite at step {step}"
            break
        if norm <= tol:
            run.reason = f"converged: gradient norm {norm:.3g} <= tol {tol:g}"
            break
        if step == steps:
            run.reason = f"reached --steps {steps}"
            break
        for p, g in zip(params, grads, strict=True):
            p.grad = Tensor(g)
        opt.step()
    return run


def trace_csv(run: Run) -> str:
    """The trajectory as CSV: step, loss, gradient norm, then every input element."""
    first = run.rows[0][3]
    columns = []
    for n in run.names:
        shape = np.shape(first[n])
        columns += (
            [n] if not shape else [f"{n}[{','.join(map(str, i))}]" for i in np.ndindex(shape)]
        )
    lines = [",".join(["step", "loss", "grad_norm", *columns])]
    for step, loss, norm, point in run.rows:
        values = [repr(float(v)) for n in run.names for v in np.ravel(point[n])]
        lines.append(",".join([str(step), repr(loss), repr(norm), *values]))
    return "\n".join(lines) + "\n"


def plot(run: Run, path: str) -> None:
    """Draw the loss curve with matplotlib (an optional extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise AgradError(
            "--plot needs matplotlib, which is not installed",
            None,
            "install it: pip install 'agrad[plot]' (or pip install matplotlib)",
        ) from None
    steps = [r[0] for r in run.rows]
    losses = [r[1] for r in run.rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses)
    if all(v > 0 for v in losses):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(run.reason)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
