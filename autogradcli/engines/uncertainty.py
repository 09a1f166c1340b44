"""Uncertainty propagation: an output's standard uncertainty from its inputs', to first order
(the gradient) or second order (the Hessian), for independent inputs or one covariance matrix.

First order: var = g' C g, shared among the inputs as g_i (C g)_i (for independent inputs,
(g_i sigma_i)^2, never negative). Second order, for normally distributed inputs: the mean moves
by tr(H C)/2 and the variance gains tr(H C H C)/2; both are exact for quadratic formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import AgradError, suggest
from ..graph import Graph


@dataclass
class Spread:
    """What is known about the inputs' uncertainties."""

    names: list[str]  # inputs with an uncertainty, in the graph's order
    sigma: dict[str, np.ndarray] = field(default_factory=dict)  # independent inputs
    cov: np.ndarray | None = None  # or one covariance over `names` (scalar inputs)
    columns: dict[str, str] = field(default_factory=dict)  # --at-file: input -> sigma column
    order: int = 1


@dataclass
class Moments:
    """An output's first- (and second-) order variance, at each of n points. Variances are
    kept scaled by 2^(-2 exponent) per point, so that a finite sigma never overflows in a
    square (sigma 1e200 has the variance 1e400)."""

    parts: np.ndarray  # (n, m): each entry's part of the first-order variance, scaled
    variance1: np.ndarray  # (n,), scaled
    shift: np.ndarray | None = None  # (n,): the second-order move of the mean
    variance2: np.ndarray | None = None  # (n,): the second-order variance term, scaled
    exponent: np.ndarray | int = 0  # (n,): the variances are those times 4^exponent

    @property
    def sigma(self) -> np.ndarray:
        """The standard uncertainty at the order computed."""
        total = self.variance1 if self.variance2 is None else self.variance1 + self.variance2
        return np.ldexp(np.sqrt(total), self.exponent)

    @property
    def sigma1(self) -> np.ndarray:
        """The first-order standard uncertainty."""
        return np.ldexp(np.sqrt(self.variance1), self.exponent)

    def shares(self) -> np.ndarray:
        """(n, m): each entry's fraction of the first-order variance (0 where it is 0)."""
        total = self.variance1[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total == 0, 0.0, self.parts / np.where(total == 0, 1.0, total))


def _exponent(*terms: np.ndarray) -> np.ndarray:
    """Per point (first axis), the power of two of the largest finite magnitude among the
    terms (0 where there is none), so that terms scaled by it are at most 1."""
    n = len(terms[0])
    big = np.zeros(n)
    for t in terms:
        a = np.abs(t).reshape(n, int(np.prod(np.shape(t)[1:], dtype=int)))
        a = np.where(np.isfinite(a), a, 0.0)
        if a.shape[1]:
            big = np.maximum(big, a.max(axis=1))
    return np.frexp(big)[1]


