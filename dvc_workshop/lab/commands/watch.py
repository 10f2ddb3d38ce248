"""`workshop check --watch`: the check again after each change to the lab, or to a folder its steps
work in, on a cleared screen."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from dvc_workshop.lab.actions.check import check
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.steps.registry import STEPS

WATCHED = ("dvc.yaml", "dvc.lock", "params.yaml", ".dvc/config", ".gitignore")


def watched_folders(root: Path) -> list[Path]:
    """The lab and the folders its steps work in beside it (the teammate's clone, step 12's
    project), and its origin (a push from either changes the verdict)."""
    lab = Lab(root)
    return [root, *(lab.beside(step.folder) for step in STEPS if step.folder), *filter(None, [lab.origin])]


def fingerprint(folders: list[Path]) -> list[tuple[str, int, int]]:
    """What a change in those folders touches: git's HEAD, index, refs and the files of an
    operation under way (a merge, a rebase), the pipeline files, the code, the .dvc files; not
    what the check writes itself (its progress file) nor git's passing locks."""
    paths = []
    for folder in folders:
        git = folder / ".git" if (folder / ".git").is_dir() else folder  # a bare origin is its git folder
        paths += [folder / name for name in WATCHED]
        own = [p for p in git.glob("*") if not p.name.startswith("workshop-") and p.suffix != ".lock"]
        paths += [*own, *(git / "refs").rglob("*"), *(folder / "dvc_workshop").rglob("*.py")]
        paths += [*folder.glob("*.dvc")]
    return [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.exists()]


def watch(root: Path) -> None:
    seen, folders = None, watched_folders(root)
    try:
        while True:
            if (now := fingerprint(folders)) != seen:
                seen = now
                print("\033[2J\033[H", end="")  # a clear screen for each new verdict
                check(Lab(root), None, partial(print, flush=True))  # a fresh Lab: it keeps what it reads
                print("\nWatching the lab: this checks again after each change. Ctrl+C stops.", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        print()
