"""Gradient descent on a file's scalar output, with the Tensor API's optimizers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..engines.evaluate import evaluate, pick_outputs
from ..errors import AgradError
from ..graph import Graph
from .optim import SGD, Adam
from .tensor import Tensor

OPTIMIZERS = ("sgd", "momentum", "adam", "newton")


@dataclass
class Run:
    """A minimization: the rows of its trajectory and why it stopped."""

    names: list[str]
    fixed: list[str] = field(default_factory=list)
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
    try:
        return _optimizer(kind, params, lr, momentum)
    except ValueError as exc:  # the optimizers' own checks, as torch.optim words them
        raise AgradError(
            f"--optimizer {kind}: {exc}", None, "give a finite --lr (and --momentum) >= 0"
        ) from None


def _optimizer(kind: str, params: list[Tensor], lr: float, momentum: float):
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
    wrt: list[str] | None = None,
) -> Run:
    """Follow the gradient of the (scalar) output from `start` for up to `steps` steps.

    `wrt` names the parameters that move (default: every input); the others stay fixed.
    """
    name, _ = pick_outputs(graph, [output] if output else None)[0]
    names = list(start) if wrt is None else list(dict.fromkeys(wrt))
    fixed = {n: v for n, v in start.items() if n not in names}
    if optimizer == "newton":
        return newton(graph, start, name, names, steps, tol, progress)
    params = [Tensor(np.array(start[n], dtype=float), requires_grad=True) for n in names]
    opt = make_optimizer(optimizer, params, lr, momentum)
    run = Run(names, list(fixed))
    for step in range(steps + 1):
        point = {n: p.data.copy() for n, p in zip(names, params, strict=True)}
        point.update(fixed)
        ev = evaluate(graph, point, [name], names)
        result = ev.outputs[0]
        if result.value.size != 1:
            raise AgradError(
                f"minimize needs a scalar output; '{name}' has shape {result.value.shape}",
                None,
                "wrap it in sum(...) or mean(...)",
            )
        loss = float(result.value)
        grads = [result.gradient[n] for n in names]
        norm = grad_norm(grads)
        if _record(run, (step, loss, norm, point), steps, tol, progress):
            break
        for p, g in zip(params, grads, strict=True):
            p.grad = Tensor(g)
        with np.errstate(over="ignore"):
            opt.step()
        if not all(np.isfinite(v).all() for v in getattr(opt, "v", [])):
            run.reason = (
                f"stopped: Adam's running square of the gradient overflowed at step {step} "
                f"(gradient norm {norm:.3g}); use --optimizer newton, or sgd with a small --lr"
            )
            break
    return run


def grad_norm(grads: list[np.ndarray]) -> float:
    """The Euclidean norm of every element of `grads`, scaled by a power of two before the
    squares (a gradient of 1e160 has the norm 1e160, not inf)."""
    flat = np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in grads] or [np.zeros(0)])
    big = float(np.max(np.abs(flat), initial=0.0))
    if big == 0.0 or not np.isfinite(big):  # np.max gives nan when any element is nan
        return big
    e = int(np.frexp(big)[1])
    y = np.ldexp(flat, -e)
    return float(np.ldexp(np.sqrt(np.dot(y, y)), e))


def _record(run: Run, row: tuple, steps: int, tol: float, progress) -> bool:
    """Add a step's row; True (with the reason set) when the run ends there."""
    step, loss, norm, _ = row
    run.rows.append(row)
    if progress:
        progress(step, loss)
    if not np.isfinite(loss) or not np.isfinite(norm):
        run.reason = f"stopped: the loss or gradient became non-finite at step {step}"
    elif norm <= tol:
        run.reason = f"converged: gradient norm {norm:.3g} <= tol {tol:g}"
    elif step == steps:
        run.reason = f"reached --steps {steps}"
    return bool(run.reason)


