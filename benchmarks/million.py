"""Scale: a random file of N assignments, parsed and evaluated (value and gradient) as
`agrad eval` does it, next to a Python-float tape and PyTorch scalar autograd.

Usage: python benchmarks/million.py [--sizes 100000 1000000] [--torch N] [--files N]

Each assignment applies one of the shapes in OPS to one or two earlier names (recent ones
more often, so the graph is deep as well as wide), over 10 inputs. Every shape maps [-1, 1]
into [-1, 1], so values and gradients stay finite however deep the graph: the timed work is
arithmetic, not nan propagation, and agrad's gradient is checked against the tape's. Prints a
Markdown table with seconds and µs per node, and the growth factor between sizes. `--torch N`
also times PyTorch scalar autograd on the first N assignments when torch is installed (it is
slow: minutes for a million). `--files N` then times `agrad eval` from the shell (a fresh
process: peak RSS from getrusage) on four files of N assignments: the same random program,
one of the same size whose lines mix every construct generated code uses (MIXED: aliases,
unary minus, parentheses, `**`, a call combined with operators, calls of two arguments,
named constants, numbers with exponents), one whose lines index an array input and call
reductions with keyword arguments on list literals (ARRAYS), and the chain
`x{k} = sin(x{k-1}) * 1.0001`; and a plain Python-float tape of the first, for memory.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import time

import numpy as np

from autogradcli.engines.evaluate import evaluate
from autogradcli.language.parser import parse

# name: (text, value and partials (f, df/da, df/db) on Python floats, torch formula)
OPS = {
    "mul": ("{a} * {b}", lambda a, b: (a * b, b, a), lambda t, a, b: a * b),
    "sin": ("sin({a})", lambda a, b: (math.sin(a), math.cos(a), 0.0), lambda t, a, b: t.sin(a)),
    "cos": ("cos({a})", lambda a, b: (math.cos(a), -math.sin(a), 0.0), lambda t, a, b: t.cos(a)),
    "tanh": ("tanh({a})", lambda a, b: _tanh(a, 0.0, 1.0, 0.0), lambda t, a, b: t.tanh(a)),
    "tanh_add": (
        "tanh({a} + {b})",
        lambda a, b: _tanh(a + b, 0.0, 1.0, 1.0),
        lambda t, a, b: t.tanh(a + b),
    ),
    "tanh_div": (
        "tanh({a} / 2 - {b})",
        lambda a, b: _tanh(a / 2 - b, 0.0, 0.5, -1.0),
        lambda t, a, b: t.tanh(a / 2 - b),
    ),
    "exp": (
        "exp({a} - 1)",
        lambda a, b: (math.exp(a - 1), math.exp(a - 1), 0.0),
        lambda t, a, b: t.exp(a - 1),
    ),
    "logsq": (
        "log(1 + {a}^2)",
        lambda a, b: (math.log(1 + a * a), 2 * a / (1 + a * a), 0.0),
        lambda t, a, b: t.log(1 + a**2),
    ),
}
INPUTS = 10
# Lines of generated code mixing every construct, about as many nodes a line as OPS makes
# (1.75); each maps [-1, 1] into [-1, 1].
MIXED = [
    "{a}",
    "-{a}",
    "({a} + {b}) * 0.5",
    "{a} ** 2",
    "sin({a}) * 0.9999",
    "atan2({a}, {b} + 2) / pi",
    "tanh(-{a} + +{b})",
    "hypot({a}, {b} + 0.5) * 0.5",
    "{a} * 2.5E-1 - {b} / 4",
    "cos({a})",
    "-({a} * {b})",
    "tanh({a} - 1e-3)",
]
# Lines with calls, keyword arguments and indexing (over `w`, an array input of INPUTS
# elements in [-1, 1]), about as many nodes a line as MIXED; each maps [-1, 1] into [-1, 1].
ARRAYS = [
    "w[{k}] * {a}",
    "sum([{a}, {b}], axis=0) * 0.5",
    "max([{a}, {b}])",
    "mean([{a}, {b}], axis=0, keepdims=false)",
    "sin({a}) * w[-1]",
    "[{a}, {b}][1]",
    "tanh({a} + {b})",
    "{a} * 0.5",
]


def _tanh(x: float, _: float, da: float, db: float) -> tuple[float, float, float]:
    t = math.tanh(x)
    s = 1.0 - t * t
    return t, s * da, s * db


def make_program(n: int, seed: int = 0) -> list[tuple[str, int, int]]:
    """A random program: (op, a, b) per assignment; a and b index earlier assignments."""
    rng = np.random.default_rng(seed)
    names = list(OPS)
    ops = rng.integers(0, len(names), size=n)
    u = rng.random((n, 2))
    prog = []
    for i in range(n):
        if i < INPUTS:
            prog.append(("input", i, i))
            continue
        # Prefer recent names so the graph is deep as well as wide.
        a = max(0, i - 1 - int(u[i, 0] ** 3 * i))
        b = max(0, i - 1 - int(u[i, 1] ** 3 * i))
        prog.append((names[ops[i]], a, b))
    return prog


def program_text(prog) -> str:
    """The expression file for a program."""
    lines = []
    for i, (op, a, b) in enumerate(prog):
        if op == "input":
            lines.append(f"v{i} = x{i} * 0.5")
        else:
            lines.append(f"v{i} = " + OPS[op][0].format(a=f"v{a}", b=f"v{b}"))
    return "\n".join(lines) + "\n"


def mixed_text(n: int, seed: int = 0) -> str:
    """A file of n assignments drawn from MIXED, on earlier names as in make_program."""
    rng = np.random.default_rng(seed)
    shapes = rng.integers(0, len(MIXED), size=n)
    u = rng.random((n, 2))
    lines = [f"v{i} = x{i} * 0.5" for i in range(INPUTS)]
    for i in range(INPUTS, n):
        a = max(0, i - 1 - int(u[i, 0] ** 3 * i))
        b = max(0, i - 1 - int(u[i, 1] ** 3 * i))
        lines.append(f"v{i} = " + MIXED[shapes[i]].format(a=f"v{a}", b=f"v{b}"))
    return "\n".join(lines) + "\n"


def arrays_text(n: int, seed: int = 0) -> str:
    """A file of n assignments drawn from ARRAYS (w[k] for k = 0..3), as mixed_text."""
    rng = np.random.default_rng(seed)
    shapes = rng.integers(0, len(ARRAYS), size=n)
    u = rng.random((n, 2))
    lines = [f"v{i} = x{i} * 0.5" for i in range(INPUTS)]
    for i in range(INPUTS, n):
        a = max(0, i - 1 - int(u[i, 0] ** 3 * i))
        b = max(0, i - 1 - int(u[i, 1] ** 3 * i))
        lines.append(f"v{i} = " + ARRAYS[shapes[i]].format(a=f"v{a}", b=f"v{b}", k=i % 4))
    return "\n".join(lines) + "\n"


def chain_text(n: int) -> str:
    """The deep chain: each line one call combined with an operator on the line before."""
    return "x0 = x * 0.5\n" + "".join(f"x{k} = sin(x{k - 1}) * 1.0001\n" for k in range(1, n))


def time_shell(text: str, at: list[str]) -> tuple[float, float]:
    """Seconds and peak MB of `agrad eval FILE --at ... --format json` in a fresh process."""
    import os
    import sys
    import tempfile

    from peak import measured

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write(text)
    try:
        return measured([sys.executable, "-m", "autogradcli", "eval", fh.name, "--at", *at,
                         "--format", "json"])  # fmt: skip
    finally:
        os.unlink(fh.name)


def tape_memory(prog) -> float:
    """Peak MB of a fresh process running only `python_tape` on the program."""
    import sys

    from peak import measured

    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import million as m; "
        f"m.python_tape(m.make_program({len(prog)}))"
    )
    return measured([sys.executable, "-c", code])[1]


def files(n: int) -> None:
    """The shell table: four files of n assignments, and the float tape's memory."""
    at = [f"{k}={v}" for k, v in point().items()]
    rows = [
        ("random program (six line shapes)", program_text(make_program(n)), at),
        ("random, every construct (MIXED)", mixed_text(n), at),
        ("random, calls with keywords and indexing (ARRAYS)", arrays_text(n), [*at, W_AT]),
        ("chain sin(x) * 1.0001", chain_text(n), ["x=0.3"]),
    ]
    print(f"\n`agrad eval FILE --at ... --format json`, {n:,} assignments, fresh processes:\n")
    print("| file | text MB | seconds | peak MB | time vs the first |")
    print("|---|---:|---:|---:|---:|")
    base = None
    for name, text, args in rows:
        took, mb = time_shell(text, args)
        base = base or took
        size = len(text) / 2**20
        print(f"| {name} | {size:.1f} | {took:.2f} | {mb:,.0f} | {took / base:.2f}x |")
    tape = tape_memory(make_program(n))
    print(f"\nPlain Python-float tape of the random program: peak {tape:,.0f} MB")


