"""`workshop check --watch`: the check again after each change to the lab, or to a folder its steps
work in, on a cleared screen."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from dvc_workshop.lab.actions.check import check
from dvc_workshop.lab.model.fingerprint import file_lines
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.steps.registry import STEPS


def watched(root: Path) -> Callable[[], list[str]]:
    """What a change touches in the lab and the folders its steps work in beside it (the teammate's
    clone, step 12's project) and its origin (a push from either changes the verdict): their files
    and git's, as the check's memo reads them (model/fingerprint.py)."""
    lab = Lab(root)
    beside = [lab.beside(step.folder) for step in STEPS if step.folder]
    return partial(file_lines, root, beside, lab.origin)


def watch(root: Path) -> None:
    seen, reading = None, watched(root)
    try:
        while True:
            if (now := reading()) != seen:
                seen = now
                print("\033[2J\033[H", end="")  # a clear screen for each new verdict
                check(Lab(root), None, partial(print, flush=True))  # a fresh Lab: it keeps what it reads
                print("\nWatching the lab: this checks again after each change. Ctrl+C stops.", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        print()
