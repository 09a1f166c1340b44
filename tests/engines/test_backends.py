"""Every step-list backend against the interpreter, first and second order, and the chooser.

The NumPy blocks promise the interpreter's bits; the fused kernel promises them for
arithmetic and comparisons, and `fused.TOLERANCE` for transcendental steps (numba's kernels
may differ from NumPy's in the last bit, which a derivative such as 1 - tanh^2 amplifies).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import agrad, write

from autogradcli.engines import choose
from autogradcli.engines.choose import Choice, Device, Engine, Work, many_points, one_point
from autogradcli.engines.evaluate import evaluate
from autogradcli.engines.higher import hessian_plan
from autogradcli.engines.plan import Plan
from autogradcli.language.parser import parse, parse_file
from autogradcli.ops import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
HAS_NUMBA = importlib.util.find_spec("numba") is not None
HAS_CC = shutil.which(os.environ.get("CC", "cc")) is not None
BACKENDS = [
    "numpy",
    pytest.param("fused", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba")),
    pytest.param("native", marks=pytest.mark.skipif(not HAS_CC, reason="no C compiler")),
]
ELEMENTWISE = sorted(
    n
    for n, op in REGISTRY.items()
    if op.kind == "elementwise" and op.traceable and op.symbol is None
)
EXACT = {"add", "subtract", "multiply", "divide", "negative", "square", "sqrt", "absolute",
         "sign", "maximum", "minimum", "where", "floor", "reciprocal"}  # fmt: skip


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("AGRAD_CACHE", str(tmp_path_factory.getbasetemp() / "kernels"))


def every_op(special: bool, total: bool = False):
    """One graph with an output per elementwise op (or, with `total`, one output: their sum),
    each op on inputs of its own, and values for them."""
    lines, values, rng = [], {}, np.random.default_rng(3)
    for name in ELEMENTWISE:
        op = REGISTRY[name]
        args = [f"{v}_{name}" for v in "xyz"[: op.arity]]
        lines.append(f"f_{name} = {name}({', '.join(args)})")
        for arg, (lo, hi) in zip(args, op.domain, strict=True):
            column = rng.uniform(lo, hi, 64)
            if special:
                column = np.append(column, [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan])
            values[arg] = column
    if total:
        lines.append("total = " + " + ".join(f"f_{name}" for name in ELEMENTWISE))
    n = max(len(v) for v in values.values())
    return parse("\n".join(lines) + "\n", "ops.txt"), {
        k: np.resize(v, n) for k, v in values.items()
    }


def interpreted(graph, values) -> list[np.ndarray]:
    """The interpreter's answers in the plan's order: per output, value then each gradient."""
    with np.errstate(all="ignore"):
        ev = evaluate(graph, dict(values))
    flat = []
    for r in ev.outputs:
        flat.append(r.value)
        flat.extend(r.gradient[w] for w in graph.input_ids)
    return flat


def compare(got, want, exact: bool) -> None:
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g, dtype=float), np.broadcast_to(np.asarray(w, dtype=float), np.shape(g))
        if exact:
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
            np.testing.assert_allclose(g, w, rtol=choose_tolerance(), atol=1e-14)


def choose_tolerance() -> float:
    from autogradcli.engines.fused import TOLERANCE

    return TOLERANCE


@pytest.mark.parametrize("engine", BACKENDS)
def test_first_order_every_op_against_the_interpreter(engine):
    graph, values = every_op(special=True)
    plan = Plan.of(graph, engine=engine)
    assert plan.backend is Engine(engine)
    n = len(next(iter(values.values())))
    got = plan.run_batch([values[x] for x in plan.inputs], n)
    want = interpreted(graph, values)
    k = len(graph.input_ids) + 1
    for o, (name, _) in enumerate(graph.outputs):
        exact = engine == "numpy" or name[2:] in EXACT
        compare(got[o * k : (o + 1) * k], want[o * k : (o + 1) * k], exact)


@pytest.mark.parametrize("engine", BACKENDS)
def test_second_order_against_the_numpy_blocks(engine):
    """The Hessian plan of a sum over every op: the NumPy blocks are the reference (they are
    the interpreter's bits, tests/engines/test_higher.py)."""
    total, values = every_op(special=False, total=True)
    assert [name for name, _ in total.outputs] == ["total"]
    reference = hessian_plan(total)
    plan = hessian_plan(total)
    plan.use(Choice(Engine(engine), "test"))
    assert plan.backend is Engine(engine)
    n = len(next(iter(values.values())))
    cols = [values[x] for x in plan.inputs]
    compare(plan.run_batch(cols, n), reference.run_batch(cols, n), exact=engine == "numpy")


@pytest.mark.skipif(not HAS_NUMBA, reason="numba")
def test_the_fused_kernel_is_cached_on_disk_and_a_second_process_loads_it(tmp_path):
    seed = str(ROOT / "samples/seed.txt")
    plan = Plan.of(parse_file(seed), engine="fused")
    assert Engine.fused in plan.cached()
    code = (
        "from autogradcli.engines.plan import Plan\n"
        "from autogradcli.language.parser import parse_file\n"
        "import numpy as np\n"
        f"plan = Plan.of(parse_file({seed!r}), engine='fused')\n"
        "kernel = plan._runner.kernel\n"
        "print(sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values()))\n"
        "print(plan.run_batch([np.array([1.0]), np.array([2.0]), np.array([3.0]),"
        " np.array([4.0])], 1))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.splitlines()  # fmt: skip
    assert out[0] == "1 0"  # loaded from the cache, nothing compiled
    assert out[1] == "[array([-4.]), array([4.]), array([16.]), array([16.]), array([-24.])]"


def test_the_chooser_table():
    assert one_point(Work(nodes=10)).engine is Engine.interpreter
    assert one_point(Work(nodes=choose.FLOAT_NODES)).engine is Engine.floats
    assert one_point(Work(nodes=10**6, per_node=True)).engine is Engine.interpreter
    assert many_points(Work(points=choose.PLAN_ROWS - 1)).engine is Engine.interpreter
    assert many_points(Work(points=10**6, engine="interpreted")).engine is Engine.interpreter
    assert many_points(Work(points=1, device=Device.cuda)).engine is Engine.cuda
    big = many_points(Work(points=choose.FUSED_ROWS, traceable=True))
    assert big.engine is (Engine.native if HAS_CC else Engine.fused if HAS_NUMBA else Engine.numpy)
    cached = Work(
        points=choose.NATIVE_CACHED_ROWS, traceable=True, cached=frozenset([Engine.native])
    )
    assert many_points(cached).engine is (Engine.native if HAS_CC else Engine.numpy)
    mid = many_points(Work(points=choose.PLAN_ROWS, traceable=True))
    assert mid.engine is Engine.numpy and "a kernel would not pay" in mid.why


@pytest.mark.skipif(not HAS_NUMBA, reason="numba")
def test_a_backend_that_declines_falls_back_and_says_why(monkeypatch):
    from autogradcli.engines import fused

    monkeypatch.setattr(fused, "MAX_STEPS", 3)
    plan = Plan.of(parse_file(str(ROOT / "samples/seed.txt")))
    made = plan.use(Choice(Engine.fused, "test"))
    assert made.engine is Engine.numpy and plan.backend is Engine.numpy
    assert made.why.startswith("fused declined: ") and "MAX_STEPS" in made.why


def test_explain_engine_names_the_engine(tmp_path):
    seed = str(ROOT / "samples/seed.txt")
    result = agrad("eval", seed, "--at", "a=1", "b=2", "c=3", "d=4", "--explain-engine")
    assert "engine: interpreter (12 nodes < FLOAT_NODES = 1,000)" in result.stderr
    points = write(tmp_path, "a,b,c,d\n1,2,3,4\n", "p.csv")
    result = agrad("eval", seed, "--at-file", points, "--explain-engine")
    assert "engine: interpreter (1 rows < PLAN_ROWS = 1,000)" in result.stderr


@pytest.mark.skipif(not HAS_NUMBA, reason="numba")
def test_device_cuda_without_a_gpu_is_an_error(tmp_path):
    from numba import cuda

    if cuda.is_available():
        pytest.skip("a GPU is present")
    points = write(tmp_path, "a,b,c,d\n1,2,3,4\n", "p.csv")
    result = agrad("eval", str(ROOT / "samples/seed.txt"), "--at-file", points, "--device", "cuda")
    assert result.exit_code == 2
    assert "--device cuda: no CUDA GPU found" in result.stderr


def test_the_gpu_kernel_source_is_the_fused_body_on_cuda_math():
    from autogradcli.engines import cuda

    plan = Plan.of(parse("f = sin(x) * exp(y)\n", "t.txt"))
    text = cuda.source(plan.program)
    assert "@cuda.jit" in text and "k = start + cuda.grid(1)" in text
    assert "math.sin(s0)" in text and "math.exp(s1)" in text and "np." not in text.split("def")[1]


@pytest.mark.skipif(not HAS_NUMBA, reason="numba")
def test_the_gpu_kernel_in_numba_cuda_simulator(tmp_path):
    """The same program through numba's CUDA target, run by its simulator on the CPU."""
    lines = ["f = sin(a) * exp(b) + log(c) * tanh(d) + sqrt(a * a + b * b)",
             "g = max(a, b) / (1 + c * c)"]  # fmt: skip
    path = write(tmp_path, "\n".join(lines) + "\n")
    rng = np.random.default_rng(5)
    rows = rng.uniform(0.2, 2.0, (40, 4))
    np.savetxt(tmp_path / "p.csv", rows, delimiter=",", header="a,b,c,d", comments="")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_ENABLE_CUDASIM": "1",
           "AGRAD_CACHE": str(tmp_path / "k")}  # fmt: skip
    cmd = [sys.executable, "-c", "from autogradcli.cli import main; main()", "eval", path,
           "--at-file", str(tmp_path / "p.csv")]  # fmt: skip
    gpu = subprocess.run([*cmd, "--device", "cuda", "--explain-engine"], capture_output=True,
                         text=True, env=env, check=True)  # fmt: skip
    cpu = subprocess.run([*cmd, "--engine", "interpreted"], capture_output=True, text=True,
                         env=env, check=True)  # fmt: skip
    assert "engine: cuda" in gpu.stderr
    a = np.loadtxt(gpu.stdout.splitlines(), delimiter=",", skiprows=1)
    b = np.loadtxt(cpu.stdout.splitlines(), delimiter=",", skiprows=1)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "engine",
    [
        "python",
        pytest.param("fused", marks=pytest.mark.skipif(not HAS_NUMBA, reason="numba")),
        pytest.param("native", marks=pytest.mark.skipif(not HAS_CC, reason="no C compiler")),
    ],
)
def test_dense_hessian_is_an_array_with_structural_zeros(engine, monkeypatch):
    from autogradcli.engines import choose as choose_mod
    from autogradcli.engines import plan as plan_mod

    # the one-point kernel even for a small program, or never
    monkeypatch.setattr(plan_mod, "DENSE_STEPS", 10**9 if engine == "python" else 0)
    if engine == "fused":  # numba's kernel: as where no C compiler is found
        monkeypatch.setattr(choose_mod, "extras", lambda: frozenset({"fast"}))
    graph = parse("u = (a + b) * b^2\nv = (c - d) * d^2\nf = u + v\n", "seed.txt")
    plan = hessian_plan(graph)
    if engine == "fused":
        plan.use(Choice(Engine.fused, "test"))
    grad, hess = plan.dense(1.0, 2.0, 3.0, 4.0)
    assert grad.tolist() == [4.0, 16.0, 16.0, -24.0]  # by hand: (b^2, 2ab + 3b^2, d^2, ...)
    b, a, c, d = 2.0, 1.0, 3.0, 4.0
    want = [[0, 2 * b, 0, 0], [2 * b, 2 * a + 6 * b, 0, 0], [0, 0, 0, 2 * d],
            [0, 0, 2 * d, 2 * c - 6 * d]]  # fmt: skip
    assert hess.tolist() == want and hess.shape == (4, 4)
    assert (plan._dense[2] is not None) == (engine != "python")


