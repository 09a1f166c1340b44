"""The seed's value and four gradients on an NVIDIA GPU: agrad's CUDA backend against a
hand-fused CuPy kernel, torch.compile, jax.jit and the memory roofline.

    python benchmarks/gpu.py [--points 100000000] [--repeat 5]

For a GPU machine: every row that is not installed (or finds no GPU) is reported as skipped,
so the script also runs, and says so, on a machine without one. agrad's row counts the host
to device transfers, as `agrad eval --device cuda` pays them; the peers' rows start with the
inputs on the device, which is what their published numbers measure.
The roofline is the bytes moved (4 inputs read, 5 outputs written, float64) over the device's
copy bandwidth measured here (device to device copy).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = "u = (a + b) * b^2\nv = (c - d) * d^2\nf = u + v\n"


def median(fn, repeat: int, sync=lambda: None) -> float:
    """Median seconds of `repeat` calls after a warm-up, synchronised."""
    fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def agrad_row(host: list[np.ndarray], repeat: int) -> tuple[str, str]:
    """agrad's CUDA backend, transfers included."""
    from autogradcli.engines.plan import Plan
    from autogradcli.errors import AgradError
    from autogradcli.language.parser import parse

    try:
        plan = Plan.of(parse(SEED, "seed.txt"), device="cuda")
    except (AgradError, ImportError) as exc:
        return ("agrad --device cuda (with transfers)", f"skipped ({exc})")
    n = len(host[0])
    ms = 1e3 * median(lambda: plan.run_batch(host, n), repeat)
    return ("agrad --device cuda (with transfers)", f"{ms:.2f} ms")


def cupy_rows(host: list[np.ndarray], repeat: int) -> list[tuple[str, str]]:
    """A hand-fused CuPy elementwise kernel, and the device's copy roofline."""
    try:
        import cupy as cp
    except ImportError:
        return [("CuPy hand-fused kernel", "skipped (cupy not installed)"),
                ("roofline", "skipped (needs cupy)")]  # fmt: skip
    kernel = cp.ElementwiseKernel(
        "float64 a, float64 b, float64 c, float64 d",
        "float64 f, float64 ga, float64 gb, float64 gc, float64 gd",
        "double s = a + b, t = c - d, b2 = b * b, d2 = d * d;"
        "f = s * b2 + t * d2; ga = b2; gb = b2 + 2 * b * s; gc = d2; gd = 2 * d * t - d2;",
        "agrad_seed",
    )
    dev = [cp.asarray(x) for x in host]
    sync = cp.cuda.Device().synchronize
    ms = 1e3 * median(lambda: kernel(*dev), repeat, sync)
    src, dst = cp.ones(2**28 // 8), cp.empty(2**28 // 8)
    seconds = median(lambda: dst.__setitem__(slice(None), src), repeat, sync)
    bandwidth = 2 * src.nbytes / seconds
    floor = 1e3 * 9 * 8 * len(host[0]) / bandwidth
    return [("CuPy hand-fused kernel (inputs on the device)", f"{ms:.2f} ms"),
            ("roofline: 9 columns at the measured copy bandwidth", f"{floor:.2f} ms")]  # fmt: skip


def torch_row(host: list[np.ndarray], repeat: int) -> tuple[str, str]:
    """torch.compile(torch.func.vjp) on the device."""
    try:
        import torch
    except ImportError:
        return ("torch.compile", "skipped (torch not installed)")
    if not torch.cuda.is_available():
        return ("torch.compile", "skipped (torch finds no GPU)")

    def seed(a, b, c, d):
        return ((a + b) * b**2) + ((c - d) * d**2)

    def vjp(a, b, c, d):
        f, pull = torch.func.vjp(seed, a, b, c, d)
        return f, *pull(torch.ones_like(f))

    compiled = torch.compile(vjp)
    dev = [torch.from_numpy(x).cuda() for x in host]
    ms = 1e3 * median(lambda: compiled(*dev), repeat, torch.cuda.synchronize)
    return ("torch.compile(torch.func.vjp) (inputs on the device)", f"{ms:.2f} ms")


def jax_row(host: list[np.ndarray], repeat: int) -> tuple[str, str]:
    """jax.jit of value_and_grad-style VJP on the device."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return ("jax.jit", "skipped (jax not installed)")
    if not any(d.platform == "gpu" for d in jax.devices()):
        return ("jax.jit", "skipped (jax finds no GPU)")
    jax.config.update("jax_enable_x64", True)

    def seed(a, b, c, d):
        return ((a + b) * b**2) + ((c - d) * d**2)

    @jax.jit
    def both(a, b, c, d):
        f, pull = jax.vjp(seed, a, b, c, d)
        return f, *pull(jnp.ones_like(f))

    dev = [jnp.asarray(x) for x in host]

    def run():
        for out in both(*dev):
            out.block_until_ready()

    ms = 1e3 * median(run, repeat)
    return ("jax.jit(jax.vjp) (inputs on the device)", f"{ms:.2f} ms")


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=100_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    host = [rng.uniform(0.5, 1.5, args.points) for _ in range(4)]
    rows = [agrad_row(host, args.repeat), *cupy_rows(host, args.repeat),
            torch_row(host, args.repeat), jax_row(host, args.repeat)]  # fmt: skip
    print(f"## Seed, value + 4 gradients at {args.points:,} points on the GPU\n")
    print("| implementation | measured |\n|---|---:|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
