"""The engine room's numbers: the fused kernel against the NumPy plan, hand-written numba,
torch.compile and the memory bandwidth floor; Hessian-vector products; compile and cache
times; the dense Rosenbrock Hessian against jax.jit(jax.hessian).

    python benchmarks/fused.py [--points 1000000 10000000] [--repeat 5] [--torch-compile]
        [--rosenbrock 100]

Called by benchmarks/run.py (`--engines`). Peers that are not installed are skipped; times are
printed, never asserted. The floor is the bytes a kernel must move (inputs read, outputs
written, 8 bytes each) over the copy bandwidth measured here with NumPy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autogradcli.engines import plan as plan_mod  # noqa: E402
from autogradcli.engines.higher import gradient_graph, hessian_plan  # noqa: E402
from autogradcli.engines.plan import Plan  # noqa: E402
from autogradcli.language.parser import parse  # noqa: E402

SEED = "u = (a + b) * b^2\nv = (c - d) * d^2\nf = u + v\n"
# A 2-4-1 tanh network with fixed weights, unrolled into scalars (elementwise over points).
W1 = [(0.1, 0.2, 0.0), (-0.3, 0.4, 0.1), (0.5, -0.6, -0.1), (0.7, 0.8, 0.2)]
MLP = "".join(f"h{j} = tanh({w0} * x0 + {w1} * x1 + {b})\n" for j, (w0, w1, b) in enumerate(W1))
MLP += "y = 0.7 * h0 - 0.8 * h1 + 0.9 * h2 - 0.5 * h3 + 0.05\nloss = (y - t)^2 / 2\n"


def median_time(fn, repeat: int) -> float:
    """Median seconds of `repeat` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bandwidth() -> float:
    """Bytes per second NumPy copies (read + write) with arrays far larger than the caches."""
    src, dst = np.ones(2**25), np.empty(2**25)
    seconds = median_time(lambda: np.copyto(dst, src), 5)
    return 2 * src.nbytes / seconds


def hand_numba_seed():
    """The seed's value and gradient as a numba kernel written by hand (one thread)."""
    import numba

    @numba.njit(nogil=True)
    def kernel(a, b, c, d, f, ga, gb, gc, gd):
        for k in range(a.shape[0]):
            s, t, b2, d2 = a[k] + b[k], c[k] - d[k], b[k] * b[k], d[k] * d[k]
            f[k] = s * b2 + t * d2
            ga[k], gb[k] = b2, b2 + 2 * b[k] * s
            gc[k], gd[k] = d2, 2 * d[k] * t - d2

    return kernel


def hvp_graph(text: str):
    """s = sum_i v_i * df/dx_i, whose gradient in x is H v (and in v the gradient)."""
    graph = parse(text, "f.txt")
    g = gradient_graph(graph)
    total = None
    for k, (_, node) in enumerate(g.outputs):
        term = g.add_op("mul", (g.add_input(f"v{k}"), node))
        total = term if total is None else g.add_op("add", (total, term))
    g.outputs = [("s", total)]
    return g


def batched_rows(points: int, repeat: int, torch_compile: bool) -> list[tuple[str, str]]:
    """The seed and the MLP at `points` points: milliseconds per run, each backend."""
    rng = np.random.default_rng(0)
    rows = []
    floor_bw = bandwidth()
    for label, text in (("seed", SEED), ("MLP", MLP)):
        graph = parse(text, f"{label}.txt")
        plans = {"agrad plan, NumPy blocks": Plan.of(graph)}
        kernels = (("native", "agrad native kernel (C)"), ("fused", "agrad numba kernel"))
        for engine, name in kernels:
            try:
                plans[name] = Plan.of(graph, engine=engine)
            except (ValueError, ImportError) as exc:
                rows.append((f"{label}: {name}", f"skipped ({exc})"))
        cols = [rng.uniform(0.5, 1.5, points) for _ in plans["agrad plan, NumPy blocks"].inputs]
        for name, plan in plans.items():
            ms = 1e3 * median_time(lambda p=plan, c=cols: p.run_batch(c, points), repeat)
            rows.append((f"{label}: {name}", f"{ms:.1f} ms"))
        n_io = len(cols) + len(plans["agrad plan, NumPy blocks"].program.outputs)
        floor = 1e3 * n_io * 8 * points / floor_bw
        rows.append((f"{label}: bandwidth floor ({n_io} columns)", f"{floor:.1f} ms"))
        hvp = Plan.of(hvp_graph(text), engine="native" if len(plans) > 1 else "numpy")
        vcols = cols + [rng.uniform(-1, 1, points) for _ in cols]
        ms = 1e3 * median_time(lambda h=hvp, c=vcols: h.run_batch(c, points), repeat)
        rows.append((f"{label}: H·v with the gradient, {hvp.backend.value}", f"{ms:.1f} ms"))
    rows += _peers(points, repeat, torch_compile, rng)
    return rows


