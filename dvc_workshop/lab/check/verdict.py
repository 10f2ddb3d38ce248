"""`workshop check`'s answer: a line per step, then the first step not done, its problem and the
command that reaches the step from there. The lab's progress file is told where the check
stopped and, in a room, so is the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dvc_workshop.cli import WorkshopError
from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.exercise import command as exercise_command
from dvc_workshop.lab.repo.exercise import known_right
from dvc_workshop.lab.repo.lab import LAB_MARK, Lab
from dvc_workshop.lab.repo.progress import Progress, room_record
from dvc_workshop.lab.steps.registry import STEPS, Step
from dvc_workshop.places import EXAMPLE_LAB, EXERCISE_FILE

MAKE_ONE = f"pipenv run workshop start ../{EXAMPLE_LAB}, in the workshop's folder, makes one"


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
    if not lab.git("config", LAB_MARK) and not (origin and origin.name.endswith("-origin.git")):
        raise WorkshopError(
            f"{top} is not a lab (the workshop's own repository?): cd to your lab ({MAKE_ONE})"
        )
    return lab


def lab_steps(lab: Lab, through: int | None = None) -> list[Step]:
    """The steps of this lab: every step, or in a room that ends earlier (`room create --steps`),
    up to its end; `through` a later step asked for by name."""
    return STEPS[: max(lab.owner.room_steps or len(STEPS), through or 0)]


def check_steps(lab: Lab, show: bool = True, through: int | None = None) -> Verdict:
    """Each step checked in order (the table printed if `show`); after a step 1 not done (no git
    identity, no buckets) the others are not checked: each of them would fail the same way."""
    verdict = Verdict([], None, None)
    exercise = lab.root / EXERCISE_FILE
    if exercise.is_file() and not known_right(lab, exercise):
        lab.start(*exercise_command(exercise))  # a child process, beside DVC's answers
    try:
        for step in lab_steps(lab, through):
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
        lab.stop()
        if lab.teammate:
            lab.teammate.stop()
    return verdict


def report(lab: Lab, through: int | None = None) -> Verdict:
    """The check as printed; then the progress file and the room (if the lab joined one) are told."""
    verdict = check_steps(lab, through=through)
    steps = lab_steps(lab, through)
    count = f"{len(verdict.done)} of {len(steps)} done."
    step, problem = verdict.step, verdict.problem
    if step is None or problem is None:
        further = f" (Steps {len(steps) + 1} to {len(STEPS)} go further: workshop check {len(STEPS)}.)"
        print(f"\n{count} Every step is done: well done!{further if len(steps) < len(STEPS) else ''}")
    else:
        print(f"\n{count} Next: lab step {step.number}, {step.title}.")
        print(f"Step {step.number}: {problem.what}\nHint: {problem.hint or f'workshop hint {step.number}'}")
    progress = Progress.load(lab.root)
    progress.checked(step and step.number, problem and problem.what, problem and problem.hint)
    progress.save(lab.root)
    try:
        room = lab.room.get("cache")
    except Problem:  # a broken room file: the table above says so
        room = None
    if room and not lab.is_teammate:  # a teammate's clone has the room, not the attendee: it reports nothing
        from dvc_workshop.lab.room.membership import lab_identity
        from dvc_workshop.lab.room.records import report as tell_room

        record = room_record(lab.attendee, progress, verdict.done, lab.root)
        told = tell_room(room, {**record, "lab": lab_identity(lab.root)})
        if told == "taken":
            rejoin = f"workshop room join {room} --name {lab.attendee} --rejoin"
            print(f"(The room at {room} did not get this check: another lab holds the name {lab.attendee} "
                  f"there. If {lab.attendee} is you: {rejoin})")  # fmt: skip
        elif told == "removed":
            join = f"workshop room join {room} --name {lab.attendee}"
            print(f"(The room at {room} no longer lists {lab.attendee}: this check is on your laptop only; "
                  f"to come back: {join})")  # fmt: skip
        elif told == "failed":
            print(f"(The room at {room} did not get this check: it is on your laptop only.)")
    return verdict
