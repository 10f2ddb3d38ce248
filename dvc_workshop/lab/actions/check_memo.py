"""The check's memo: its last verdict, with the fingerprint of everything it read then
(model/fingerprint.py), in the lab's .git folder. A check that finds the same fingerprint answers
with that verdict in a fraction of a second, instead of asking DVC again (about two seconds, more
on a busy laptop): an attendee checks again and again while nothing changed, and so does a test.

A verdict is remembered only where it is sure: the lab read the same before and after the check
(nothing changed while it read), the remote is the emulator (whose listing is part of the
fingerprint; real GCS's would need an account), and the answer is a plain verdict, not a failed
read nor a git operation under way. It is forgotten after MAX_AGE whatever the fingerprint says.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dvc_workshop.lab.model.fingerprint import digest, file_lines, remote_lines, shell_lines
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import CHECK_MEMO_FILE
from dvc_workshop.lab.steps.registry import STEPS

MAX_AGE = timedelta(minutes=10)
SETTINGS = (".dvc/config", ".dvc/config.local", "params.yaml", "workshop-room.yaml")  # where bucket URLs are


def repositories(lab: Lab) -> list[Path]:
    """The lab a check reads (itself, or the lab a teammate's clone belongs to) and the folders
    its steps make beside it."""
    return [lab.attendee_lab.root, *(lab.beside(step.folder) for step in STEPS if step.folder)]


def lab_files(lab: Lab) -> list[str]:
    """The stat lines of `lab`, the other repositories, and its origin (`check --watch` reads them
    every second)."""
    return file_lines(lab.root, [folder for folder in repositories(lab) if folder != lab.root], lab.origin)


def fingerprint(lab: Lab, through: int | None) -> str | None:
    """What the check reads of `lab` (and of the lab it belongs to, the folders beside it, its
    origin), as one digest; None where the remote is not the emulator's."""
    remote = remote_lines(folder / name for folder in repositories(lab) for name in SETTINGS)
    if remote is None:
        return None
    return digest([f"check {through}", *lab_files(lab), *shell_lines(), *remote])


def recall(lab: Lab, key: str | None) -> dict | None:
    """The last verdict, where it was taken on the same fingerprint less than MAX_AGE ago."""
    if key is None:
        return None
    try:
        memo = json.loads((lab.root / CHECK_MEMO_FILE).read_text())
        taken = datetime.fromisoformat(memo["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fresh = timedelta(0) <= datetime.now(timezone.utc) - taken <= MAX_AGE
    whole = {"table", "done", "step", "problem", "health"} <= memo.keys()
    return memo if memo.get("key") == key and fresh and whole else None


def remember(lab: Lab, through: int | None, key: str | None, verdict: dict | None) -> None:
    """The verdict kept for the next check, where the lab still reads as `key` (nothing changed
    while the check read it); otherwise any memo forgotten."""
    path = lab.root / CHECK_MEMO_FILE
    if key is None or verdict is None or fingerprint(lab, through) != key:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return
    memo = {"key": key, "at": datetime.now(timezone.utc).isoformat(), **verdict}
    with contextlib.suppress(OSError):  # no memo (a .git that is a file, a full disk): the next check reads
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name, delete=False) as stream:
            json.dump(memo, stream)
        os.replace(stream.name, path)  # whole or not at all: a check beside it reads the old or the new


def memo_time(memo: dict) -> str:
    return f"{datetime.fromisoformat(memo['at']).astimezone():%H:%M:%S}"
