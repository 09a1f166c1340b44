"""Start-up cost of `agrad eval` against the import floor `python -c "import numpy, typer, rich"`.

Usage: python benchmarks/startup.py [--runs N]
Prints a Markdown table of median wall-clock times over N runs of each command.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "import floor: numpy, typer, rich": [sys.executable, "-c", "import numpy, typer, rich"],
    "agrad eval seed (table)": [
        sys.executable,
        "-m",
        "autogradcli",
        "eval",
        str(ROOT / "samples/seed.txt"),
        "--at",
        "a=1",
        "b=2",
        "c=3",
        "d=4",
    ],
    "agrad eval seed (json)": [
        sys.executable,
        "-m",
        "autogradcli",
        "eval",
        str(ROOT / "samples/seed.txt"),
        "--at",
        "a=1",
        "b=2",
        "c=3",
        "d=4",
        "-f",
        "json",
    ],
}


# A user's Python caches bytecode; some sandboxes turn that off, which would charge every run
# for compiling agrad's modules from source. Measure the normal setting.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_time(cmd: list[str], runs: int) -> float:
    """Median wall-clock seconds of `cmd` over `runs` runs (after one warm-up)."""
    subprocess.run(cmd, capture_output=True, check=True, env=ENV)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Run each command interleaved and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    results = {name: median_time(cmd, args.runs) for name, cmd in COMMANDS.items()}
    floor = results["import floor: numpy, typer, rich"]
    print(f"| command (median of {args.runs}) | seconds | ratio to floor |")
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.3f} | {seconds / floor:.2f}x |")


if __name__ == "__main__":
    main()