def _rows(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """x scaled by 2^-e along its first axis."""
    return np.ldexp(x, -e.reshape((-1,) + (1,) * (np.ndim(x) - 1)))


def moments(
    grad: np.ndarray, sd: np.ndarray, hess: np.ndarray | None = None, cov: bool = False
) -> Moments:
    """Moments of n points from gradients (n, m), the standard uncertainties (n, m) of
    independent entries or one covariance (m, m) when `cov`, and, for the second order,
    Hessians (n, m, m). Terms are formed in the output's units and scaled by a power of two
    before any square, as `hypot` does."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        if cov:
            k = int(np.frexp(np.max(np.abs(sd), initial=0.0))[1]) // 2  # C = 4^k C'
            c_scaled = np.ldexp(sd, -2 * k)
            terms = [np.ldexp(grad, k)]  # g sigma, in the output's units
            m2 = None if hess is None else np.ldexp(hess @ c_scaled, 2 * k)  # H C
        else:
            terms = [grad * sd]
            m2 = None if hess is None else hess * sd[:, :, None] * sd[:, None, :]
        e = _exponent(*terms, *([] if m2 is None else [m2]))
        u = _rows(terms[0], e)
        if cov:
            parts = u * (u @ c_scaled.T)
            variance1 = np.maximum(parts.sum(axis=1), 0.0)  # rounding below 0 is 0
        else:
            parts = u * u
            variance1 = parts.sum(axis=1)
        if m2 is None:
            return Moments(parts, variance1, exponent=e)
        ms = _rows(m2, e)
        shift = 0.5 * np.einsum("nii->n", m2)
        if cov:
            variance2 = 0.5 * np.einsum("nij,nji->n", ms, ms)
        else:
            variance2 = 0.5 * np.einsum("nij,nij->n", ms, ms)
    return Moments(parts, variance1, shift, variance2, e)


def parse_spread(
    graph: Graph,
    sigma: dict[str, np.ndarray],
    cov: tuple[list[str], np.ndarray] | None,
    order: int,
    wrt: list[str] | None,
) -> Spread:
    """A Spread from `--sigma` values or a `--cov` matrix, every name and number checked."""
    if sigma and cov is not None:
        raise AgradError(
            "--sigma and --cov both give the inputs' uncertainties",
            None,
            "give one: a covariance holds the variances on its diagonal",
        )
    given = list(sigma) if cov is None else cov[0]
    flag = "--sigma" if cov is None else "--cov"
    for name in given:
        _known(graph, name, flag)
    names = [n for n in graph.input_ids if n in given]
    for name, v in sigma.items():
        if not np.isfinite(v).all() or (np.asarray(v) < 0).any():
            raise AgradError(
                f"--sigma {name}: a standard uncertainty must be a finite number >= 0, not {v}",
                None,
                "give sigma, not the variance or a range",
            )
    _covered(names, wrt)
    if cov is None:
        return Spread(names, {n: np.asarray(v, dtype=np.float64) for n, v in sigma.items()},
                      order=order)  # fmt: skip
    order_of = [cov[0].index(n) for n in names]
    matrix = cov[1][np.ix_(order_of, order_of)]
    return Spread(names, cov=matrix, order=order)


def _known(graph: Graph, name: str, flag: str) -> None:
    """Refuse a name that is not an input of the file."""
    if name in graph.input_ids:
        return
    inputs = list(graph.input_ids)
    if graph.lookup(name) is not None:
        raise AgradError(
            f"{flag} {name}: '{name}' is computed by the file; uncertainties belong to inputs",
            None,
            f"the inputs are: {', '.join(inputs)}",
        )
    raise AgradError(
        f"{flag} {name}: '{name}' is not an input",
        None,
        suggest(name, inputs) or f"the inputs are: {', '.join(inputs)}",
    )


def _covered(names: list[str], wrt: list[str] | None) -> None:
    """Every input with an uncertainty is differentiated by."""
    missing = [n for n in names if wrt and n not in wrt]
    if missing:
        raise AgradError(
            f"--wrt leaves out {', '.join(missing)}, which has an uncertainty",
            None,
            f"add {', '.join(missing)} to --wrt, or drop --wrt",
        )


def check_covariance(path: str, names: list[str], matrix: np.ndarray) -> np.ndarray:
    """A covariance matrix, square over its names, symmetric, finite and positive semidefinite."""
    k = len(names)
    if matrix.shape != (k, k):
        raise AgradError(
            f"{path}: a covariance over {k} inputs needs {k} rows of {k} numbers, "
            f"not {matrix.shape[0]} rows",
            None,
            "one row per input, in the order of the header",
        )
    if not np.isfinite(matrix).all():
        raise AgradError(f"{path}: the covariance holds nan or inf")
    scale = float(np.abs(matrix).max(initial=0.0))
    bad = np.argwhere(np.abs(matrix - matrix.T) > 1e-12 * max(scale, 1e-300))
    if len(bad):
        i, j = bad[0]
        raise AgradError(
            f"{path}: the covariance is not symmetric: row {names[i]}, column {names[j]} is "
            f"{float(matrix[i, j])!r} but row {names[j]}, column {names[i]} is "
            f"{float(matrix[j, i])!r}"
        )
    low = float(np.linalg.eigvalsh(matrix).min()) if k else 0.0
    if low < -1e-12 * max(scale, 1e-300):
        raise AgradError(
            f"{path}: the covariance is not positive semidefinite (smallest eigenvalue {low:.3g})",
            None,
            "a covariance matrix has no negative eigenvalues; check its signs",
        )
    return matrix


@dataclass
class OutputSpread:
    """One output's uncertainty at one point; arrays take the output's shape."""

    name: str
    sigma: np.ndarray
    shares: dict[str, np.ndarray]  # each input's fraction of the first-order variance
    order: int = 1
    sigma1: np.ndarray | None = None  # the first-order sigma, with order 2
    shift: np.ndarray | None = None  # the second-order move of the mean


def at_point(
    graph: Graph, inputs: dict[str, np.ndarray], outs: list[tuple[str, int]], spread: Spread
) -> list[OutputSpread]:
    """Each output's uncertainty at one point: Jacobians for array outputs, the Hessian for
    the second order (scalar outputs)."""
    from .evaluate import evaluate
    from .higher import at, hessian

    names = spread.names
    sizes = [int(np.size(inputs[n])) for n in names]
    if spread.cov is not None:
        big = [n for n, s in zip(names, sizes, strict=True) if np.ndim(inputs[n])]
        if big:
            raise AgradError(
                f"--cov: '{big[0]}' is an array; a covariance file covers scalar inputs",
                None,
                "give array inputs independent uncertainties with --sigma NAME=[...]",
            )
        var = spread.cov
    else:
        var = np.concatenate([_entries(spread.sigma[n], inputs[n], n) for n in names])
    ev = evaluate(graph, inputs, [o for o, _ in outs], names, jacobian=True) if names else None
    point = at(graph, inputs) if spread.order == 2 else None
    results = []
    for k, (name, node) in enumerate(outs):
        shape = np.shape(graph_value(ev, k, graph, inputs, node))
        size = int(np.prod(shape, dtype=int))
        if spread.order == 2 and shape:
            raise AgradError(
                f"--sigma-order 2: output {name} is an array of shape {shape}",
                None,
                "the second order covers scalar outputs; pick one with --output, or sum it",
            )
        if ev is None:
            grad = np.zeros((size, 0))
        else:
            jac = ev.outputs[k].jacobian or {}
            grad = np.concatenate(
                [np.reshape(jac[n], (size, s)) for n, s in zip(names, sizes, strict=True)], axis=1
            )
        hess = None
        if point is not None:
            h = hessian(point, node, names)
            hess = np.block(
                [
                    [np.reshape(h[x][y], (sx, sy)) for y, sy in zip(names, sizes, strict=True)]
                    for x, sx in zip(names, sizes, strict=True)
                ]
            ).reshape(1, sum(sizes), sum(sizes))
        is_cov = spread.cov is not None
        m = moments(grad, var if is_cov else np.broadcast_to(var, grad.shape), hess, is_cov)
        shares, start = {}, 0
        fractions = m.shares()
        for n, s in zip(names, sizes, strict=True):
            shares[n] = fractions[:, start : start + s].sum(axis=1).reshape(shape)
            start += s
        r = OutputSpread(name, m.sigma.reshape(shape), shares, spread.order)
        if m.shift is not None:
            r.sigma1 = m.sigma1.reshape(shape)
            r.shift = m.shift.reshape(shape)
        results.append(r)
    return results


def graph_value(ev, k: int, graph: Graph, inputs: dict, node: int) -> np.ndarray:
    """An output's value: from the evaluation, or computed when nothing has an uncertainty."""
    if ev is not None:
        return ev.outputs[k].value
    from . import interpreter

    with interpreter.fp_watch():
        return np.asarray(interpreter.forward(graph, inputs)[node])


def _entries(sigma: np.ndarray, value: np.ndarray, name: str) -> np.ndarray:
    """An input's sigma for each of its elements (one number applies to all)."""
    try:
        return np.broadcast_to(np.asarray(sigma, dtype=np.float64), np.shape(value)).reshape(-1)
    except ValueError:
        raise AgradError(
            f"--sigma {name}: shape {np.shape(sigma)} does not fit the input's {np.shape(value)}",
            None,
            "give one number for every element, or one for all",
        ) from None


def read_covariance(path: str) -> tuple[list[str], np.ndarray]:
    """A covariance file: a points-style file whose columns name the inputs and whose rows are
    the matrix's rows in the same order (CSV, .npz, JSON, Parquet)."""
    from ..io.points import read_points

    names, blocks = read_points(path, [], 1 << 16)
    try:
        rows = [b for b in blocks]
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    matrix = np.vstack(rows) if rows else np.zeros((0, len(names)))
    return names, check_covariance(path, names, matrix)


def with_columns(
    spread: Spread, graph: Graph, names: list[str], suffix: str | None, wrt, path: str
) -> Spread:
    """The spread over a points file: sigma columns `<input><suffix>` join the --sigma values."""
    if suffix is None:
        return spread
    cols = {x: x + suffix for x in graph.input_ids if x + suffix in names}
    if not cols:
        first = next(iter(graph.input_ids), "x")
        raise AgradError(
            f"{path}: no column is named after an input with the suffix '{suffix}'",
            None,
            f"a sigma column is named after its input, e.g. '{first}{suffix}'",
        )
    both = [x for x in cols if x in spread.sigma]
    if both:
        raise AgradError(
            f"'{both[0]}' has two uncertainties: --sigma and the column {cols[both[0]]}",
            None,
            f"drop --sigma {both[0]}=..., or the column",
        )
    chosen = [x for x in graph.input_ids if x in cols or x in spread.sigma]
    _covered(chosen, wrt)
    return Spread(chosen, spread.sigma, None, cols, spread.order)


def columns_of(spread: Spread, outputs: list[str]) -> list[str]:
    """The columns --at-file adds per output: sigma, each input's share, the second order."""
    out = []
    for o in outputs:
        out.append(f"sigma_{o}")
        out += [f"share_{o}/{x}" for x in spread.names]
        if spread.order == 2:
            out += [f"sigma_first_order_{o}", f"mean_shift_{o}"]
    return out


def block_sigmas(spread: Spread, values: dict[str, np.ndarray], n: int, path: str, row: int):
    """(n, m) standard uncertainties of one block, or the covariance; sigma columns leave
    `values`."""
    if spread.cov is not None:
        return spread.cov
    parts = []
    for x in spread.names:
        column = spread.columns.get(x)
        if column is None:
            parts.append(np.broadcast_to(spread.sigma[x], (n,)))
            continue
        s = values.pop(column)
        bad = np.flatnonzero(s < 0)
        if len(bad):
            raise AgradError(
                f"{path}: row {row + int(bad[0]) + 1}, column {column}: a standard uncertainty "
                f"must be >= 0, not {float(s[bad[0]])!r}"
            )
        parts.append(s)
    return np.column_stack(parts) if parts else np.zeros((n, 0))
