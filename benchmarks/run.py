"""Speed of the seed expression against hand-written NumPy and peers, as a Markdown table.

Usage: python benchmarks/run.py [--points 1000000] [--repeat 7] [--no-torch-compile] [--only ...]
       [--engines]  (then benchmarks/fused.py: the fused kernel, H·v, compile, dense Hessians)

Workloads: value + 4 gradients of ((a+b)*b^2) + ((c-d)*d^2) at N points (batched) and at one
point (in process). Peers run when installed: torch eager and torch.compile (its first call
compiles for about a minute; --no-torch-compile skips it),
jax.jit, HIPS autograd, SymPy lambdify, micrograd (one point only). Peak memory of the
batched run is measured with tracemalloc (NumPy reports its buffers to it).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autogradcli.codegen.compile import compile_graph  # noqa: E402
from autogradcli.engines import interpreter as engine  # noqa: E402
from autogradcli.engines.plan import Plan  # noqa: E402
from autogradcli.engines.point import point_function  # noqa: E402
from autogradcli.language.parser import parse_file  # noqa: E402

GRAPH = parse_file(str(ROOT / "samples/seed.txt"))
PLAN = Plan.of(GRAPH)
VALUE_PLAN = Plan.of(GRAPH, grad=False)
POINT = point_function(PLAN)
FUNCTION = PLAN.function()


def numpy_by_hand(a, b, c, d):
    """The best hand-written NumPy: value and the four partials, shared subexpressions."""
    b2, d2 = b * b, d * d
    s, t = a + b, c - d
    return s * b2 + t * d2, b2, b2 + 2 * b * s, d2, 2 * d * t - d2


def agrad_interpreted(a, b, c, d):
    """The engine's forward and backward loops."""
    vals = engine.forward(GRAPH, {"a": a, "b": b, "c": c, "d": d})
    out = GRAPH.outputs[0][1]
    adj = engine.backward(GRAPH, vals, out, NEEDS)
    return vals[out], *(adj[GRAPH.input_ids[n]] for n in "abcd")


NEEDS = engine.needs_grad(GRAPH, GRAPH.input_ids.values())


def agrad_plan(a, b, c, d):
    """The compiled plan (what `agrad eval --at-file` runs for elementwise graphs)."""
    return PLAN.run([a, b, c, d])


def numpy_value(a, b, c, d):
    """Hand-written NumPy, value only."""
    return (a + b) * (b * b) + (c - d) * (d * d)


def compiled_module():
    """Import the module `agrad compile` writes for the seed."""
    path = Path(tempfile.mkdtemp()) / "seed_grad.py"
    path.write_text(compile_graph(GRAPH, "samples/seed.txt"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("seed_grad", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.value_and_grad


def peers() -> dict:
    """Installed peers as functions (a, b, c, d) -> value and gradients."""
    out = {}
    try:
        import torch

        def torch_eager(a, b, c, d):
            ts = [
                torch.from_numpy(np.asarray(x, dtype=float)).requires_grad_() for x in (a, b, c, d)
            ]
            ta, tb, tc, td = ts
            f = ((ta + tb) * tb**2) + ((tc - td) * td**2)
            grads = torch.autograd.grad(f.sum(), ts)
            return f.detach(), *grads

        out["torch eager"] = torch_eager
        out["_torch"] = torch
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def f(a, b, c, d):
            return jnp.sum(((a + b) * b**2) + ((c - d) * d**2))

        vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2, 3)))
        out["jax.jit"] = lambda a, b, c, d: jax.block_until_ready(vg(a, b, c, d))
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp

        def g(a, b, c, d):
            return anp.sum(((a + b) * b**2) + ((c - d) * d**2))

        grad = autograd.grad(g, argnum=[0, 1, 2, 3])
        out["HIPS autograd"] = lambda a, b, c, d: grad(a, b, c, d)
    except ImportError:
        pass
    try:
        from micrograd.engine import Value

        def micrograd(a, b, c, d):
            xs = [Value(float(v)) for v in (a, b, c, d)]
            va, vb, vc, vd = xs
            f = ((va + vb) * vb**2) + ((vc - vd) * vd**2)
            f.backward()
            return f.data, *(x.grad for x in xs)

        out["micrograd"] = micrograd
    except ImportError:
        pass
    import sympy as sp

    a, b, c, d = sp.symbols("a b c d", real=True)
    expr = ((a + b) * b**2) + ((c - d) * d**2)
    fn = sp.lambdify((a, b, c, d), [expr, *[sp.diff(expr, v) for v in (a, b, c, d)]], "numpy")
    out["SymPy lambdify"] = fn
    return out