def _loss_and_gradient(graph: Graph, point: dict, name: str, names: list[str]):
    """The scalar loss at a point, and its gradient flattened in `names` order."""
    result = evaluate(graph, point, [name], names).outputs[0]
    if result.value.size != 1:
        raise AgradError(
            f"minimize needs a scalar output; '{name}' has shape {result.value.shape}",
            None,
            "wrap it in sum(...) or mean(...)",
        )
    flat = [np.ravel(result.gradient[n]) for n in names]
    return float(result.value), np.concatenate(flat) if flat else np.zeros(0)


def _hessian(graph: Graph, point: dict, name: str, names: list[str]) -> np.ndarray:
    """The Hessian of the loss as one matrix over every element of `names`."""
    from ..engines import higher

    p = higher.at(graph, {k: np.asarray(v, dtype=float) for k, v in point.items()})
    node = dict(graph.outputs).get(name, graph.lookup(name))
    h = higher.hessian(p, node, names)
    sizes = {n: int(np.size(point[n])) for n in names}
    return np.block([[h[x][y].reshape(sizes[x], sizes[y]) for y in names] for x in names])


def _move(point: dict, names: list[str], step: np.ndarray) -> dict:
    """The point moved by a flat step."""
    out, k = dict(point), 0
    for n in names:
        size = int(np.size(point[n]))
        out[n] = np.asarray(point[n], dtype=float) + step[k : k + size].reshape(np.shape(point[n]))
        k += size
    return out


def newton(
    graph: Graph,
    start: dict[str, np.ndarray],
    name: str,
    names: list[str],
    steps: int,
    tol: float,
    progress: Callable[[int, float], None] | None = None,
) -> Run:
    """Damped Newton: solve H d = -g where H is positive definite (else step along -g), then
    halve the step until the loss falls enough (Armijo's rule)."""
    run = Run(names, [n for n in start if n not in names])
    point = {n: np.asarray(v, dtype=float) for n, v in start.items()}
    for step in range(steps + 1):
        loss, g = _loss_and_gradient(graph, point, name, names)
        norm = grad_norm([g])
        if _record(run, (step, loss, norm, {n: point[n].copy() for n in names}), steps, tol,
                   progress):  # fmt: skip
            break
        hess = _hessian(graph, point, name, names)
        if not np.isfinite(hess).all():
            run.reason = _not_finite(hess, names, point, step)
            break
        try:
            np.linalg.cholesky(hess)  # positive definite: a Newton step is a descent step
            d = -np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            d = -g
        t, slope = 1.0, float(g @ d)
        for _ in range(60):
            trial = _move(point, names, t * d)
            if _loss_and_gradient(graph, trial, name, names)[0] <= loss + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            run.reason = f"stopped: no step along the search direction lowers the loss at {step}"
            break
        point = trial
    return run


def _not_finite(hess: np.ndarray, names: list[str], point: dict, step: int) -> str:
    """Why Newton's method stops: the first Hessian entry that is not finite."""
    labels = []
    for n in names:
        shape = np.shape(point[n])
        labels += [n] if not shape else [f"{n}[{','.join(map(str, i))}]" for i in np.ndindex(shape)]
    i, j = (int(k[0]) for k in np.nonzero(~np.isfinite(hess)))
    return (
        f"stopped: the Hessian is not finite at step {step} (H[{labels[i]}][{labels[j]}] = "
        f"{hess[i, j]}); try --optimizer adam, or start elsewhere"
    )


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


def install_hint(package: str) -> str:
    """The command that installs `package` beside this copy of agrad."""
    import sys

    if "pipx" in sys.prefix.replace("\\", "/").split("/"):
        return f"pipx inject agrad {package}"
    return f"{sys.executable} -m pip install {package}"


def require_matplotlib() -> None:
    """Fail early, naming the install command, when matplotlib is missing."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise AgradError(
            "--plot needs matplotlib, which is not installed",
            None,
            f"install it: {install_hint('matplotlib')}",
        )


def plot(run: Run, path: str) -> bytes:
    """The loss curve as PNG bytes, drawn with matplotlib (an optional extra)."""
    import io

    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    buf = io.BytesIO()
    fig.savefig(buf, format=path.rsplit(".", 1)[-1].lower() if "." in path else "png")
    plt.close(fig)
    return buf.getvalue()
