"""Benchmark: how long `workshop room show` takes for a room of 30 and of 100 attendees.

Run: pipenv run python benchmarks/room_show.py [--sizes 30 100] [--runs 5]

Starts the emulator on a free port, makes a room, writes each attendee's record as a check
does (room.report), then times the command as the facilitator types it (`room show --json`
and the table, a new process each: Python, imports and all) beside the baseline in this
process: listing the records alone, then reading them all (room.attendees). Targets: 30
attendees <= 2 s, 100 <= 5 s. Figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dvc_workshop.lab.model import records as room  # noqa: E402
from dvc_workshop.lab.model.emulator import Emulator  # noqa: E402
from dvc_workshop.lab.model.progress import now, versions  # noqa: E402
from dvc_workshop.lab.model.storage import client  # noqa: E402

TARGETS = {30: 2.0, 100: 2.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def median_time(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def command(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc_workshop.lab", "room", "show", *args], cwd=REPO_ROOT,
                   check=True, capture_output=True)  # fmt: skip


def measure(cache: str, runs: int) -> tuple[float, float, float, float]:
    """Listing the records, reading them all (in this process); the command, --json and table."""
    bucket = cache.removeprefix("gs://")
    return (
        median_time(lambda: list(client().list_blobs(bucket, prefix=f"{room.RECORDS}/")), runs),
        median_time(lambda: room.attendees(cache), runs),
        median_time(lambda: command(cache, "--json"), runs),
        median_time(lambda: command(cache), runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 100])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        emulator = Emulator(Path(scratch) / "buckets", free_port())
        emulator.start()
        os.environ.update(emulator.environment())
        try:
            print(f"{'attendees':>9}  {'list only':>9}  {'read all':>8}  {'--json':>7}  {'table':>7}  target")
            for size in options.sizes:
                cache = f"gs://bench-cache-{size}"
                client().create_bucket(cache.removeprefix("gs://"))
                for n in range(size):  # records as a check writes them, at steps 1 to 10
                    record = {"name": f"attendee-{n:03}", "steps_done": list(range(1, n % 10 + 1)),
                              "step": n % 10 + 1, "problem": "no default DVC remote", "since": now(),
                              "updated": now(), "versions": versions(), "lab": f"lab-{n}"}  # fmt: skip
                    assert room.send_record(cache, record) == "sent"
                timings = measure(cache, options.runs)
                listing, reading, as_json, table = timings
                verdict = "met" if max(as_json, table) <= TARGETS.get(size, 5.0) else "MISSED"
                print(f"{size:>9}  {listing:>8.3f}s  {reading:>7.3f}s  {as_json:>6.2f}s  {table:>6.2f}s  "
                      f"<= {TARGETS.get(size, 5.0):.0f} s {verdict}")  # fmt: skip
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
