"""Benchmark: how long `workshop room show` and `room report` take for a room of 30 and of 100.

Run: pipenv run python benchmarks/room_show.py [--sizes 30 100] [--runs 5]

Starts the emulator on a free port, makes a bucket, writes each attendee's record as joining
and checks do (records.write_json), then times the command as the facilitator types it (`room show --json`
and the table, a new process each: Python, imports and all) beside the baseline in this
process: listing the records alone, then reading them all (room.attendees); and `room report`
(the page with its four pictures and the CSV) of records that carry a day's history (each step
reached, a problem on each, a hand on some). Targets: `room show` <= 2 s for 30 and 100
attendees, `room report` <= 5 s for 100 (issue 35). Figures go to benchmarks/README.md.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dvc_workshop.lab.model import records as room  # noqa: E402
from dvc_workshop.lab.model.emulator import Emulator  # noqa: E402
from dvc_workshop.lab.model.progress import now, versions  # noqa: E402
from dvc_workshop.lab.model.storage import client  # noqa: E402

TARGETS = {30: 2.0, 100: 2.0}
REPORT_TARGET_S = 5.0
NINE = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


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


def command(*args: str, what: str = "show") -> None:
    subprocess.run([sys.executable, "-m", "dvc_workshop.lab", "room", what, *args], cwd=REPO_ROOT,
                   check=True, capture_output=True)  # fmt: skip


def measure(cache: str, runs: int, page: Path) -> tuple[float, float, float, float, float]:
    """Listing the records, reading them all (in this process); the command, --json and table;
    the report."""
    bucket = cache.removeprefix("gs://")
    return (
        median_time(lambda: list(client().list_blobs(bucket, prefix=f"{room.RECORDS}/")), runs),
        median_time(lambda: room.attendees(cache), runs),
        median_time(lambda: command(cache, "--json"), runs),
        median_time(lambda: command(cache), runs),
        median_time(lambda: command(cache, "--html", str(page), what="report"), runs),
    )


def a_day(n: int, steps: int) -> dict:
    """An attendee's history as their checks keep it: a step every 8-20 minutes, a problem on each."""
    clock, reached, problems = NINE + timedelta(minutes=n % 7), {}, []
    for step in range(1, steps + 1):
        took = timedelta(minutes=8 + (n * step) % 13)
        problem = f"problem {step % 4} of step {step}"
        problems.append({"step": step, "problem": problem, "since": clock.isoformat(),
                         "until": (clock + took / 2).isoformat(), "checks": 3})  # fmt: skip
        clock += took
        reached[str(step)] = clock.isoformat()
    return {"first_check": NINE.isoformat(), "reached": reached, "problems_log": problems,
            "hands_raised": [{"step": steps, "at": clock.isoformat()}] if n % 3 == 0 else []}  # fmt: skip


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
            print(f"{'attendees':>9}  {'list only':>9}  {'read all':>8}  {'--json':>7}  {'table':>7}  "
                  f"target  {'report':>7}  target")  # fmt: skip
            for size in options.sizes:
                cache = f"gs://bench-cache-{size}"
                client().create_bucket(cache.removeprefix("gs://"))
                room.write_json(cache.removeprefix("gs://"), room.ROOM_RECORD, {"raw": "gs://bench-raw",
                                "cache": cache, "source": "gs://bench-raw/mnist"})  # fmt: skip
                for n in range(size):  # records as a check writes them, at steps 1 to 10
                    record = {"name": f"attendee-{n:03}", "steps_done": list(range(1, n % 10 + 1)),
                              "step": n % 10 + 1, "problem": "no default DVC remote", "since": now(),
                              "updated": now(), "versions": versions(), "lab": f"lab-{n}",
                              **a_day(n, n % 10)}  # fmt: skip
                    path = f"{room.ATTENDEES}/{record['name']}.json"
                    room.write_json(cache.removeprefix("gs://"), path, record)
                timings = measure(cache, options.runs, Path(scratch) / "report.html")
                listing, reading, as_json, table, report = timings
                verdict = "met" if max(as_json, table) <= TARGETS.get(size, 5.0) else "MISSED"
                reported = "met" if report <= REPORT_TARGET_S else "MISSED"
                print(f"{size:>9}  {listing:>8.3f}s  {reading:>7.3f}s  {as_json:>6.2f}s  {table:>6.2f}s  "
                      f"<= {TARGETS.get(size, 5.0):.0f} s {verdict}  {report:>6.2f}s  "
                      f"<= {REPORT_TARGET_S:.0f} s {reported}")  # fmt: skip
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