def test_the_native_source_is_c_from_the_program_alone():
    from autogradcli.engines import native

    plan = Plan.of(parse("f = where(x > 0, log(x), -x) * 1e300\n", "t.txt"))
    text = native.source(plan.program)
    assert "void kernel(long start, long stop, double **in, double **out)" in text
    assert "log(s0)" in text and "1e+300" in text and '"' not in text.split("*/", 1)[1]


@pytest.mark.skipif(not HAS_CC, reason="no C compiler")
def test_the_native_kernel_is_a_shared_library_a_second_process_loads(tmp_path):
    seed = str(ROOT / "samples/seed.txt")
    plan = Plan.of(parse_file(seed), engine="native")
    assert Engine.native in plan.cached()
    code = (
        "import sys, numpy as np\n"
        "from autogradcli.engines import native\n"
        "from autogradcli.engines.plan import Plan\n"
        "from autogradcli.language.parser import parse_file\n"
        "native.COMPILER = 'no-such-compiler'  # loading must not compile\n"
        f"plan = Plan.of(parse_file({seed!r}), engine='native')\n"
        "print(plan.run_batch([np.array([v]) for v in (1.0, 2.0, 3.0, 4.0)], 1))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout  # fmt: skip
    assert out.strip() == "[array([-4.]), array([4.]), array([16.]), array([16.]), array([-24.])]"


def test_an_engine_that_cannot_run_is_an_error_when_insisted_on(tmp_path, monkeypatch):
    from autogradcli.engines import native

    monkeypatch.setattr(native, "MAX_STEPS", 3)
    points = write(tmp_path, "a,b,c,d\n1,2,3,4\n", "p.csv")
    seed = str(ROOT / "samples/seed.txt")
    result = agrad("eval", seed, "--at-file", points, "--engine", "native")
    assert result.exit_code == 2
    assert "--engine native: native declined: 13 steps > MAX_STEPS = 3" in result.stderr
