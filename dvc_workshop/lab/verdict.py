"""`workshop check`'s answer: a line per step, then the first step not done, its problem and a hint.

It also tells the lab's progress file where the check stopped and, in a room, tells the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dvc_workshop.cli import WorkshopError
from dvc_workshop.lab import progress
from dvc_workshop.lab.checks import EXERCISE
from dvc_workshop.lab.exercise import command as exercise_command
from dvc_workshop.lab.exercise import known_right
from dvc_workshop.lab.state import Lab, Problem
from dvc_workshop.lab.steps import STEPS, Step

MAKE_ONE = "pipenv run workshop start ../my-lab, in the workshop's folder, makes one"


@dataclass
class Verdict:
    done: list[int]  # the step numbers done
    step: Step | None  # the first step not done
    problem: Problem | None  # what is wrong in it


def find_lab(folder: Path) -> Lab:
    """The lab that `folder` is in (its root, or any folder inside it), or a line saying where it is."""
    folder = folder.resolve()
    top = next((f for f in (folder, *folder.parents) if (f / ".git").exists()), None)
    if top is None:
        raise WorkshopError(f"{folder} is in no git repository: cd to your lab ({MAKE_ONE})")
    lab = Lab(top)
    origin = lab.origin
    if not lab.git("config", "workshop.reference") and not (origin and origin.name.endswith("-origin.git")):
        raise WorkshopError(
            f"{top} is not a lab (the workshop's own repository?): cd to your lab ({MAKE_ONE})"
        )
    return lab


def check_steps(lab: Lab, show: bool = True) -> Verdict:
    """Each step checked in order (the table printed if `show`); after a step 1 not done (no git
    identity, no buckets) the others are not checked: each of them would fail the same way."""
    verdict = Verdict([], None, None)
    labs = [lab, *([lab.teammate] if lab.teammate else [])]
    for each in labs:  # DVC's answers and the exercise's, all started at once: most of a check's time
        each.start_dvc_status(cloud=each is lab)
    if (lab.root / EXERCISE).is_file() and not known_right(lab, lab.root / EXERCISE):
        lab.start(*exercise_command(lab.root / EXERCISE))
    try:
        for step in STEPS:
            if verdict.step and verdict.step.number == 1:
                state = "not checked"
            else:
                try:
                    step.check(lab)
                    state = "done"
                    verdict.done.append(step.number)
                except Problem as problem:
                    state = "not done"
                    if verdict.step is None:
                        verdict.step, verdict.problem = step, problem
            if show:
                print(f"{step.number:>2}  {step.title:<40} {state}", flush=True)
    finally:
        for each in labs:
            each.stop()
    return verdict


def report(lab: Lab) -> Verdict:
    """The check as printed; then the progress file and the room (if the lab joined one) are told."""
    verdict = check_steps(lab)
    count = f"{len(verdict.done)} of {len(STEPS)} done."
    if verdict.step is None:
        print(f"\n{count} Every step is done: well done!")
    else:
        step, problem = verdict.step, verdict.problem
        hint = problem.hint or f"workshop hint {step.number} (one hint at a time)"
        print(f"\n{count} Next: lab step {step.number}, {step.title}.")
        print(f"Step {step.number}: {problem.what}\nHint: {hint}")
    problem = verdict.problem
    record = progress.record_check(
        lab,
        verdict.done,
        verdict.step and verdict.step.number,
        problem and problem.what,
        problem and problem.hint,
    )
    try:
        room = lab.room.get("cache")
    except Problem:  # a broken room file: the table above says so
        room = None
    if room and record["name"]:  # a teammate's clone has the room, not the name: it reports nothing
        from dvc_workshop.lab.room import report as tell_room

        if not tell_room(room, record):
            print(f"(The room at {room} did not get this check: it is on your laptop only.)")
    return verdict
