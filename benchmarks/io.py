"""Points files end to end: `agrad eval samples/seed.txt --at-file IN -o OUT` on a million rows,
CSV and Parquet in and out, with pyarrow and on the NumPy path (pyarrow hidden), each a fresh
process timed from the shell's side, beside reading and writing the same file by hand.

Usage: python benchmarks/io.py [--rows 1000000] [--repeat 3]

Prints a Markdown table of the median seconds and the peak memory of each command.
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
HIDE_PYARROW = "sys.modules['pyarrow'] = None; "  # the NumPy path, as without the extra


def run(args: list[str], numpy_only: bool) -> tuple[float, float]:
    """Seconds and peak MB of one `agrad` process."""
    code = "import sys; " + (HIDE_PYARROW if numpy_only else "")
    code += "from autogradcli.cli import main; sys.argv = ['agrad'] + sys.argv[1:]; main()"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    if status != 0:
        raise SystemExit(proc.stderr.read().decode())
    proc.stderr.close()
    return took, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        pa = None
    seed = str(ROOT / "samples" / "seed.txt")
    with tempfile.TemporaryDirectory() as tmp:
        rows = np.random.default_rng(0).uniform(-2, 2, (opts.rows, 4))
        csv = os.path.join(tmp, "points.csv")
        with open(csv, "w") as fh:
            fh.write("a,b,c,d\n")
            fh.writelines(",".join(map(repr, r)) + "\n" for r in rows.tolist())
        cases = [("CSV -> CSV, NumPy path", csv, "out.csv", True)]
        if pa is not None:
            parquet = os.path.join(tmp, "points.parquet")
            pq.write_table(pa.table({k: rows[:, i] for i, k in enumerate("abcd")}), parquet)
            cases += [
                ("CSV -> CSV, pyarrow", csv, "out.csv", False),
                ("CSV -> Parquet, pyarrow", csv, "out.parquet", False),
                ("Parquet -> Parquet, pyarrow", parquet, "out.parquet", False),
                ("Parquet -> Arrow, pyarrow", parquet, "out.arrow", False),
            ]
        print(f"## `agrad eval samples/seed.txt --at-file IN -o OUT`, {opts.rows:,} rows\n")
        print("| case | median s | peak MB |")
        print("|---|---:|---:|")
        for name, source, out, numpy_only in cases:
            times, peak = [], 0.0
            for _ in range(opts.repeat):
                args = ["eval", seed, "--at-file", source, "-o", os.path.join(tmp, out)]
                took, mb = run(args, numpy_only)
                times.append(took)
                peak = max(peak, mb)
            print(f"| {name} | {statistics.median(times):.2f} | {peak:.0f} |")
        print("\n## By hand: read the CSV into NumPy (no evaluation)\n")
        print("| reader | s |")
        print("|---|---:|")
        start = time.perf_counter()
        np.loadtxt(csv, delimiter=",", skiprows=1)
        print(f"| np.loadtxt | {time.perf_counter() - start:.2f} |")
        if pa is not None:
            import pyarrow.csv as pcsv

            start = time.perf_counter()
            pcsv.read_csv(csv)
            print(f"| pyarrow.csv.read_csv | {time.perf_counter() - start:.2f} |")


if __name__ == "__main__":
    main()
