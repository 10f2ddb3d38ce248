"""`workshop check --watch`: the check again after each change to the lab, on a cleared screen."""

from __future__ import annotations

import time
from pathlib import Path

from dvc_workshop.lab.check.verdict import report
from dvc_workshop.lab.repo.lab import Lab

WATCHED = ("dvc.yaml", "dvc.lock", "params.yaml", ".dvc/config", ".git/HEAD", ".git/index", ".gitignore")


def fingerprint(root: Path) -> list[tuple[str, int, int]]:
    """What a change to the lab touches: git's HEAD, index and refs, the pipeline files, the code."""
    paths = [root / name for name in WATCHED]
    paths += [*(root / ".git/refs").rglob("*"), *(root / "dvc_workshop").rglob("*.py"), *root.glob("*.dvc")]
    return [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.is_file()]


def watch(root: Path) -> None:
    seen = None
    try:
        while True:
            if (now := fingerprint(root)) != seen:
                seen = now
                print("\033[2J\033[H", end="")  # a clear screen for each new verdict
                report(Lab(root))  # fresh readings: a Lab keeps what it reads
                print("\nWatching the lab: this checks again after each change. Ctrl+C stops.", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        print()
