"""Second derivatives: agrad's Hessian plan against NumPy by hand, PyTorch and JAX.

Three tables: the seed's Hessian at one point in process; the Hessian of n-dimensional
Rosenbrock read from a file (n = 10 and 100 by default); and the Hessian at many points on the
plan against the plan's first-order time. Each row is the median of interleaved rounds; peers
that are not installed are skipped. Times are printed, never asserted.

    python benchmarks/hessian.py [--points 1000000] [--dims 10 100] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from autogradcli.engines import higher
from autogradcli.engines.plan import Plan
from autogradcli.engines.point import point_function
from autogradcli.language.parser import parse

SEED = "u = (a + b) * b^2\nv = (c - d) * d^2\nf = u + v\n"


def rosenbrock_text(n: int) -> str:
    """n-dimensional Rosenbrock as an agrad file of n scalar inputs."""
    terms = [f"100 * (x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1)]
    return "f = " + " + ".join(terms) + "\n"


def interleaved(fns: dict[str, Callable], repeat: int, calls: int) -> dict[str, float | str]:
    """Median seconds per call, rounds interleaved so drift hits every row alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    failed: dict[str, str] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            if name in failed:
                continue
            try:
                start = time.perf_counter()
                for _ in range(calls):
                    fn()
                times[name].append((time.perf_counter() - start) / calls)
            except Exception as exc:  # a peer that cannot run this workload
                failed[name] = f"failed: {type(exc).__name__}"
    return {name: failed.get(name) or statistics.median(times[name]) for name in fns}


def seed_rows() -> dict[str, Callable]:
    """The seed's Hessian at (1, 2, 3, 4), each way."""
    graph = parse(SEED, "seed.txt")
    plan = higher.hessian_plan(graph)
    fast = point_function(plan)
    point = {k: np.array(v) for k, v in zip("abcd", (1.0, 2.0, 3.0, 4.0), strict=True)}

    def by_hand():
        a, b, c, d = 1.0, 2.0, 3.0, 4.0
        return np.array(
            [
                [0, 2 * b, 0, 0],
                [2 * b, 2 * a + 6 * b, 0, 0],
                [0, 0, 0, 2 * d],
                [0, 0, 2 * d, 2 * c - 6 * d],
            ]
        )

    rows: dict[str, Callable] = {
        "NumPy by hand (closed form)": by_hand,
        "agrad Hessian plan": lambda: plan.value_and_grad(a=1.0, b=2.0, c=3.0, d=4.0),
        "agrad point function (flat list)": lambda: fast(1.0, 2.0, 3.0, 4.0),
        "agrad interpreted (graph built per call)": lambda: higher.hessian(
            higher.at(graph, point), graph.outputs[0][1], list("abcd")
        ),
    }
    rows.update(_peers(lambda m, x: (x[0] + x[1]) * x[1] ** 2 + (x[2] - x[3]) * x[3] ** 2,
                       np.array([1.0, 2.0, 3.0, 4.0])))  # fmt: skip
    return rows


def _peers(f: Callable, x0: np.ndarray) -> dict[str, Callable]:
    """torch.func.hessian, torch.autograd.functional.hessian, jax.hessian with and without jit."""
    rows: dict[str, Callable] = {}
    try:
        import torch

        xt = torch.tensor(x0)
        fh = torch.func.hessian(lambda x: f(torch, x))
        rows["torch.func.hessian"] = lambda: fh(xt)
        rows["torch.autograd.functional.hessian"] = lambda: torch.autograd.functional.hessian(
            lambda x: f(torch, x), xt
        )
    except ImportError:
        pass
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        xj = jax.numpy.asarray(x0)
        h = jax.hessian(lambda x: f(jax.numpy, x))
        jit = jax.jit(h)
        jax.block_until_ready(jit(xj))  # compile outside the timing
        rows["jax.hessian (no jit)"] = lambda: jax.block_until_ready(h(xj))
        rows["jax.jit(jax.hessian)"] = lambda: jax.block_until_ready(jit(xj))
    except ImportError:
        pass
    return rows


def rosenbrock_rows(n: int) -> tuple[dict[str, Callable], float]:
    """n-dimensional Rosenbrock's Hessian at a point, each way; and agrad's build time."""
    start = time.perf_counter()
    graph = parse(rosenbrock_text(n), "rosenbrock.txt")
    plan = higher.hessian_plan(graph)
    built = time.perf_counter() - start
    x0 = np.linspace(-1.2, 1.0, n)
    point = {f"x{i}": float(v) for i, v in enumerate(x0)}
    fast = point_function(plan)
    args = [point[name] for name in plan.inputs]
    rows: dict[str, Callable] = {
        "agrad Hessian plan": lambda: plan.value_and_grad(**point),
        "agrad point function (flat list)": lambda: fast(*args),
    }

    def f(m, x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    rows.update(_peers(f, x0))
    return rows, built


def many_points(points: int, repeat: int) -> tuple[float, float]:
    """Seconds for the seed's gradient and for its Hessian at `points` points on the plan."""
    graph = parse(SEED, "seed.txt")
    first = Plan.of(graph)
    second = higher.hessian_plan(graph)
    rng = np.random.default_rng(0)
    cols = {k: rng.uniform(-2, 2, size=points) for k in "abcd"}
    got = interleaved(
        {
            "first": lambda: first.value_and_grad(**cols),
            "second": lambda: second.value_and_grad(**cols),
        },
        repeat,
        1,
    )
    return float(got["first"]), float(got["second"])


def table(title: str, rows: dict[str, float | str], unit: str, scale: float) -> None:
    print(f"\n## {title}\n")
    print(f"| implementation | {unit} |")
    print("|---|---:|")
    for name, seconds in rows.items():
        shown = seconds if isinstance(seconds, str) else f"{scale * seconds:.1f}"
        print(f"| {name} | {shown} |")


def main() -> None:
    """Run the three workloads and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with np.errstate(all="ignore"):
        table("Seed Hessian at one point, in process", interleaved(seed_rows(), args.repeat, 50),
              "µs", 1e6)  # fmt: skip
        for n in args.dims:
            rows, built = rosenbrock_rows(n)
            calls = 20 if n <= 10 else 3
            title = f"Rosenbrock, n = {n}: Hessian at one point (agrad's plan built once in "
            title += f"{1e3 * built:.0f} ms)"
            table(title, interleaved(rows, args.repeat, calls), "µs", 1e6)
        first, second = many_points(args.points, max(3, args.repeat // 2))
        print(f"\n## Seed at {args.points:,} points on the plan\n")
        print("| derivatives | ms | ratio |")
        print("|---|---:|---:|")
        print(f"| value + gradient | {1e3 * first:.1f} | 1.00 |")
        print(f"| value + gradient + Hessian | {1e3 * second:.1f} | {second / first:.2f} |")


if __name__ == "__main__":
    main()
