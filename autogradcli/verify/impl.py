"""`agrad check FILE --impl module:function`: the user's own gradient code against the file.

The file is the specification (its formula, `# range:` and `# shape:`); the function is the
implementation: called with the inputs as keyword arguments, it returns the gradient of the
file's first output as `{input: array}`, or `(value, {input: array})`. At the points `agrad
check` draws, each input's gradient is compared with SymPy's (else agrad's engine) and with
central differences. The user's module is imported, as the user asked; nothing of agrad's text
is given it to evaluate.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import AgradError
from .oracle import (
    FAIL,
    PASS,
    Result,
    Tolerances,
    build_oracle,
    compare,
    fd_gradient,
    run_oracle,
    sample,
    sample_domains,
)
from .symbolic import Budget

ADAPTERS = ("torch", "jax")


def load(spec: str, names: list[str] | None = None) -> Callable:
    """The function `module:function` names (a dotted module on the path, or a .py file);
    `torch:module:Class` (a torch.autograd.Function) and `jax:module:function` (with its
    custom_vjp or custom_jvp) are wrapped to return (value, {input: gradient}), their inputs
    given positionally in the order of `names`."""
    kind, _, rest = spec.partition(":")
    if kind in ADAPTERS and rest.count(":") == 1:
        return _adapted(kind, rest, spec, names or [])
    return _function(spec)


def _adapted(kind: str, rest: str, spec: str, names: list[str]) -> Callable:
    """A torch Function or a JAX function as agrad's calling convention."""
    try:
        lib = importlib.import_module(kind)
    except ImportError:
        raise AgradError(
            f"--impl {spec}: {kind} is not installed", None, f"python -m pip install {kind}"
        ) from None
    target = _function(rest)
    if kind == "torch":

        def run(**inputs):
            xs = [lib.tensor(np.asarray(inputs[n], float), requires_grad=True) for n in names]
            out = target.apply(*xs).sum()
            out.backward()
            return float(out.detach()), {n: x.grad.numpy() for n, x in zip(names, xs, strict=True)}

        return run
    lib.config.update("jax_enable_x64", True)

    def run_jax(**inputs):
        xs = [lib.numpy.asarray(np.asarray(inputs[n], float)) for n in names]
        total = lib.value_and_grad(
            lambda *a: lib.numpy.sum(target(*a)), argnums=tuple(range(len(xs)))
        )
        value, grads = total(*xs)
        return float(value), {n: np.asarray(g) for n, g in zip(names, grads, strict=True)}

    return run_jax


def _function(spec: str) -> Callable:
    """`module:attribute`, imported."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise AgradError(
            f"--impl {spec}: expected MODULE:FUNCTION", None, "for example --impl mygrad:loss_grad"
        )
    try:
        if module_name.endswith(".py"):
            where = importlib.util.spec_from_file_location(Path(module_name).stem, module_name)
            if where is None or where.loader is None or not Path(module_name).is_file():
                raise ImportError(f"no such file: {module_name}")
            module = importlib.util.module_from_spec(where)
            where.loader.exec_module(module)
        else:
            module = _import_last_from_cwd(module_name)
    except Exception as exc:  # the user's module: any error while importing it is theirs
        raise AgradError(
            f"--impl {spec}: cannot import {module_name} ({type(exc).__name__}: {exc})",
            None,
            "run from the folder that holds it, or give the file: --impl path/to/file.py:function",
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise AgradError(f"--impl {spec}: {module_name} has no function {attr!r}", None, None)
    return fn


def _import_last_from_cwd(name: str):
    """Import a module from the path with the current folder searched last, so that a file
    there named like a standard or installed module (`xml.py`) is never run instead of it;
    the folder stays on the path, last, for the module's own later imports."""
    cwd = str(Path.cwd())
    before = list(sys.path)
    sys.path[:] = [p for p in before if p not in ("", cwd)] + [cwd]
    try:
        return importlib.import_module(name)
    finally:
        if before and before[0] in ("", cwd):  # python -m put it first: put it back
            sys.path[:] = before


def _call(fn: Callable, inputs: dict[str, np.ndarray], names: list[str], spec: str):
    """(value or None, {input: gradient}) from one call; an exception is returned as text."""
    try:
        out = fn(**{k: np.array(v, copy=True) for k, v in inputs.items()})
    except Exception:  # the user's code failed at this point: that is the finding
        return None, None, traceback.format_exc(limit=-3).strip()
    value, grads = out if isinstance(out, tuple) and len(out) == 2 else (None, out)
    if not isinstance(grads, dict):
        raise AgradError(
            f"--impl {spec} returned {type(out).__name__}; expected {{input: gradient}} or "
            "(value, {input: gradient})",
            None,
            None,
        )
    missing = [n for n in names if n not in grads]
    if missing:
        raise AgradError(
            f"--impl {spec} gave no gradient for {', '.join(missing)}",
            None,
            f"return one array per input: {', '.join(names)}",
        )
    return value, grads, ""


