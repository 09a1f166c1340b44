"""Run a traced Program: many points in cache-sized chunks on every core, or one point fast.

Batched: each step is one ufunc call with `out=` into a buffer chosen by liveness, so a
chunk's working set stays in cache and memory stays at the outputs plus a few chunk-sized
buffers; chunks run on a thread pool (NumPy releases the GIL inside ufuncs). One point: the
same steps on Python floats with `math`, which skips NumPy's per-call overhead; anything
Python would raise on (a domain error, division by zero, overflow) reruns that point through
NumPy, so results keep NumPy's nan and inf.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

from ..errors import AgradError
from ..graph import Graph
from .choose import Choice, Device, Engine, backend, fall_back, point_steps
from .interpreter import unbroadcast
from .pyfloat import run_steps, scalar_code
from .tracer import Program, numpy_step, trace

CHUNK = 65536  # rows per step (measured: 16K, 32K, 64K, 128K rows took 10.0, 7.4, 6.8, 7.1 ms)
SCRATCH = 32 << 20  # bytes of buffers per thread; large programs take fewer rows per step
THREADS = min(2, os.cpu_count() or 1)
POINT = {float, int, np.float64}
ZERO_D = POINT | {np.ndarray}
# sys.getrefcount of an array held only by a list, the comprehension's name and the call.
UNUSED_REFS = 3


def _where(out, cond, yes, no):
    np.copyto(out, no)
    np.copyto(out, yes, where=cond)


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(THREADS, thread_name_prefix="agrad-plan")


class Plan:
    """A graph compiled once; call `value_and_grad(**inputs)` as often as you like.

    The program runs on a backend (`self.backend`): NumPy blocks unless `use` installs
    another (the fused kernel, the GPU); one point of floats runs as generated Python.
    """

    def __init__(self, program: Program):
        self.program = program
        self.backend = Engine.numpy
        self._runner = None
        self.inputs = program.inputs
        # layout: (ufunc name, out, args) over one list of inputs then buffers.
        self.layout, self.buffers, self.results = _allocate(program)
        self.direct = _direct(self.results, self.buffers, len(program.inputs))
        self._steps = [(_callable(name), out, args) for name, out, args in self.layout]
        self.chunk = max(64, min(CHUNK, SCRATCH // (8 * max(1, len(self.buffers)))))
        self._scalar = scalar_code(program)
        self._spare: list[np.ndarray] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._function = None
        self._dense = None

    def __reduce__(self):
        """Pickled as its program and backend (for Dask workers); buffers, threads and
        kernels are made again (a fused kernel loads from the disk cache)."""
        return (_rebuilt, (self.program, self.backend.value))

    def cached(self) -> frozenset:
        """The kernel backends whose compiled kernel of this program is on disk."""
        from .choose import extras, is_cached

        found = set()
        if "cc" in extras() and backend(Engine.native).library_path(self.program).exists():
            found.add(Engine.native)
        if "fast" in extras() and is_cached(f"k{backend(Engine.fused).key(self.program)}"):
            found.add(Engine.fused)
        return frozenset(found)

    def use(self, choice: Choice) -> Choice:
        """Run on the chosen backend; the choice made (a fallback says why)."""
        if choice.engine not in (Engine.fused, Engine.native, Engine.cuda):
            return choice
        module = backend(choice.engine)
        reason = module.declines(self.program)
        if reason is None:
            try:
                self._runner = module.runner(self.program)
            except Exception as exc:  # a compiler's own error: fall back, naming it
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if reason is not None:
            if choice.engine is Engine.cuda:
                raise AgradError(f"--device cuda: {reason}", None, "run on the CPU: --device cpu")
            return fall_back(choice, reason)
        self.backend = choice.engine
        return choice

    def columns(self) -> list[str]:
        """Names of the program's outputs: each output, then d<output>/d<input> if traced
        with gradients."""
        names, outs = [], self.program.output_names
        grads = len(self.results) // max(1, len(outs)) > 1
        for o in outs:
            names.append(o)
            if grads:
                names += [f"d{o}/d{x}" for x in self.inputs]
        return names

    def function(self):
        """One point fast: `f(x0, x1, ...)` with the inputs by position (`self.inputs` order)
        returns a flat tuple, each output's value then its gradient in input order, from
        generated straight-line Python on floats (NumPy where Python would raise)."""
        if self._function is None:
            from .point import fast_function

            self._function = fast_function(self)
        return self._function

    def map_partitions(self, ddf):
        """A Dask DataFrame of every row's values (and gradients) for a Dask DataFrame with a
        column per input; lazy, partition by partition, with the input's index."""
        from .partitions import map_plan

        return map_plan(self, ddf)

    @classmethod
    def of(
        cls,
        graph: Graph,
        outputs: list[tuple[str, int]] | None = None,
        grad: bool = True,
        engine: str = "numpy",
        device: str = "cpu",
    ) -> Plan:
        """Trace a graph (raises tracer.NotTraceable for non-elementwise graphs); `engine`
        "fused" runs many points in the numba kernel, `device` "cuda" on the GPU."""
        with np.errstate(all="ignore"):
            plan = cls(trace(graph, outputs, grad))
        if Device(device) is Device.cuda:
            plan.use(Choice(Engine.cuda, "device='cuda'"))
        elif engine != "numpy":
            made = plan.use(Choice(Engine(engine), f"engine={engine!r}"))
            if made.engine is not Engine(engine):
                raise ValueError(made.why)
        return plan

    def value(self, **inputs) -> dict:
        """Values of the outputs (of a plan traced with or without gradients)."""
        flat = self.run(self._columns(inputs))
        step = len(flat) // len(self.program.output_names)
        return dict(zip(self.program.output_names, flat[::step], strict=True))

    def value_and_grad(self, **inputs) -> tuple[dict, dict]:
        """Values of the outputs and the gradient of each with respect to every input.

        One point of numbers gives Python floats. Arrays broadcast together: values take the
        common shape, and each gradient its input's shape (the gradient of the sum of the
        output's elements, as everywhere in agrad), so equal-shaped arrays give the gradient at
        every point.
        """
        columns = self._columns(inputs)
        fast = point_steps(len(self.program.code)) is Engine.source
        if self._scalar is not None and fast and all(type(c) is float for c in columns):
            flat = self.function()(*columns)
        else:
            flat = self.run(columns)
        order, k = self.inputs, len(self.inputs) + 1
        if len(flat) == k:  # one output
            name = self.program.output_names[0]
            return {name: flat[0]}, {name: dict(zip(order, flat[1:], strict=False))}
        values, grads = {}, {}
        for start, name in zip(range(0, len(flat), k), self.program.output_names, strict=True):
            values[name] = flat[start]
            grads[name] = dict(zip(order, flat[start + 1 : start + k], strict=False))
        return values, grads

    def dense(self, *point: float) -> tuple[np.ndarray, np.ndarray]:
        """One point, inputs by position: each output's value (shape (outputs,)) and its
        gradient (shape (outputs, inputs)) as arrays. For a Hessian plan these are the
        gradient and the Hessian. Structural zeros are filled once, when first asked; each
        call writes only the entries the program computes (by a one-point kernel for plans of
        DENSE_STEPS steps or more, see there; else by generated Python)."""
        if self._dense is None:
            self._dense = _dense_layout(self)
        template, where, kernel = self._dense
        flat = template.copy()
        if kernel is not None:
            computed = np.empty(len(where))
            kernel(np.array(point, dtype=np.float64), computed)
            flat[where] = computed
        else:
            flat[:] = [float(v) for v in self.function()(*map(float, point))]
        shaped = flat.reshape(len(self.program.output_names), -1)
        return shaped[:, 0], shaped[:, 1:]

    def _columns(self, inputs: dict) -> list:
        """The input values in program order, or a TypeError naming what is missing or extra."""
        if len(inputs) == len(self.inputs):
            try:
                return [inputs[name] for name in self.inputs]
            except KeyError:
                pass
        missing = [n for n in self.inputs if n not in inputs]
        extra = [n for n in inputs if n not in self.inputs]
        problem = f"no value for {', '.join(missing)}" if missing else f"no input {extra[0]!r}"
        raise TypeError(f"{problem}; the inputs are: {', '.join(self.inputs) or 'none'}")

    def run(self, columns: list) -> list:
        """Every output of the program (see `Program.outputs`) for the given input values."""
        if self._scalar is not None:
            kinds = set(map(type, columns))
            if kinds <= POINT or (kinds <= ZERO_D and all(np.ndim(c) == 0 for c in columns)):
                out = self.run_scalar(list(map(float, columns)))
                if out is not None:
                    return out
        arrays = [np.asarray(c, dtype=np.float64) for c in columns]
        shapes = [a.shape for a in arrays]
        shape = np.broadcast_shapes(*shapes) if arrays else ()
        flat = [np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1) for a in arrays]
        results = [r.reshape(shape) for r in self.run_batch(flat, int(np.prod(shape, dtype=int)))]
        k = len(arrays) + 1
        for p, r in enumerate(results):  # an input broadcast over the others: sum its gradient
            if p % k and shapes[p % k - 1] != shape:
                results[p] = np.asarray(unbroadcast(r, shapes[p % k - 1]))
        return results

    def run_scalar(self, values: list[float]) -> list[float] | None:
        """One point on Python floats; None when Python would raise (NumPy gives nan/inf)."""
        code, tail, outs = self._scalar  # type: ignore[misc]
        v = values + tail
        try:
            run_steps(code, v)
        except (ArithmeticError, ValueError):
            return None
        return [float(v[r]) for r in outs]

    def run_batch(self, columns: list[np.ndarray], n: int) -> list[np.ndarray]:
        """All points at once: 1-D input columns of length n, one array per output."""
        results = self._fresh(n)
        for r, ref in zip(results, self.results, strict=True):
            if type(ref) is not int:
                r.fill(ref)
        if n == 0:
            return results
        work = self._work if self._runner is None else self._runner
        threads = getattr(self._runner, "threads", THREADS)
        parts = max(1, min(threads, -(-n // self.chunk)))
        bounds = [n * p // parts for p in range(parts + 1)]
        jobs = [(columns, results, bounds[p], bounds[p + 1]) for p in range(parts)]
        if parts == 1:
            work(*jobs[0])
        else:
            list(_pool().map(lambda job: work(*job), jobs))
        self._spare = list(results)
        return results

    def _fresh(self, n: int) -> list[np.ndarray]:
        """Arrays for the results: the last call's, where the caller kept no reference.

        Touching freshly allocated memory costs a page fault per page, about as much as the
        whole computation at a million points; recycling arrays nobody holds avoids it.
        """
        with self._lock:
            spare, self._spare = self._spare, []
        unused = [a for a in spare if a.shape[0] == n and sys.getrefcount(a) <= UNUSED_REFS]
        del spare
        return unused[: len(self.results)] + [
            np.empty(n) for _ in range(len(self.results) - len(unused))
        ]

    def _scratch(self, size: int) -> list[np.ndarray]:
        """This thread's working buffers, kept between calls (fresh pages cost a fault each)."""
        held = getattr(self._local, "scratch", None)
        if held is None or held[0] < size:
            arrays = [np.empty(size, dtype=dt) for dt in self.buffers]
            held = self._local.scratch = (size, arrays)
        return held[1]

    def _work(self, columns, results, start: int, stop: int) -> None:
        """Run the steps over rows start:stop, one chunk at a time, in private buffers.

        A buffer that ends up holding an output is that output's rows instead, so the last
        step writes the result in place and nothing is copied.
        """
        size = min(self.chunk, stop - start)
        n_in, direct = len(columns), self.direct
        scratch = self._scratch(size)
        spaces = [
            (results[direct[b]], True) if b in direct else (scratch[b - n_in], False)
            for b in range(n_in, n_in + len(self.buffers))
        ]
        copies = [
            (r, ref)
            for p, (r, ref) in enumerate(zip(results, self.results, strict=True))
            if type(ref) is int and direct.get(ref) != p
        ]
        with np.errstate(all="ignore"):
            for lo in range(start, stop, size):
                hi = min(lo + size, stop)
                env = [c[lo:hi] for c in columns]
                env += [a[lo:hi] if shared else a[: hi - lo] for a, shared in spaces]
                for fn, out, args in self._steps:
                    fn(*[env[a] if type(a) is int else a for a in args], out=env[out])
                for r, ref in copies:
                    r[lo:hi] = env[ref]


DENSE_STEPS = 300  # from this many steps `Plan.dense` runs a one-point kernel: the native one
# where a C compiler is found, else numba's when the plan was made with engine="fused" or the
# kernel is already compiled (compiling 2,000 steps takes numba tens of seconds)


def _dense_layout(plan: Plan):
    """The constant entries of a plan's flat outputs, where the others go, and the kernel."""
    from .choose import extras, is_cached

    outputs = plan.program.outputs
    template = np.array([0.0 if type(r) is int else float(r) for r in outputs])
    where = np.array([p for p, r in enumerate(outputs) if type(r) is int], dtype=np.intp)
    kernel, steps = None, len(plan.program.code)
    if steps < DENSE_STEPS:
        return template, where, None
    native = backend(Engine.native)
    if "cc" in extras() and native.declines(plan.program) is None:  # compiles in seconds
        return template, where, native.point_kernel(plan.program)
    fused = backend(Engine.fused) if "fast" in extras() else None
    if fused is not None:
        wanted = plan.backend is Engine.fused or is_cached(fused.point_name(plan.program))
        if wanted and fused.declines(plan.program) is None:
            kernel = fused.point_kernel(plan.program)
    return template, where, kernel


def _rebuilt(program: Program, engine: str) -> Plan:
    """A plan unpickled: the same program on the same backend."""
    plan = Plan(program)
    plan.use(Choice(Engine(engine), "as pickled"))
    return plan


def _allocate(program: Program):
    """Map slots to reusable buffers by liveness; return steps, buffer dtypes, output refs."""
    n_in = len(program.inputs)
    last = [-1] * program.slots
    for t, (_, _, args) in enumerate(program.code):
        for a in args:
            if type(a) is int:
                last[a] = t
    for ref in program.outputs:
        if type(ref) is int:
            last[ref] = len(program.code)
    where: list[int] = list(range(n_in)) + [-1] * (program.slots - n_in)
    dtypes: list[np.dtype] = []
    free: dict[np.dtype, list[int]] = {}
    steps = []
    for t, (name, slot, args) in enumerate(program.code):
        dying = [a for a in dict.fromkeys(args) if type(a) is int and a >= n_in and last[a] == t]
        if name != "where":  # ufuncs may write over their own inputs; copyto may not
            _release(dying, where, program, free, n_in)
        dt = program.dtypes[slot]
        pool = free.setdefault(dt, [])
        if pool:
            where[slot] = pool.pop()
        else:
            dtypes.append(dt)
            where[slot] = n_in + len(dtypes) - 1
        if name == "where":
            _release(dying, where, program, free, n_in)
        steps.append((name, where[slot], tuple(where[a] if type(a) is int else a for a in args)))
    outs = [where[r] if type(r) is int else r for r in program.outputs]
    return steps, dtypes, outs


def _direct(results: list, dtypes: list[np.dtype], n_in: int) -> dict[int, int]:
    """Buffers that can be an output's own rows: float64, and one output each."""
    direct: dict[int, int] = {}
    for p, ref in enumerate(results):
        usable = type(ref) is int and ref >= n_in and ref not in direct
        if usable and dtypes[ref - n_in] == np.float64:
            direct[ref] = p
    return direct


def _release(slots, where, program, free, n_in) -> None:
    for a in slots:
        free.setdefault(program.dtypes[a], []).append(where[a])


def _callable(name: str):
    """The function a step calls as fn(*args, out=...)."""
    if name == "where":
        return lambda *args, out: _where(out, *args)
    return numpy_step(name)
