"""The one place that decides which executor runs a piece of work.

Which engine runs when (thresholds below; measured in docs/performance.md):

    one point (agrad eval --at)
      --nodes, --edges, --jacobian, or arrays  -> interpreter (NumPy, keeps every node)
      scalars, >= FLOAT_NODES nodes            -> floats (node graph on Python floats)
      scalars, fewer nodes                     -> interpreter
    many points (--at-file, Dask partitions)
      --device cuda                            -> cuda (the fused kernel on the GPU)
      --engine interpreted, or no step list    -> interpreter on 1-D columns
      < PLAN_ROWS rows in the first block      -> interpreter (tracing would not pay)
      a C compiler, >= NATIVE_ROWS rows        -> native (the loop as C; compile counted)
        (>= NATIVE_CACHED_ROWS when compiled on disk)
      numba installed, >= FUSED_ROWS rows      -> fused (the loop in numba; compile counted)
        (>= FUSED_CACHED_ROWS when compiled on disk, FUSED_WARM_ROWS if numba is loaded)
      otherwise                                -> numpy (the plan in NumPy blocks)
    Plan.value_and_grad at one point of floats
      <= FAST_STEPS steps                      -> source (generated straight-line Python)
      more                                     -> pyfloat (the steps on Python floats)

A backend that cannot run a program says why in one line (`declines`); the chooser then
falls back to the NumPy blocks and says so in `Choice.why` (`agrad eval --explain-engine`).
Step-list backends live in one module each, named by the enum's value (`MODULES`).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

FLOAT_NODES = 1000  # from this many nodes a graph of scalars runs on Python floats
PLAN_ROWS = 1000  # from this many rows in the first block, `--at-file` traces a plan
FAST_STEPS = 5000  # plans up to this many steps run one point as generated Python
# The fused kernels save 4-20 ns a row over the NumPy blocks (docs/performance.md); it pays
# for compiling (1-3 s) from FUSED_ROWS rows, for loading numba and a cached kernel (0.5-2 s)
# from FUSED_CACHED_ROWS, and for loading a cached kernel into a warm numba from FUSED_WARM_ROWS.
NATIVE_ROWS = 2_000_000  # the C kernel pays its compile (0.2-0.5 s) from here
NATIVE_CACHED_ROWS = 20_000  # ... and loading it from the disk cache (about 1 ms) from here
FUSED_ROWS = 100_000_000
FUSED_CACHED_ROWS = 20_000_000
FUSED_WARM_ROWS = 100_000


class Engine(str, Enum):
    """Every executor; a step-list backend is the module `engines/<value>.py`."""

    interpreter = "interpreter"
    floats = "floats"
    numpy = "numpy"
    pyfloat = "pyfloat"
    source = "source"
    fused = "fused"
    native = "native"
    cuda = "cuda"


# Step-list backends and their modules (a new backend: a module and an enum value).
MODULES = {Engine.numpy: "plan", Engine.fused: "fused", Engine.native: "native",
           Engine.cuda: "cuda"}  # fmt: skip


class Device(str, Enum):
    """Where `--device` runs the many-points work."""

    cpu = "cpu"
    cuda = "cuda"


@dataclass(frozen=True)
class Work:
    """What is asked: sizes, derivative order, where, and what the caller insists on."""

    nodes: int = 0
    points: int = 1
    outputs: int = 1
    order: int = 1
    steps: int = 0
    scalars: bool = True
    per_node: bool = False
    traceable: bool | None = None
    device: Device = Device.cpu
    engine: str = "auto"  # auto, interpreted, compiled, fused, native
    cached: frozenset = frozenset()  # the engines whose kernel of this program is on disk


@dataclass(frozen=True)
class Choice:
    """The executor and one line saying why."""

    engine: Engine
    why: str

    def __str__(self) -> str:
        return f"engine: {self.engine.value} ({self.why})"


@cache
def extras() -> frozenset[str]:
    """What is installed: 'fast' when numba imports, 'cc' when a C compiler is found."""
    import importlib.util
    import shutil

    found = {"fast"} if importlib.util.find_spec("numba") else set()
    return frozenset(found | ({"cc"} if shutil.which(os.environ.get("CC", "cc")) else set()))


def cache_dir() -> Path:
    """Where compiled kernels live: $AGRAD_CACHE, else the user's cache folder."""
    root = os.environ.get("AGRAD_CACHE")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "agrad" / "kernels"


def backend(engine: Engine):
    """The module of a step-list backend (imported on first use)."""
    return importlib.import_module(f"{__package__}.{MODULES[engine]}")


def one_point(work: Work) -> Choice:
    """The executor of a node graph at one point (`agrad eval --at`)."""
    if work.per_node:
        return Choice(Engine.interpreter, "the tables need every node's value and adjoint")
    if not work.scalars:
        return Choice(Engine.interpreter, "arrays (or Python floats not asked for)")
    if work.nodes >= FLOAT_NODES:
        return Choice(Engine.floats, f"{work.nodes:,} nodes of scalars >= FLOAT_NODES")
    return Choice(Engine.interpreter, f"{work.nodes:,} nodes < FLOAT_NODES = {FLOAT_NODES:,}")


def many_points(work: Work) -> Choice:
    """The executor of many points: the interpreter, the NumPy plan, a fused kernel, CUDA."""
    if work.device is Device.cuda:
        return Choice(Engine.cuda, "--device cuda")
    if work.engine == "interpreted":
        return Choice(Engine.interpreter, "--engine interpreted")
    if work.traceable is False:
        return Choice(Engine.interpreter, "the graph does not trace to a step list")
    if work.engine in ("fused", "native"):
        return Choice(Engine(work.engine), f"--engine {work.engine}")
    if work.engine == "auto" and work.points < PLAN_ROWS:
        return Choice(Engine.interpreter, f"{work.points:,} rows < PLAN_ROWS = {PLAN_ROWS:,}")
    asked = "--engine compiled" if work.engine == "compiled" else "elementwise"
    cached = work.cached
    if "cc" in extras():
        floor = NATIVE_CACHED_ROWS if Engine.native in cached else NATIVE_ROWS
        if work.points >= floor:
            state = "compiled on disk" if Engine.native in cached else "compile paid"
            return Choice(Engine.native, f"{work.points:,} rows >= {floor:,} ({state})")
    if "fast" in extras():
        warm = Engine.fused in cached and "numba" in sys.modules
        floor = (
            FUSED_WARM_ROWS if warm else FUSED_CACHED_ROWS if Engine.fused in cached else FUSED_ROWS
        )
        if work.points >= floor:
            return Choice(Engine.fused, f"{work.points:,} rows >= {floor:,} (numba)")
    return Choice(Engine.numpy, f"{asked}; {work.points:,} rows: a kernel would not pay")


def is_cached(name: str) -> bool:
    """True when the kernel module `name` is compiled in the disk cache."""
    folder = cache_dir()
    return (folder / f"{name}.py").exists() and any(folder.glob(f"__pycache__/{name}*.nbc"))


def point_steps(steps: int) -> Engine:
    """How `Plan.value_and_grad` runs one point of Python floats."""
    return Engine.source if steps <= FAST_STEPS else Engine.pyfloat


def fall_back(choice: Choice, reason: str) -> Choice:
    """The NumPy blocks instead of a backend that declined, saying why."""
    return Choice(Engine.numpy, f"{choice.engine.value} declined: {reason}")