POINT_ONLY = {"micrograd", "agrad point function"}  # scalars only: one point, not a million


def from_floats() -> dict:
    """One point from Python floats to Python numbers: agrad's fast paths, lambdify on math,
    CasADi (when installed)."""
    import sympy as sp

    out = {
        "agrad plan.function()": FUNCTION,
        "agrad point function": POINT,
        "agrad plan.value_and_grad": lambda a, b, c, d: PLAN.value_and_grad(a=a, b=b, c=c, d=d),
    }
    a, b, c, d = sp.symbols("a b c d", real=True)
    expr = ((a + b) * b**2) + ((c - d) * d**2)
    exprs = [expr, *[sp.diff(expr, v) for v in (a, b, c, d)]]
    out["SymPy lambdify (math)"] = sp.lambdify((a, b, c, d), exprs, "math")
    try:
        import casadi as ca
    except ImportError:
        return out
    x = ca.SX.sym("x", 4)
    fx = ((x[0] + x[1]) * x[1] ** 2) + ((x[2] - x[3]) * x[3] ** 2)
    fn = ca.Function("f", [x], [fx, ca.gradient(fx, x)])
    out["CasADi Function call"] = lambda a, b, c, d: fn([a, b, c, d])
    buf, run = fn.buffer()
    arg, value, grad = np.zeros(4), np.zeros(1), np.zeros(4)
    buf.set_arg(0, memoryview(arg))
    buf.set_res(0, memoryview(value))
    buf.set_res(1, memoryview(grad))

    def casadi_buffer(a, b, c, d):
        arg[0], arg[1], arg[2], arg[3] = a, b, c, d
        run()
        return value[0], grad

    casadi_buffer.keep = (buf, fn)  # the buffer must outlive its trigger, or CasADi crashes
    out["CasADi Function.buffer"] = casadi_buffer
    return out


def interleaved(fns: dict, args, repeat: int, inner: int = 3) -> dict[str, float | str]:
    """Median seconds per call, in `repeat` round-robin rounds of `inner` calls each.

    Rounds spread the machine's drift over every function alike; calls in a block let each
    function find its caches and threads warm (a peer's spinning thread pool or a flushed
    cache would otherwise land on whoever runs next). Each function runs once to warm up;
    one that raises is reported by its error's name.
    """
    times: dict[str, list[float]] = {}
    failed: dict[str, str] = {}
    for name, fn in fns.items():
        try:
            fn(*args)
            times[name] = []
        except Exception as exc:  # a peer that cannot run here is reported, not fatal
            failed[name] = f"failed: {type(exc).__name__}"
    for _ in range(repeat):
        for name in times:
            fn = fns[name]
            for _ in range(inner):
                start = time.perf_counter()
                fn(*args)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()} | failed


