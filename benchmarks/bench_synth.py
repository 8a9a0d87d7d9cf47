"""Benchmark `tepat synth`: seconds and peak memory for 100k and 1M persons.

Each run is a fresh subprocess, so its peak RSS is measured alone (ru_maxrss of the waited-for
child via os.wait4). A 10k-person run in the same session is the baseline for ratios.

    .venv/bin/python benchmarks/bench_synth.py                 # 10k x3, 100k x3, 1M x1
    .venv/bin/python benchmarks/bench_synth.py --sizes 10000 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = """
import sys
from tepat.synth.services import generate
generate(region_code=sys.argv[1], persons=int(sys.argv[2]), seed=42, out_dir=sys.argv[3],
         progress=False)
"""


def run_once(region: str, persons: int) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one generation in a fresh interpreter."""
    out = tempfile.mkdtemp(prefix="bench-synth-")
    try:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, region, str(persons), out])
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"generation failed for {persons} persons")
        return seconds, usage.ru_maxrss / 1024  # Linux reports KiB
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="32", help="province or regency code (default 32)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions below 1M persons")
    parser.add_argument("--repeat-large", type=int, default=1, help="repetitions at 1M and above")
    args = parser.parse_args()

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"region {args.region}; median over repetitions; fresh process per run")
    print(
        f"{'persons':>10} {'runs':>5} {'seconds':>9} {'peak MiB':>9} {'us/person':>10} {'x base':>7}"
    )
    base: float | None = None
    base_persons = min(args.sizes)
    for persons in sorted(args.sizes):
        reps = args.repeat if persons < 1_000_000 else args.repeat_large
        runs = [run_once(args.region, persons) for _ in range(reps)]
        seconds = statistics.median(r[0] for r in runs)
        peak = statistics.median(r[1] for r in runs)
        if base is None:
            base = seconds
        ratio = seconds / base if base else float("nan")
        per = seconds / persons * 1e6
        print(f"{persons:>10} {reps:>5} {seconds:>9.2f} {peak:>9.0f} {per:>10.1f} {ratio:>6.1f}x"
              f"  (size x{persons // base_persons})")  # fmt: skip
        sys.stdout.flush()


if __name__ == "__main__":
    main()
