"""The benchmark scripts still run and print their tables (tiny sizes; no time is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_run_prints_every_implementation_and_the_ratio_table():
    text = bench("benchmarks/run.py", "--points", "2000", "--repeat", "1", "--no-torch-compile")
    rows = ("NumPy by hand", "agrad plan", "agrad interpreted", "agrad compile module", "SymPy")
    for row in rows:
        assert f"| {row}" in text
    assert "## time(value + gradient) / time(value)" in text
    assert "failed" not in text.split("## Seed, value + 4 gradients at one point")[0]


def test_million_prints_a_row_per_size():
    text = bench("benchmarks/million.py", "--sizes", "1000", "2000")
    assert "| 1,000 | " in text and "| 2,000 | " in text
    assert "2.0x the nodes cost" in text


def test_startup_prints_the_three_commands():
    text = bench("benchmarks/startup.py", "--runs", "1")
    assert "import floor" in text and "(table)" in text and "(json)" in text


def test_hessian_prints_its_three_tables():
    text = bench("benchmarks/hessian.py", "--points", "2000", "--dims", "4", "--repeat", "1")
    assert "agrad Hessian plan" in text and "Rosenbrock, n = 4" in text
    assert "| value + gradient + Hessian |" in text
    assert "failed" not in text


def test_io_prints_every_case():
    text = bench("benchmarks/io.py", "--rows", "2000", "--repeat", "1")
    assert "| CSV -> CSV, NumPy path |" in text and "| Parquet -> Parquet, pyarrow |" in text
    assert "| np.loadtxt |" in text


def test_scaling_prints_both_runs():
    text = bench(
        "benchmarks/scaling.py", "--rows", "20000", "--files", "4", "--sample", "1",
        "--memory", "1GiB", "--workers", "1",
    )  # fmt: skip
    assert "| one process (--backend local), first 1 files | 5,000 |" in text
    assert "| --backend dask, 4 partitions | 20,000 |" in text


def test_million_prints_the_shell_table_for_three_files():
    text = bench("benchmarks/million.py", "--sizes", "1000", "--files", "3000")
    for row in ("| random program (six line shapes) |", "| random, every construct (MIXED) |",
                "| chain sin(x) * 1.0001 |", "Plain Python-float tape"):  # fmt: skip
        assert row in text


def test_fused_prints_the_engine_tables():
    text = bench("benchmarks/fused.py", "--points", "2000", "--repeat", "1", "--rosenbrock", "3")
    for row in (
        "seed: agrad plan, NumPy blocks",
        "seed: bandwidth floor",
        "MLP: H·v",
        "native: build in a second process",
        "Rosenbrock n=3: agrad dense, generated Python",
    ):
        assert row in text  # fmt: skip


def test_gpu_runs_or_says_what_it_skipped():
    text = bench("benchmarks/gpu.py", "--points", "1000", "--repeat", "1")
    assert "| agrad --device cuda (with transfers) |" in text
    assert "| CuPy hand-fused kernel" in text