W_AT = "w=[" + ", ".join(f"{0.9 - 0.2 * k:.1f}" for k in range(INPUTS)) + "]"


def point() -> dict[str, float]:
    """The inputs every run uses."""
    return {f"x{i}": 0.1 * (i + 1) for i in range(INPUTS)}


def time_agrad(text: str) -> dict:
    """Seconds to parse and evaluate (value and gradient, as `agrad eval` does) one file."""
    t0 = time.perf_counter()
    graph = parse(text, "bench.txt")
    t1 = time.perf_counter()
    ev = evaluate(graph, {k: np.array(v) for k, v in point().items()}, floats=True, needed=True)
    t2 = time.perf_counter()
    r = ev.outputs[0]
    return {
        "nodes": len(graph),
        "reached": sum(a is not None for a in r.adjoints),
        "floats": type(ev.values[-1]) is float,
        "gradient": [float(r.gradient[f"x{i}"]) for i in range(INPUTS)],
        "parse": t1 - t0,
        "evaluate": t2 - t1,
        "total": t2 - t0,
    }


def python_tape(prog) -> tuple[float, list[float]]:
    """A plain Python-float tape (no parsing), the floor for pure Python: seconds, gradient."""
    t0 = time.perf_counter()
    x = list(point().values())
    vals, partials = [], []
    for i, (op, a, b) in enumerate(prog):
        if op == "input":
            vals.append(x[i] * 0.5)
            partials.append((0.5, 0.0))
        else:
            f, da, db = OPS[op][1](vals[a], vals[b])
            vals.append(f)
            partials.append((da, db))
    adj = [0.0] * len(prog)
    adj[-1] = 1.0
    for i in range(len(prog) - 1, INPUTS - 1, -1):
        g = adj[i]
        if g:
            op, a, b = prog[i]
            da, db = partials[i]
            adj[a] += g * da
            adj[b] += g * db
    seconds = time.perf_counter() - t0
    return seconds, [adj[i] * 0.5 for i in range(INPUTS)]


