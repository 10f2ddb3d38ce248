"""What the lab remembers between two commands, and what it tells the room.

`.git/workshop-progress.json` (inside `.git/`, so git never shows or commits it): the step the
last check stopped at and since when, and how many of each step's hints were shown. In a room
(`workshop start --room`), each check also sends the attendee's record: steps done, the first
problem, time on the step, versions; no file contents, no local paths.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from dvc_workshop.lab.state import Lab

FILE = ".git/workshop-progress.json"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def load(root: Path) -> dict:
    try:
        state = json.loads((root / FILE).read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}  # none yet, or cut short: start afresh


def save(root: Path, state: dict) -> None:
    """Written beside and renamed into place, so a check stopped midway leaves the last one whole."""
    scratch = root / f"{FILE}.tmp"
    try:
        scratch.write_text(json.dumps(state, indent=1))
        scratch.replace(root / FILE)
    except OSError:
        pass  # a read-only lab still gets its check


def hints_shown(root: Path, step: int) -> int:
    return int(load(root).get("hints", {}).get(str(step), 0))


def show_hints(root: Path, step: int, count: int) -> None:
    state = load(root)
    state.setdefault("hints", {})[str(step)] = count
    save(root, state)


def record_check(
    lab: Lab, steps_done: list[int], step: int | None, problem: str | None, hint: str | None
) -> dict:
    """Remember where this check stopped (the time on a step starts when a check first stops
    there) and its problem's hint (`workshop hint` starts with it); return the attendee's record
    for the room."""
    state = load(lab.root)
    if state.get("step") != step or "since" not in state:
        state.update(step=step, since=now())
    state["hint"] = hint
    save(lab.root, state)
    return {
        "name": lab.git("config", "workshop.name"),
        "steps_done": steps_done,
        "step": step,  # the first step not done; None once all are
        "problem": anonymous(problem, lab.root),
        "since": state["since"],
        "updated": now(),
        "versions": versions(),
    }


def anonymous(text: str | None, root: Path) -> str | None:
    """A problem line without this laptop's paths (the lab's folder, the home folder)."""
    if text is None:
        return None
    for folder, name in ((root.parent, ".."), (Path.home(), "~")):
        text = text.replace(str(folder), name)
    return text


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version(), "system": f"{platform.system()} {platform.machine()}"}
    for package in ("dvc", "tensorflow", "tensorflow-cpu"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found
