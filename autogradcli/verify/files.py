"""`agrad check`: files and folders at random points, and every registry op's rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import AgradError
from ..language.parser import parse_file
from ..ops import REGISTRY
from . import folder_files
from .op_rules import check_rule, sample_inputs
from .oracle import (
    ERROR,
    FAIL,
    FD_DIRECTIONS,
    FD_ELEMENTS,
    PASS,
    SYMPY_FAILURES,
    UNJUDGED,
    Result,
    Tolerances,
    build_oracle,
    compare,
    culprit_text,
    directions,
    fd_directional,
    fd_gradient,
    judged,
    project,
    run_oracle,
    sample,
    sample_domains,
)
from .second_rules import check_second
from .symbolic import Budget, SympyTimeout, time_budget


def expand(paths: list[str]) -> list[str]:
    """Files as given, and for each folder the files `folder_files` lists."""
    out = []
    for p in paths:
        path = Path(p)
        if p == "-":
            out.append(p)
        elif path.is_dir():
            out.extend(str(f) for f in folder_files(path))
        elif path.exists():
            out.append(p)
        else:
            raise AgradError(f"no such file or folder: {p}")
    return out


def check_file(path: str, **options) -> list[Result]:
    """Check every output × input gradient and every claim of one file (options as for
    `check_graph`)."""
    return check_graph(parse_file(path, library=True), path, **options)


def check_graph(
    graph,
    path: str,
    points: int = 20,
    seed: int = 0,
    ranges: dict | None = None,
    tol: Tolerances | None = None,
    timeout: float = 10.0,
) -> list[Result]:
    """Check every output × input gradient and every claim of a parsed graph.

    `timeout` is one budget for every SymPy step of the file.
    """
    tol = tol or Tolerances()
    timeout = Budget.of(timeout)
    domains = sample_domains(graph, ranges or {})
    drawn = sample(graph, domains, points, seed)
    n = len(drawn.evals)
    inputs = list(graph.input_ids)
    oracle, why = build_oracle(graph, graph.shapes, graph.outputs, inputs, graph.claims, timeout)
    sym = None
    if oracle is not None and n:
        batch = {name: np.array([ev.inputs[name] for ev in drawn.evals]) for name in inputs}
        sym, why = run_oracle(oracle, timeout, batch, (n,))
    base = {"kinks": drawn.kinks, "redrawn": drawn.redrawn}
    results = []
    for name, node in graph.outputs:
        line = _line(graph, node)
        for w in inputs:
            mine = np.array([ev.outputs[_index(ev, name)].gradient[w] for ev in drawn.evals])
            ref = sym[(name, w)] if sym is not None else None
            if int(np.prod(np.shape(mine)[1:], dtype=np.int64)) <= FD_ELEMENTS:
                fd = np.array([fd_gradient(graph, ev.inputs, node, w, tol) for ev in drawn.evals])
                row = _row(graph, path, name, w, "gradient", line, mine, ref, fd, why, tol, drawn,
                           base)  # fmt: skip
            else:
                row = _directional(graph, path, (name, node, w, line), mine, ref, why, tol, drawn,
                                   base)  # fmt: skip
            results.append(row)
    for k, claim in enumerate(graph.claims):
        lhs = np.array([sides[k][0] for sides in drawn.claims])
        rhs = np.array([sides[k][1] for sides in drawn.claims])
        ref_l = sym[("claim", k, "lhs")] if sym is not None else None
        ref_r = sym[("claim", k, "rhs")] if sym is not None else None
        line = claim.span.source.locate(claim.span.start)[0]
        row = _row(
            graph,
            path,
            claim.text,
            ", ".join(claim.variables),
            "claim",
            line,
            lhs,
            rhs,
            None,
            "",
            tol,
            drawn,
            base,
            culprit=False,
            labels=("the left side", "the claim"),
        )
        if ref_l is not None and row.status == PASS:
            err, ok = compare(ref_l, ref_r, None, tol)
            if not ok:
                row.status, row.max_error = FAIL, max(row.max_error or 0.0, err)
                row.detail = "SymPy's two sides differ: " + _worst(
                    ref_l, ref_r, drawn, None, ("left", "right")
                )
        row.proof = _proof(oracle, k, timeout)
        results.append(row)
    if graph.rules is not None and graph.rules.claims:  # claims about functions
        results.extend(check_graph(graph.rules, path, points, seed, ranges, tol, timeout))
    return results


def _directional(graph, path, which, mine, ref, why, tol, drawn, base) -> Result:
    """A row for an input of more than FD_ELEMENTS elements: the gradient along
    FD_DIRECTIONS random directions per point, against finite differences along them."""
    name, node, w, line = which
    vs = [directions(np.shape(mine[0]), [p, node, len(w)]) for p in range(len(drawn.evals))]
    fd = np.array([fd_directional(graph, ev.inputs, node, w, vs[p], tol)
                   for p, ev in enumerate(drawn.evals)])  # fmt: skip
    ref = None if ref is None else project(ref, vs)
    row = _row(graph, path, name, w, "gradient", line, project(mine, vs), ref, fd, why, tol,
               drawn, base)  # fmt: skip
    k = len(vs[0]) if vs else FD_DIRECTIONS
    along = f"along {k} random direction{'s' if k > 1 else ''} per point "
    along += f"({np.size(mine[0]):,} elements)"
    row.detail = f"{row.detail}; {along}" if row.detail else along
    return row


def _index(ev, name: str) -> int:
    return next(i for i, r in enumerate(ev.outputs) if r.name == name)


def _line(graph, node: int) -> int:
    span = graph.span(node)
    return span.source.locate(span.start)[0] if span else 0


def _row(
    graph,
    path,
    name,
    wrt,
    kind,
    line,
    mine,
    ref,
    fd,
    why,
    tol,
    drawn,
    base,
    culprit: bool = True,
    labels: tuple[str, str] = ("engine", "SymPy"),
) -> Result:
    """One summary row from the engine's values and the two oracles' (either may be None)."""
    n = len(drawn.evals)
    if n == 0:
        status = f"skipped: no finite point away from kinks in {drawn.redrawn + drawn.kinks} draws"
        return Result(path, name, wrt, kind, 0, status, None, line, **base)
    error, ok = compare(mine, ref, fd, tol)
    if not ok:
        oracle = ref if ref is not None else fd
        if ref is None and fd is not None:
            labels = (labels[0], "finite differences")
        detail = _worst(mine, oracle, drawn, fd if ref is not None else None, labels)
        if culprit:
            found = culprit_text(graph, drawn.evals[_worst_index(mine, oracle)].values, tol)
            detail = f"{detail}; {found}" if found else detail
        return Result(path, name, wrt, kind, n, FAIL, error, line, detail, **base)
    status = PASS if ref is not None or kind == "claim" else why
    if status == PASS and kind != "claim" and not judged(mine, ref, fd):
        status = UNJUDGED
    return Result(path, name, wrt, kind, n, status, error, line, **base)


def _worst_index(mine, ref) -> int:
    diff = np.abs(np.asarray(mine, dtype=float) - np.asarray(ref, dtype=float))
    diff = diff.reshape(len(diff), -1).max(axis=1)
    return int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)))


def _worst(mine, ref, drawn, fd=None, labels=("engine", "SymPy")) -> str:
    """`at a=1.2, b=0.3: engine 4.0, SymPy 4.1` for the worst point."""
    p = _worst_index(mine, ref)
    point = ", ".join(f"{k}={_fmt(v, 6)}" for k, v in drawn.evals[p].inputs.items())
    text = f"at {point}: {labels[0]} {_fmt(mine[p])}, {labels[1]} {_fmt(ref[p])}"
    return text + (f", finite differences {_fmt(fd[p])}" if fd is not None else "")


def _fmt(x, digits: int = 10) -> str:
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.{digits}g}"
    text = np.array2string(a, precision=digits, separator=", ", max_line_width=10**9)
    return text.replace("\n", "")  # a matrix's rows on one line: [[1, 2], [3, 4]]


def _proof(oracle, k: int, timeout: float) -> str:
    """Try simplify(lhs - rhs) == 0 within the budget; say what happened."""
    if oracle is None:
        return "no SymPy"
    try:
        with time_budget(timeout):
            return "proved" if oracle.prove(k) else "not proved"
    except SympyTimeout:
        return f"over {timeout:g} s"
    except SYMPY_FAILURES as exc:
        return f"SymPy failed ({type(exc).__name__})"


def check_ops(points: int = 200, tol: Tolerances | None = None) -> list[Result]:
    """Every registry op's rule at `points` points, and its documented kink conventions."""
    tol = tol or Tolerances()
    results = []
    for name, op in REGISTRY.items():
        r = check_rule(
            op,
            sample_inputs(op, points),
            tol.rtol,
            tol.atol,
            tol.fd_rtol,
            tol.fd_atol,
            attrs=op.example_attrs,
        )
        status = PASS if r.passed else FAIL
        detail = ""
        if r.worst:
            oracle, x, got, want = r.worst
            detail = f"against {oracle} at {x}: rule {got}, expected {want}"
        if r.sympy_error is None and r.passed:
            status = "skipped: SymPy too slow (finite differences agree)"
        error = max(r.fd_error, r.sympy_error or 0.0)
        results.append(
            Result("registry", name, "", "rule", r.points, status, error, 0, detail, kinks=r.kinks)
        )
        for inputs, value, partials in op.conventions:
            results.append(_convention(op, inputs, value, partials))
    for op in REGISTRY.values():
        results.append(_second(op, max(points // 4, 1), tol))
    return results


def _second(op, points: int, tol: Tolerances) -> Result:
    """One op's second derivative, as the recorded backward graph gives it."""
    r = check_second(
        op, sample_inputs(op, points), tol.rtol, tol.atol, tol.fd_rtol, tol.fd_atol,
        attrs=op.example_attrs,
    )  # fmt: skip
    status, detail = (PASS if r.passed else FAIL), ""
    if r.worst and r.worst[0] == "not recorded":
        status = "skipped: its rule cannot be recorded as a graph yet"
    elif r.worst:
        oracle, x, got, want = r.worst
        detail = f"against {oracle} at {x}: recorded {got}, expected {want}"
    elif r.sympy_error is None:
        status = "skipped: SymPy too slow (finite differences agree)"
    error = max(r.fd_error, r.sympy_error or 0.0)
    label = f"{op.name}''"
    return Result("second derivatives", label, "", "second", r.points, status, error, 0, detail,
                  kinks=r.kinks)  # fmt: skip


def _convention(op, inputs, value, partials) -> Result:
    """Check one documented value and partials at a kink."""
    xs = [np.array(v) for v in inputs]
    with np.errstate(all="ignore"):
        out = op.forward(*xs)
        grads = op.vjp(np.ones_like(out), out, *xs)
    got = [float(out)] + [float(g) for g in grads]
    want = [value, *partials]
    ok = all((np.isnan(a) and np.isnan(b)) or a == b for a, b in zip(got, want, strict=True))
    label = f"{op.name}({', '.join(f'{v:g}' for v in inputs)})"
    detail = "" if ok else f"value and partials {got}, documented {want}"
    return Result("conventions", label, "", "convention", 1, PASS if ok else FAIL, None, 0, detail)


def check_many(
    paths: list[str],
    ops: bool,
    points: int,
    seed: int,
    ranges: dict,
    tol: Tolerances,
    timeout: float,
    progress=None,
    inline: list[tuple[str, str]] = (),
):
    """Check files and folders, inline (name, formula) pairs, and the registry with `ops`.

    Input errors are collected, so one bad file never stops the others.
    """
    results: list[Result] = []
    errors: list[AgradError] = []
    files = [*expand(paths), *inline]
    seen: set[str] = set()
    if progress is None:
        for path in files:
            _one(path, results, errors, points, seed, ranges, tol, timeout, seen)
    else:
        with progress:
            task = progress.add_task("checking", total=len(files))
            for path in files:
                progress.update(task, description=path if isinstance(path, str) else path[0])
                _one(path, results, errors, points, seed, ranges, tol, timeout, seen)
                progress.advance(task)
    for name in ranges:
        if files and name not in seen:
            errors.append(
                AgradError(
                    f"--range {name}: no checked file has an input named '{name}'",
                    None,
                    f"the inputs are: {', '.join(sorted(seen)) or 'none'}",
                )
            )
    if ops:
        results.extend(check_ops(tol=tol))
    return results, errors


def _one(path, results, errors, points, seed, ranges, tol, timeout, seen) -> None:
    """Check one file (or inline formula) into `results`; an error becomes its row."""
    try:
        if isinstance(path, tuple):
            from ..language.parser import parse

            name, graph = path[0], parse(path[1], path[0], library=True)
        else:
            name, graph = path, parse_file(path, library=True)
        seen.update(graph.input_ids)
        if graph.rules is not None:
            seen.update(graph.rules.input_ids)  # the inputs of claims about functions
        results.extend(check_graph(graph, name, points, seed, ranges, tol, timeout))
    except AgradError as exc:
        errors.append(exc)
        results.append(error_row(path if isinstance(path, str) else path[0], exc))
    except Exception as exc:  # a bug must not stop the other files; it is reported as one
        wrapped = AgradError(
            f"internal error while checking {path if isinstance(path, str) else path[0]}: "
            f"{type(exc).__name__}: {exc}",
            None,
            "please report it with the file; --debug shows the traceback",
        )
        wrapped.__cause__ = exc
        errors.append(wrapped)
        results.append(error_row(path if isinstance(path, str) else path[0], wrapped))


def error_row(path: str, exc: AgradError) -> Result:
    """The row of a file that could not be checked: status "error", the message as detail."""
    line = exc.span.source.locate(exc.span.start)[0] if exc.span is not None else 0
    return Result(path, "(not checked)", "", "error", 0, ERROR, None, line, exc.message)
