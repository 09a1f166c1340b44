"""Out of core: `agrad eval samples/seed.txt --at-file DATASET --backend dask -o OUT/` over a
Parquet dataset larger than any one worker's memory, beside one process on part of it.

Usage: python benchmarks/scaling.py [--rows 100000000] [--files 100] [--memory 2GiB]
                                    [--workers 2] [--sample 10] [--data DIR]

Writes the dataset (float64 columns a, b, c, d; `--data` keeps it for the next run), starts a
local cluster on 127.0.0.1 whose workers are limited to `--memory` each, runs the command
against it from a fresh process, and prints a Markdown table: rows, seconds, rows/s and peak
memory (the workers' largest resident size, sampled every 0.2 s; the single process's
getrusage), beside one process (`--backend local`) on the first `--sample` files.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "samples" / "seed.txt")


def make_dataset(folder: Path, rows: int, files: int) -> None:
    """`files` Parquet files of rows // files random points each (kept if already there)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    per = rows // files
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in range(files):
        path = folder / f"points-{k:05d}.parquet"
        if path.exists() and pq.ParquetFile(path).metadata.num_rows == per:
            continue
        block = rng.normal(size=(per, 4))
        table = pa.table({c: block[:, j] for j, c in enumerate("abcd")})
        pq.write_table(table, path, row_group_size=1 << 20, use_dictionary=False)


def agrad(args: list[str]) -> tuple[float, float]:
    """Seconds and peak MB of one `agrad` process (started from a small launcher)."""
    from peak import measured

    return measured([sys.executable, "-m", "autogradcli", *args])


def peak_rss(client, stop: threading.Event, peaks: list[float]) -> None:
    """The largest resident size of any worker, sampled until `stop` is set."""
    import psutil

    def rss() -> int:
        return psutil.Process().memory_info().rss

    while not stop.is_set():
        with contextlib.suppress(Exception):  # a worker restarting between samples
            peaks.append(max(client.run(rss).values()) / 2**20)
        stop.wait(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--memory", default="2GiB")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    from distributed import Client

    from autogradcli.engines.cluster import local_cluster, tls_environment

    scratch = Path(tempfile.mkdtemp(prefix="agrad-scaling-"))
    data = args.data or scratch / "points"
    try:
        make_dataset(data, args.rows, args.files)
        rows = args.rows // args.files * args.files
        sample = scratch / "sample"
        sample.mkdir()
        for f in sorted(data.glob("points-*.parquet"))[: args.sample]:
            os.symlink(f, sample / f.name)
        sample_rows = rows // args.files * min(args.sample, args.files)
        one, one_mb = agrad(["eval", SEED, "--at-file", str(sample), "-o",
                             str(scratch / "one.parquet")])  # fmt: skip
        with (
            local_cluster(args.workers, args.memory) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            stop, peaks = threading.Event(), [0.0]
            watcher = threading.Thread(target=peak_rss, args=(client, stop, peaks))
            watcher.start()
            os.environ.update(tls_environment(cluster.security, scratch))  # the run's client
            took, _ = agrad(["eval", SEED, "--at-file", str(data), "--backend", "dask",
                             "--scheduler", cluster.scheduler_address,
                             "-o", str(scratch / "out")])  # fmt: skip
            stop.set()
            watcher.join()
        parts = len(list((scratch / "out").glob("part-*.parquet")))
        print(f"seed, {rows:,} rows in {args.files} Parquet files; {args.workers} workers of "
              f"{args.memory}; {os.cpu_count()} cores\n")  # fmt: skip
        print("| run | rows | seconds | rows/s | peak memory |")
        print("|---|---:|---:|---:|---:|")
        print(f"| one process (--backend local), first {args.sample} files | {sample_rows:,} | "
              f"{one:.1f} | {sample_rows / one:,.0f} | {one_mb:,.0f} MB |")  # fmt: skip
        print(f"| --backend dask, {parts} partitions | {rows:,} | {took:.1f} | "
              f"{rows / took:,.0f} | {max(peaks):,.0f} MB per worker |")  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
