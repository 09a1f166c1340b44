"""Scale: a random file of N assignments, timed phase by phase (parse, forward, backward).

Usage: python benchmarks/million.py [--sizes 100000 1000000] [--torch N]

Each assignment uses one or two earlier names with + - * / sin exp tanh or log(1 + x^2), over
10 inputs, so subexpressions are shared. Prints a Markdown table with seconds and µs per node,
and the growth factor between sizes. `--torch N` also times PyTorch scalar autograd on the
first N assignments when torch is installed (it is slow: minutes for a million).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import time

import numpy as np

from autogradcli import engine
from autogradcli.errors import paused_gc
from autogradcli.parser import parse

OPS = ("+", "-", "*", "/", "sin", "exp", "tanh", "logsq")


def make_program(n: int, seed: int = 0) -> list[tuple[str, int, int]]:
    """A random program: (op, a, b) per assignment; a and b index earlier assignments."""
    rng = np.random.default_rng(seed)
    ops = rng.integers(0, len(OPS), size=n)
    u = rng.random((n, 2))
    prog = []
    for i in range(n):
        if i < 10:
            prog.append(("input", i, i))
            continue
        # Prefer recent names so the graph is deep as well as wide.
        a = max(0, i - 1 - int(u[i, 0] ** 3 * i))
        b = max(0, i - 1 - int(u[i, 1] ** 3 * i))
        prog.append((OPS[ops[i]], a, b))
    return prog


def program_text(prog) -> str:
    """The expression file for a program."""
    lines = []
    for i, (op, a, b) in enumerate(prog):
        if op == "input":
            lines.append(f"v{i} = x{i} * 0.5")
        elif op in "+-*/":
            lines.append(f"v{i} = v{a} {op} v{b}")
        elif op == "logsq":
            lines.append(f"v{i} = log(1 + v{a}^2)")
        else:
            lines.append(f"v{i} = {op}(v{a})")
    return "\n".join(lines) + "\n"


def time_agrad(text: str) -> dict[str, float]:
    """Seconds for each phase of agrad on one file's text."""
    t0 = time.perf_counter()
    graph = parse(text, "bench.txt")
    t1 = time.perf_counter()
    inputs = {f"x{i}": np.array(0.1 * (i + 1)) for i in range(10)}
    with engine.fp_watch(), paused_gc():
        vals = engine.forward(graph, inputs)
        t2 = time.perf_counter()
        needs = engine.needs_grad(graph, graph.input_ids.values())
        adj = engine.backward(graph, vals, graph.outputs[0][1], needs)
    t3 = time.perf_counter()
    reached = sum(a is not None for a in adj)
    return {
        "nodes": len(graph),
        "reached": reached,
        "parse": t1 - t0,
        "forward": t2 - t1,
        "backward": t3 - t2,
        "total": t3 - t0,
    }


def time_python_tape(prog) -> float:
    """A plain Python-float tape (no parsing), the floor for pure Python."""
    fns = {
        "sin": (math.sin, math.cos),
        "exp": (math.exp, math.exp),
        "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    }
    t0 = time.perf_counter()
    vals = []
    for i, (op, a, b) in enumerate(prog):
        if op == "input":
            vals.append(0.1 * (i + 1) * 0.5)
        elif op == "+":
            vals.append(vals[a] + vals[b])
        elif op == "-":
            vals.append(vals[a] - vals[b])
        elif op == "*":
            vals.append(vals[a] * vals[b])
        elif op == "/":
            vals.append(vals[a] / vals[b] if vals[b] else math.inf)
        elif op == "logsq":
            try:
                vals.append(math.log(1 + vals[a] ** 2))
            except (OverflowError, ValueError):
                vals.append(math.nan)
        else:
            try:
                vals.append(fns[op][0](vals[a]))
            except (OverflowError, ValueError):
                vals.append(math.nan)
    adj = [0.0] * len(prog)
    adj[-1] = 1.0
    for i in range(len(prog) - 1, -1, -1):
        g = adj[i]
        op, a, b = prog[i]
        if g == 0.0 or op == "input":
            continue
        if op == "+":
            adj[a] += g
            adj[b] += g
        elif op == "-":
            adj[a] += g
            adj[b] -= g
        elif op == "*":
            adj[a] += g * vals[b]
            adj[b] += g * vals[a]
        elif op == "/":
            adj[a] += g / vals[b] if vals[b] else math.inf
            adj[b] -= g * vals[a] / vals[b] ** 2 if vals[b] else math.inf
        elif op == "logsq":
            try:
                adj[a] += g * 2 * vals[a] / (1 + vals[a] ** 2)
            except (OverflowError, ValueError):
                adj[a] = math.nan
        else:
            try:
                adj[a] += g * fns[op][1](vals[a])
            except (OverflowError, ValueError):
                adj[a] = math.nan
    return time.perf_counter() - t0


def time_torch(prog) -> float | None:
    """PyTorch scalar autograd on the same program, if torch is installed."""
    try:
        import torch
    except ImportError:
        return None
    t0 = time.perf_counter()
    xs = [torch.tensor(0.1 * (i + 1), dtype=torch.float64, requires_grad=True) for i in range(10)]
    vals = []
    for i, (op, a, b) in enumerate(prog):
        if op == "input":
            vals.append(xs[i] * 0.5)
        elif op == "+":
            vals.append(vals[a] + vals[b])
        elif op == "-":
            vals.append(vals[a] - vals[b])
        elif op == "*":
            vals.append(vals[a] * vals[b])
        elif op == "/":
            vals.append(vals[a] / vals[b])
        elif op == "logsq":
            vals.append(torch.log(1 + vals[a] ** 2))
        else:
            vals.append(getattr(torch, op)(vals[a]))
    vals[-1].backward()
    return time.perf_counter() - t0


def main() -> None:
    """Time each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--torch", type=int, default=0, help="assignments to time in torch")
    args = parser.parse_args()
    print(
        "| assignments | nodes | parse s | forward s | backward s | total s | µs/node "
        "| Python-float tape s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    totals = []
    for n in args.sizes:
        prog = make_program(n)
        text = program_text(prog)
        gc.collect()
        r = time_agrad(text)
        tape = time_python_tape(prog)
        totals.append((r["nodes"], r["total"]))
        print(
            f"| {n:,} | {r['nodes']:,} | {r['parse']:.2f} | {r['forward']:.2f} | "
            f"{r['backward']:.2f} | {r['total']:.2f} | {1e6 * r['total'] / r['nodes']:.2f} | "
            f"{tape:.2f} |"
        )
    for (n0, t0), (n1, t1) in itertools.pairwise(totals):
        print(f"\n{n1 / n0:.1f}x the nodes cost {t1 / t0:.2f}x the time.")
    if args.torch:
        seconds = time_torch(make_program(args.torch))
        if seconds is None:
            print("\ntorch is not installed; skipped.")
        else:
            print(f"\nPyTorch scalar autograd, {args.torch:,} assignments: {seconds:.2f} s")


if __name__ == "__main__":
    main()