def check_impl(graph, path: str, spec: str, fn: Callable, points: int = 20, seed: int = 0,
               ranges: dict | None = None, tol: Tolerances | None = None,
               timeout: float = 10.0) -> list[Result]:  # fmt: skip
    """One row per input (and one for the value, when returned) of the first output."""
    tol = tol or Tolerances()
    name, node = graph.outputs[0]
    names = list(graph.input_ids)
    drawn = sample(graph, sample_domains(graph, ranges or {}), points, seed)
    label = f"{spec} ({name})"
    span = graph.span(node)
    line = span.source.locate(span.start)[0] if span else 0
    rows: list[Result] = []
    calls = []
    for ev in drawn.evals:
        value, grads, error = _call(fn, ev.inputs, names, spec)
        if error:
            point = ", ".join(f"{k}={np.asarray(v).tolist()}" for k, v in ev.inputs.items())
            return [Result(path, label, "", "impl", len(calls) + 1, FAIL, None, line,
                           f"raised at {point}:\n{error}")]  # fmt: skip
        calls.append((value, grads))
    timeout = Budget.of(timeout)
    oracle, _ = build_oracle(graph, graph.shapes, [(name, node)], names, [], timeout)
    sym = None
    if oracle is not None and calls:
        batch = {w: np.array([ev.inputs[w] for ev in drawn.evals]) for w in names}
        sym, _ = run_oracle(oracle, timeout, batch, (len(calls),))
    for w in names:
        rows.append(_input_row(graph, path, label, w, node, drawn, calls, sym, tol))
    if calls and all(v is not None for v, _ in calls):
        mine = np.array([np.asarray(v, dtype=float) for v, _ in calls])
        want = np.array([np.asarray(ev.outputs[0].value) for ev in drawn.evals])
        rows.append(_verdict(path, label, "value", mine, want, None, drawn, tol, "agrad"))
    for row in rows:
        row.line = line
    return rows


def _input_row(graph, path, label, w, node, drawn, calls, sym, tol) -> Result:
    shape = np.shape(drawn.evals[0].inputs[w]) if drawn.evals else ()
    got = [np.asarray(g[w], dtype=float) for _, g in calls]
    bad = next((k for k, g in enumerate(got) if g.shape != shape), None)
    if bad is not None:
        return Result(path, label, w, "impl", len(calls), FAIL, None, 0,
                      f"wrong shape: the gradient for {w} has shape {got[bad].shape}, the input "
                      f"{shape}")  # fmt: skip
    mine = np.array(got)
    fd = np.array([fd_gradient(graph, ev.inputs, node, w, tol) for ev in drawn.evals])
    if sym is not None:
        return _verdict(
            path, label, w, mine, sym[(graph.outputs[0][0], w)], fd, drawn, tol, "SymPy"
        )
    engine = np.array([ev.outputs[0].gradient[w] for ev in drawn.evals])
    return _verdict(path, label, w, mine, engine, fd, drawn, tol, "agrad")


def _verdict(path, label, w, mine, ref, fd, drawn, tol, oracle: str) -> Result:
    n = len(drawn.evals)
    if not np.isfinite(mine).all():
        k = int(np.argmax(~np.isfinite(mine.reshape(n, -1)).all(axis=1)))
        return Result(path, label, w, "impl", n, FAIL, None, 0,
                      f"not finite at {_point(drawn, k)}: {mine[k].tolist()}")  # fmt: skip
    error, ok = compare(mine, ref, fd, tol)
    if ok:
        return Result(path, label, w, "impl", n, PASS, error, 0)
    want = np.asarray(ref, dtype=float)
    far = ~np.isclose(mine, want, rtol=tol.fd_rtol, atol=tol.fd_atol)
    k = int(np.argmax(far.reshape(n, -1).any(axis=1)))  # the first point that fails
    detail = f"at {_point(drawn, k)}: yours {np.asarray(mine[k]).tolist()}, {oracle} "
    detail += f"{np.asarray(ref[k]).tolist()}"
    if fd is not None:
        detail += f", finite differences {np.asarray(fd[k]).tolist()}"
    return Result(path, label, w, "impl", n, FAIL, error, 0, detail)


def _point(drawn, k: int) -> str:
    """`a=1.5, w=[0.1, 0.2]`: the inputs of drawn point k."""
    parts = []
    for n, v in drawn.evals[k].inputs.items():
        shown = f"{float(v):.6g}" if np.ndim(v) == 0 else str(np.asarray(v).tolist())
        parts.append(f"{n}={shown}")
    return ", ".join(parts)
