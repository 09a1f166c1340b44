"""Start-up cost of `agrad eval` against the import floor `python -c "import numpy, typer, rich"`.

Usage: python benchmarks/startup.py [--runs N]
Prints a Markdown table of the median and fastest wall-clock times of each command.
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
SEED = [
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
]
COMMANDS = {
    "import floor: numpy, typer, rich": [sys.executable, "-c", "import numpy, typer, rich"],
    "agrad eval seed (table)": SEED,
    "agrad eval seed (json)": [*SEED, "-f", "json"],
}


# A user's Python caches bytecode; some sandboxes turn that off, which would charge every run
# for compiling agrad's modules from source. Measure the normal setting.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timings(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Wall-clock seconds of each command, runs interleaved so that load drifts hit all alike."""
    for cmd in commands.values():
        subprocess.run(cmd, capture_output=True, check=True, env=ENV)  # warm the caches
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=ENV)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    """Run the commands and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    times = timings(COMMANDS, args.runs)
    floor = "import floor: numpy, typer, rich"
    base_med, base_min = statistics.median(times[floor]), min(times[floor])
    print(f"| command ({args.runs} runs, interleaved) | median s | ratio | fastest s | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, ts in times.items():
        med, low = statistics.median(ts), min(ts)
        print(f"| {name} | {med:.3f} | {med / base_med:.2f}x | {low:.3f} | {low / base_min:.2f}x |")


if __name__ == "__main__":
    main()
