"""What the lab remembers between two commands, in one file with one writer: `update`.

`.git/workshop-progress.json` (inside `.git/`, so git never shows or commits it): where the last
check stopped, since when, its problem and hint, the hints shown for that problem, and the
exercise's file last found right (so later checks need not run it again). In a room, each check
also sends the attendee's record (`record`): steps done, the first problem, time on the step,
versions; no file contents, no local paths.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from dvc_workshop.lab.model.layout import PROGRESS_FILE

T = TypeVar("T")
PROBLEMS_KEPT = 200  # the problem log's last entries: a day's worth, a record the room reads quickly


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Progress:
    step: int | None = None  # the first step not done at the last check; None once all are
    since: str | None = None  # when a check first stopped at that step
    repeats: int = 0  # checks in a row that failed on this same problem (the room's "stuck")
    problem: str | None = None  # the last check's problem, and its hint
    hint: str | None = None
    hints_shown: dict[str, int] = field(default_factory=dict)  # "STEP:PROBLEM" -> hints shown for it
    exercise_right: str | None = None  # sha256 of the exercise's file, last found right
    done: list[int] = field(default_factory=list)  # the steps done at the last check that could read
    checked_at: str | None = None  # when that check ran
    word_seen: str | None = None  # when the facilitator said the word this lab printed last (room say)
    # The day's history, for the room's report after it (room report): when the first check ran,
    # when a check first found each step done, each problem with when it began and ended, the
    # hands raised (the step each was raised on).
    first_check: str | None = None
    reached: dict[str, str] = field(default_factory=dict)  # "STEP" -> when first found done
    problems_log: list[dict] = field(default_factory=list)  # {step, problem, since, until, checks}
    hands_raised: list[dict] = field(default_factory=list)  # {step, at}

    @classmethod
    def load(cls, root: Path) -> Progress:
        try:
            state = json.loads((root / PROGRESS_FILE).read_text())
        except (OSError, ValueError):
            return cls()  # none yet, or cut short: start afresh
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{key: value for key, value in state.items() if key in known})
        except TypeError:
            return cls()

    def _write(self, root: Path) -> None:
        """Written beside and renamed into place, so a check stopped midway leaves the last one whole."""
        scratch = root / f"{PROGRESS_FILE}.tmp"
        try:
            scratch.write_text(json.dumps(asdict(self), indent=1))
            scratch.replace(root / PROGRESS_FILE)
        except OSError:
            pass  # a read-only lab still gets its check

    def hints_to_show(self, key: str, count: int, all_hints: bool) -> int:
        """One more of `count` hints for the problem `key` each time (all at once with `all_hints`);
        another problem starts its own count."""
        shown = count if all_hints else min(self.hints_shown.get(key, 0) + 1, count)
        self.hints_shown = {key: shown}
        return shown

    def checked(self, done: list[int], step: int | None, problem: str | None, hint: str | None) -> None:
        """Where a check stopped: the time on a step starts when a check first stops there; the
        day's history grows (a step first found done, a problem begun or ended)."""
        self.done, self.checked_at = done, now()
        self.first_check = self.first_check or self.checked_at
        for number in done:
            self.reached.setdefault(str(number), self.checked_at)
        self.log_problem(step, problem)
        same = self.step == step and self.problem == problem and problem is not None
        self.repeats = self.repeats + 1 if same else int(problem is not None)
        if self.step != step or self.since is None:
            self.step, self.since = step, now()
        self.problem, self.hint = problem, hint

    def log_problem(self, step: int | None, problem: str | None) -> None:
        """The problem log: the same problem counts one more check; another closes the last."""
        last = self.problems_log[-1] if self.problems_log else None
        if last and last["until"] is None and (last["step"], last["problem"]) == (step, problem):
            last["checks"] += 1
            return
        if last and last["until"] is None:
            last["until"] = self.checked_at
        if problem is not None:
            began = {"step": step, "problem": problem, "since": self.checked_at, "until": None, "checks": 1}
            self.problems_log.append(began)
            del self.problems_log[:-PROBLEMS_KEPT]


def update(root: Path, change: Callable[[Progress], T]) -> tuple[Progress, T]:
    """The one writer of the lab's progress file: read it, apply `change`, write it back whole.
    Returns the progress as written and what `change` returned."""
    progress = Progress.load(root)
    result = change(progress)
    progress._write(root)
    return progress, result


def hints_key(step: int, problem: str | None) -> str:
    return f"{step}:{problem or ''}"


def room_record(name: str, progress: Progress, steps_done: list[int], root: Path) -> dict:
    """The attendee's record for the room: no file contents, no local paths."""
    log = progress.problems_log
    return {
        "name": name,
        "steps_done": steps_done,
        "step": progress.step,
        "problem": anonymous(progress.problem, root),
        "since": progress.since,
        "repeats": progress.repeats,
        "first_check": progress.first_check,
        "reached": progress.reached,
        "problems_log": [{**entry, "problem": anonymous(entry["problem"], root)} for entry in log],
        "hands_raised": progress.hands_raised,
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