def _peers(points: int, repeat: int, torch_compile: bool, rng) -> list[tuple[str, str]]:
    """Hand-written numba and torch.compile on the seed."""
    rows = []
    a, b, c, d = (rng.uniform(0.5, 1.5, points) for _ in range(4))
    try:
        kernel = hand_numba_seed()
        outs = [np.empty(points) for _ in range(5)]
        ms = 1e3 * median_time(lambda: kernel(a, b, c, d, *outs), repeat)
        rows.append(("seed: numba by hand, one thread", f"{ms:.1f} ms"))
    except ImportError:
        rows.append(("seed: numba by hand", "skipped (numba not installed)"))
    if torch_compile:
        try:
            import torch

            def seed(a, b, c, d):
                return ((a + b) * b**2) + ((c - d) * d**2)

            def vjp(a, b, c, d):
                f, pull = torch.func.vjp(seed, a, b, c, d)
                return f, *pull(torch.ones_like(f))

            compiled = torch.compile(vjp)
            ts = [torch.from_numpy(x) for x in (a, b, c, d)]
            ms = 1e3 * median_time(lambda: compiled(*ts), repeat)
            rows.append(("seed: torch.compile(torch.func.vjp)", f"{ms:.1f} ms"))
        except ImportError:
            rows.append(("seed: torch.compile", "skipped (torch not installed)"))
    return rows


def compile_rows() -> list[tuple[str, str]]:
    """The seed's kernels: first compile, a second process's load, a warm build."""
    rows = []
    for engine in ("native", "fused"):
        code = (
            "import time\n"
            "from autogradcli.engines.plan import Plan\n"
            "from autogradcli.language.parser import parse\n"
            f"g = parse({SEED!r}, 's.txt')\n"
            "t0 = time.perf_counter(); Plan.of(g); t1 = time.perf_counter()\n"
            f"Plan.of(g, engine={engine!r}); t2 = time.perf_counter()\n"
            "print(t1 - t0, t2 - t1)\n"
        )
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "AGRAD_CACHE": cache, "PYTHONPATH": str(ROOT)}
            runs = []
            for _ in range(2):
                done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, env=env)  # fmt: skip
                if done.returncode:
                    runs = []
                    break
                runs.append([float(x) for x in done.stdout.split()])
        if not runs:
            rows.append((f"{engine}: build", "skipped (declined)"))
            continue
        (_, first), (plain2, second) = runs
        rows.append((f"{engine}: first build, compiling (fresh cache)", f"{first:.2f} s"))
        rows.append((f"{engine}: build in a second process (disk cache)", f"{second:.3f} s"))
        rows.append((f"{engine}: NumPy plan build in that process, for scale", f"{plain2:.3f} s"))
    return rows


def rosenbrock_rows(n: int = 100) -> list[tuple[str, str]]:
    """The dense Hessian of n-dimensional Rosenbrock at one point: agrad against jax."""
    terms = [f"100 * (x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1)]
    graph = parse("f = " + " + ".join(terms) + "\n", "rosenbrock.txt")
    x = np.linspace(-1.0, 1.0, n)
    rows = []
    python = hessian_plan(graph)
    steps, plan_mod.DENSE_STEPS = plan_mod.DENSE_STEPS, 10**9  # generated Python, not a kernel
    rows.append((f"Rosenbrock n={n}: agrad dense, generated Python",
                 f"{1e6 * median_time(lambda: python.dense(*x), 200):.0f} µs"))  # fmt: skip
    plan_mod.DENSE_STEPS = steps
    try:
        start = time.perf_counter()
        fused = hessian_plan(graph)
        fused.backend = _fused_choice().engine  # the one-point kernel only (not the batch one)
        fused.dense(*x)
        rows.append((f"Rosenbrock n={n}: one-point kernel (native, else numba), build",
                     f"{time.perf_counter() - start:.1f} s"))  # fmt: skip
        rows.append((f"Rosenbrock n={n}: agrad dense, one-point kernel",
                     f"{1e6 * median_time(lambda: fused.dense(*x), 2000):.1f} µs"))  # fmt: skip
    except ImportError:
        rows.append(("agrad dense, fused kernel", "skipped (numba not installed)"))
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def rosen(v):
            return jnp.sum(100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2)

        hess = jax.jit(jax.hessian(rosen))
        xj = jnp.asarray(x)
        us = 1e6 * median_time(lambda: hess(xj).block_until_ready(), 2000)
        rows.append((f"Rosenbrock n={n}: jax.jit(jax.hessian)", f"{us:.1f} µs"))
    except ImportError:
        rows.append(("jax.jit(jax.hessian)", "skipped (jax not installed)"))
    return rows


def _fused_choice():
    from autogradcli.engines.choose import Choice, Engine

    return Choice(Engine.fused, "benchmark")


def table(title: str, rows: list[tuple[str, str]]) -> None:
    """A Markdown table of (what, measured) rows."""
    print(f"\n## {title}\n\n| what | measured |\n|---|---:|")
    for what, value in rows:
        print(f"| {what} | {value} |")


def main(argv: list[str] | None = None) -> None:
    """Print every table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--torch-compile", action="store_true", help="time torch.compile too")
    parser.add_argument("--rosenbrock", type=int, default=100, help="inputs of the Hessian")
    args = parser.parse_args(argv)
    for points in args.points:
        title = f"Value and gradient at {points:,} points"
        table(title, batched_rows(points, args.repeat, args.torch_compile))
    table("Fused kernel: compile and disk cache (the seed)", compile_rows())
    table("Dense Hessian at one point", rosenbrock_rows(args.rosenbrock))


if __name__ == "__main__":
    main()