def per_call(fns: dict, args, repeat: int, calls: int = 2000) -> dict[str, float]:
    """Median seconds per call over `repeat` round-robin rounds, each timing a loop of `calls`
    calls as a whole (a clock read per call would cost as much as the fastest call)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn(*args)
    loop = range(calls)
    for _ in range(max(repeat, 3)):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in loop:
                fn(*args)
            times[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(t) for name, t in times.items()}


def peak_bytes(fn, args) -> int:
    """Peak traced memory of one call, while the previous call's results are still held.

    Holding them keeps a library from recycling its last results, so every implementation
    is charged for the memory its answer occupies.
    """
    held = fn(*args)
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del held
    return peak


def main() -> None:
    """Run every workload and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="round-robin rounds")
    parser.add_argument("--no-torch-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these rows")
    parser.add_argument("--engines", action="store_true",
                        help="then the engine room's tables (benchmarks/fused.py)")  # fmt: skip
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-2, 2, size=args.points) for _ in range(4))
    one = tuple(np.array(v) for v in (1.0, 2.0, 3.0, 4.0))
    compiled = compiled_module()
    runners = {
        "NumPy by hand": numpy_by_hand,
        "agrad plan": agrad_plan,
        "agrad point function": lambda a, b, c, d: POINT(float(a), float(b), float(c), float(d)),
        "agrad interpreted": agrad_interpreted,
        "agrad compile module": lambda a, b, c, d: compiled(a=a, b=b, c=c, d=d),
    }
    others = peers()
    torch = others.pop("_torch", None)
    runners.update(others)
    if torch is not None and not args.no_torch_compile:
        eager = others["torch eager"]
        runners["torch.compile"] = torch.compile(eager)

        def seed(a, b, c, d):
            return ((a + b) * b**2) + ((c - d) * d**2)

        def vjp(a, b, c, d):
            f, pull = torch.func.vjp(seed, a, b, c, d)
            return f, *pull(torch.ones_like(f))

        compiled_vjp = torch.compile(vjp)
        runners["torch.compile(torch.func.vjp)"] = lambda *v: compiled_vjp(
            *[torch.from_numpy(np.asarray(x, dtype=float)) for x in v]
        )
    if args.only:
        runners = {n: f for n, f in runners.items() if n in args.only or n == "NumPy by hand"}
    with np.errstate(all="ignore"):
        batched = {n: f for n, f in runners.items() if n not in POINT_ONLY}
        medians = interleaved(batched, batch, args.repeat)
        base = medians["NumPy by hand"]
        print(f"## Seed, value + 4 gradients at {args.points:,} points\n")
        print("| implementation | ms | × NumPy by hand | peak MB |")
        print("|---|---:|---:|---:|")
        for name, seconds in medians.items():
            if isinstance(seconds, str):
                print(f"| {name} | {seconds} | | |")
                continue
            peak = peak_bytes(batched[name], batch) / 1e6
            traced = f"{peak:.0f}" if peak >= 1 else "not traced"
            print(f"| {name} | {1e3 * seconds:.1f} | {seconds / base:.2f} | {traced} |")
        print("\n## Seed, value + 4 gradients at one point, in process\n")
        print("| implementation | µs |")
        print("|---|---:|")
        for name, seconds in interleaved(runners, one, args.repeat, 100).items():
            shown = seconds if isinstance(seconds, str) else f"{1e6 * seconds:.1f}"
            print(f"| {name} | {shown} |")
        print("\n## Seed, value + 4 gradients at one point from Python floats, in process\n")
        print("| implementation | µs |")
        print("|---|---:|")
        floats = (1.0, 2.0, 3.0, 4.0)
        for name, seconds in per_call(from_floats(), floats, args.repeat).items():
            shown = seconds if isinstance(seconds, str) else f"{1e6 * seconds:.2f}"
            print(f"| {name} | {shown} |")
        print("\n## time(value + gradient) / time(value)\n")
        print("| implementation | points | value | value + gradient | ratio |")
        print("|---|---:|---:|---:|---:|")
        pairs = {
            "NumPy by hand": (numpy_value, numpy_by_hand),
            "agrad plan": (lambda *v: VALUE_PLAN.run(list(v)), agrad_plan),
            "agrad interpreted": (
                lambda *v: engine.forward(GRAPH, dict(zip("abcd", v, strict=True))),
                agrad_interpreted,
            ),
        }
        for label, point, unit, scale in (
            (f"{args.points:,}", batch, "ms", 1e3),
            ("1", one, "µs", 1e6),
        ):
            fns = {}
            for name, (value_fn, both_fn) in pairs.items():
                if name not in runners:
                    continue
                fns[(name, "value")], fns[(name, "both")] = value_fn, both_fn
            got = interleaved(fns, point, args.repeat, 3 if point is batch else 100)
            for name in pairs:
                if (name, "value") not in got:
                    continue
                v, b = got[(name, "value")], got[(name, "both")]
                print(
                    f"| {name} | {label} | {scale * v:.1f} {unit} | {scale * b:.1f} {unit} "
                    f"| {b / v:.2f} |"
                )

    if args.engines:
        import fused

        extra = [] if args.no_torch_compile else ["--torch-compile"]
        fused.main(["--points", "1000000", "10000000", "--repeat", str(args.repeat), *extra])


if __name__ == "__main__":
    main()