def time_torch(prog) -> float | None:
    """PyTorch scalar autograd on the same program, if torch is installed."""
    try:
        import torch
    except ImportError:
        return None
    t0 = time.perf_counter()
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point().values()]
    vals = []
    for i, (op, a, b) in enumerate(prog):
        if op == "input":
            vals.append(xs[i] * 0.5)
        else:
            vals.append(OPS[op][2](torch, vals[a], vals[b]))
    vals[-1].backward()
    return time.perf_counter() - t0


def main() -> None:
    """Time each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--torch", type=int, default=0, help="assignments to time in torch")
    parser.add_argument("--files", type=int, default=0, help="assignments for the shell table")
    args = parser.parse_args()
    print(
        "| assignments | nodes | parse s | evaluate s | total s | µs/node | on floats "
        "| gradient vs tape | Python-float tape s |"
    )
    print("|---:|---:|---:|---:|---:|---:|:---:|---:|---:|")
    totals = []
    for n in args.sizes:
        prog = make_program(n)
        text = program_text(prog)
        gc.collect()
        r = time_agrad(text)
        gc.collect()
        tape, want = python_tape(prog)
        diff = max(
            abs(g - w) / max(abs(w), 1e-300) for g, w in zip(r["gradient"], want, strict=True)
        )
        totals.append((r["nodes"], r["total"]))
        print(
            f"| {n:,} | {r['nodes']:,} | {r['parse']:.2f} | {r['evaluate']:.2f} | "
            f"{r['total']:.2f} | {1e6 * r['total'] / r['nodes']:.2f} | "
            f"{'yes' if r['floats'] else 'no'} | {diff:.1e} | {tape:.2f} |"
        )
    for (n0, t0), (n1, t1) in itertools.pairwise(totals):
        print(f"\n{n1 / n0:.1f}x the nodes cost {t1 / t0:.2f}x the time.")
    if args.torch:
        seconds = time_torch(make_program(args.torch))
        if seconds is None:
            print("\ntorch is not installed; skipped.")
        else:
            print(f"\nPyTorch scalar autograd, {args.torch:,} assignments: {seconds:.2f} s")
    if args.files:
        files(args.files)


if __name__ == "__main__":
    main()
