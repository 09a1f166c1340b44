"""Seconds and peak memory of a command, measured from a small launcher process.

A child's peak RSS (`ru_maxrss`) starts from its parent's size at the fork, so a benchmark
that holds a large program in memory would see it in every child it starts. A fresh, small
Python process starts the command instead and reports its children's peak.
"""

from __future__ import annotations

import subprocess
import sys

LAUNCH = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"  # stderr: passed on
    "took = time.perf_counter() - t\n"
    "print(took, r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
)


def measured(command: list[str]) -> tuple[float, float]:
    """Seconds and peak MB of `command` (stdout discarded); SystemExit if it fails."""
    done = subprocess.run([sys.executable, "-c", LAUNCH, *command], capture_output=True,
                          text=True, check=True)  # fmt: skip
    took, status, mb = done.stdout.split()
    if int(status):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return float(took), float(mb)
