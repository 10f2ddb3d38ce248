"""Benchmark: a queued grid of experiments (lab step 9) run by 1 worker and by 2, on this machine.

Question: does `dvc exp run --run-all -j 2` (or `dvc queue start -j 2`) pay on a 2-core laptop,
where TensorFlow already trains on both cores? Each worker is a separate `dvc exp run` in its own
copy of the repository; two of them share the cores and the memory.

Run: pipenv run python benchmarks/parallel_experiments.py [--values 0.002,0.005,0.01] [--runs 1]

A copy of this working tree (tests.clones.copy_repo) on the offline default (the 5,000-image
sample) runs `dvc repro` once (the baseline every experiment starts from), then, for -j 1 and
-j 2 in turn (--runs times, alternating), queues the grid `dvc exp run --queue -S
train.learning_rate=VALUES` and times `dvc exp run --run-all -j N` until every experiment is
done, with the peak memory of the machine (psutil) beside it; the experiments and DVC's run cache
(`.dvc/cache/runs`, which would restore a run already made instead of training) are removed
between runs. It prints the wall time of each, the time per experiment, and whether every experiment
succeeded (`dvc exp show --json`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.clones import copy_repo  # noqa: E402

DVC = [sys.executable, "-m", "dvc"]


def dvc(*args: str, cwd: Path) -> str:
    done = subprocess.run([*DVC, *args], cwd=cwd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def peak_memory(stop: threading.Event, seen: list[float]) -> None:
    """The machine's used memory, sampled every 0.5 s (GB): the workers' together."""
    while not stop.wait(0.5):
        seen.append(psutil.virtual_memory().used / 1e9)


def finished(repo: Path) -> tuple[int, int]:
    """Experiments that ran to their metrics, and all experiments, from `dvc exp show --json`."""
    rows = json.loads(dvc("exp", "show", "--json", "--no-pager", cwd=repo))
    revisions = [rev for row in rows for exp in (row.get("experiments") or []) for rev in exp.get("revs", [])]
    ok = sum(not rev.get("error") and bool((rev.get("data") or {}).get("metrics")) for rev in revisions)
    return ok, len(revisions)


def grid(repo: Path, values: str, workers: int) -> tuple[float, float, int, int]:
    shutil.rmtree(repo / ".dvc/cache/runs", ignore_errors=True)  # DVC's run cache: each grid trains anew
    dvc("exp", "run", "--queue", "-S", f"train.learning_rate={values}", cwd=repo)
    stop, seen = threading.Event(), [psutil.virtual_memory().used / 1e9]
    sampler = threading.Thread(target=peak_memory, args=(stop, seen), daemon=True)
    sampler.start()
    started = time.perf_counter()
    dvc("exp", "run", "--run-all", "-j", str(workers), cwd=repo)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    ok, total = finished(repo)
    dvc("exp", "remove", "--all-commits", cwd=repo)
    return wall, max(seen) - seen[0], ok, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", default="0.002,0.003,0.01", help="the grid: train.learning_rate values")
    parser.add_argument("--runs", type=int, default=1, help="measurements of each (alternating)")
    options = parser.parse_args()
    count = len(options.values.split(","))
    print(f"{os.cpu_count()} CPUs; grid of {count}: train.learning_rate={options.values}")
    with tempfile.TemporaryDirectory() as scratch:
        repo = copy_repo(Path(scratch) / "dvc-workshop")
        started = time.perf_counter()
        dvc("repro", cwd=repo)
        print(f"baseline dvc repro: {time.perf_counter() - started:.0f} s")
        print(f"{'workers':>7}  {'wall':>6}  {'per experiment':>14}  {'memory peak':>11}  succeeded")
        for _ in range(options.runs):
            for workers in (1, 2):
                wall, memory, ok, total = grid(repo, options.values, workers)
                each = wall / count
                row = f"{workers:>7}  {wall:>5.0f}s  {each:>13.0f}s  {memory:>9.1f} GB  {ok} of {total}"
                print(row, flush=True)


if __name__ == "__main__":
    main()
