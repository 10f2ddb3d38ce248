"""`workshop check --watch`: the check again after each change to the lab, or to a folder its steps
work in, on a cleared screen."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from dvc_workshop.lab.actions.check import check
from dvc_workshop.lab.actions.check_memo import lab_files
from dvc_workshop.lab.commands.stopping import stop_on_signals
from dvc_workshop.lab.model.lab import Lab


def watch(root: Path) -> None:
    seen, reading = None, partial(lab_files, Lab(root))  # the lab, the folders beside it, its origin
    stop_on_signals()
    try:
        while True:
            if (now := reading()) != seen:
                seen = now
                print("\033[2J\033[H", end="")  # a clear screen for each new verdict
                check(Lab(root), None, partial(print, flush=True), typed_here=False)  # a fresh Lab each time
                print("\nWatching the lab: this checks again after each change. Ctrl+C stops.", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        print()
