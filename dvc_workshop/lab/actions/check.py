"""`workshop check`'s answer: a line per step, then the first step not done, its problem and the
command that reaches the step from there. The lab's progress file is told where the check
stopped and, in a room, so is the room. Nothing here prints: each line goes to the command's
`on_line` as soon as it is known (a step's line as its check ends), and the command prints it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.actions.check_memo import fingerprint, memo_time, recall, remember
from dvc_workshop.lab.actions.check_place import answering_for, from_here, shell_has
from dvc_workshop.lab.mechanisms.exercise import command as exercise_command
from dvc_workshop.lab.mechanisms.exercise import known_right
from dvc_workshop.lab.mechanisms.health import health_problem
from dvc_workshop.lab.model.lab import Lab, start_commit
from dvc_workshop.lab.model.layout import EXERCISE_FILE
from dvc_workshop.lab.model.problem import Problem, UnderWay, Unreadable
from dvc_workshop.lab.model.progress import Progress, room_record, update
from dvc_workshop.lab.steps.registry import STEPS, Step


@dataclass
class Verdict:
    done: list[int]  # the step numbers done
    step: Step | None  # the first step not done
    problem: Problem | None  # what is wrong in it
    health: Problem | None = None  # what is wrong whatever the step (then also the problem)


def lab_steps(lab: Lab, through: int | None = None) -> list[Step]:
    """The steps of this lab: every step, or in a room that ends earlier (`room create --steps`),
    up to its end; `through` a later step asked for by name."""
    return STEPS[: max(lab.attendee_lab.room_steps or len(STEPS), through or 0)]


def check_steps(
    lab: Lab, through: int | None = None, on_line: Callable[[str], None] | None = None
) -> Verdict:
    """Each step checked in order (the table's line for each to `on_line`, if given, as it ends);
    after a step 1 not done (no git identity, no buckets) the others are not checked: each of them
    would fail the same way. The lab's health (mechanisms/health.py) comes first: where git or
    DVC's files are not in order, that is the problem, at the first step not done (or the last);
    while a git operation is under way, the steps are where the last check found them."""
    health = health_problem(lab)
    if isinstance(health, UnderWay):
        return as_last_found(lab, lab_steps(lab, through), health, on_line)
    exercise = lab.root / EXERCISE_FILE
    if exercise.is_file() and not known_right(lab, exercise):
        lab.start_early(*exercise_command(exercise))  # a child process, beside DVC's answers
    verdict = Verdict([], None, None, health)
    known = Progress.load(lab.root).done  # what the last check that could read found
    try:
        for step in lab_steps(lab, through):
            if verdict.step and verdict.step.number == 1:
                state = last_state(step, known) if isinstance(verdict.problem, Unreadable) else "not checked"
            else:
                try:
                    step.check(lab)
                    state = "done"
                    verdict.done.append(step.number)
                except Problem as problem:
                    state = last_state(step, known) if isinstance(problem, Unreadable) else "not done"
                    if verdict.step is None:
                        verdict.step, verdict.problem = step, problem
            if on_line:
                on_line(f"{step.number:>2}  {step.title:<40} {state}")
    finally:
        lab.stop()
        if lab.teammate:
            lab.teammate.stop()
    if verdict.health:
        verdict.step, verdict.problem = verdict.step or lab_steps(lab, through)[-1], verdict.health
    return verdict


def last_state(step: Step, known: list[int]) -> str:
    """A step's line where this check could not read it (the emulator down): as the last found it."""
    return f"{'done' if step.number in known else 'not done'} (at the last check)"


def as_last_found(
    lab: Lab, steps: list[Step], health: Problem, on_line: Callable[[str], None] | None
) -> Verdict:
    """The verdict while git has an operation under way: the files are between two states, so no
    step is compared with them; the steps are as the last check found them, and so is the step
    the attendee is on (their time on it goes on), the operation its problem."""
    known = Progress.load(lab.root)
    done = [step.number for step in steps if step.number in known.done]
    for step in steps:
        if on_line:
            on_line(f"{step.number:>2}  {step.title:<40} {last_state(step, done)}")
    first = next((s for s in steps if s.number not in done), steps[-1])
    return Verdict(done, next((s for s in steps if s.number == known.step), first), health, health)


def check(lab: Lab, through: int | None, on_line: Callable[[str], None], typed_here: bool = True) -> Verdict:
    """The check, its lines said through `on_line` as they come; then the progress file and the
    room (if the lab joined one) are told, and a line says if the room did not get it. Where
    nothing the check reads changed since the last one, its verdict is that one's (check_memo.py).
    `typed_here`: False for --watch, whose hints are typed in another terminal."""
    from dvc_workshop.lab.actions.membership import follow_room_length

    lab, which = answering_for(lab, through)
    if which:
        on_line(which)
    if said := follow_room_length(lab):  # the facilitator's room create --steps, since the lab joined
        on_line(said)
    steps = lab_steps(lab, through)
    key = fingerprint(lab, through)
    if memo := recall(lab, key):
        verdict = remembered(memo, on_line)
    else:
        table: list[str] = []
        verdict = check_steps(lab, through, lambda line: (table.append(line), on_line(line)))
        remember(lab, through, key, kept(verdict, table))
    count = f"{len(verdict.done)} of {len(steps)} done."
    step, problem = verdict.step, verdict.problem
    if step and isinstance(problem, Unreadable):  # a failed read says nothing of the lab: nothing recorded
        known = last_known(lab, len(steps))
        on_line(f"\nThis check could not read the lab's state ({known}): it records nothing, in the lab or "
                f"the room.\nStep {step.number}: {problem.what}\nHint: {problem.hint}")  # fmt: skip
        return verdict
    if step is None or problem is None:
        further = f" (Steps {len(steps) + 1} to {len(STEPS)} go further: workshop check {len(STEPS)}.)"
        on_line(f"\n{count} Every step is done: well done!{further if len(steps) < len(STEPS) else ''}")
    else:
        if step.number in verdict.done:  # every step done, and the repository not in order (health)
            on_line(f"\n{count} But the lab is not in order, whatever the step:")
        else:
            on_line(f"\n{count} Next: lab step {step.number}, {step.title}.")
        hint = from_here(lab, problem.hint) if problem.hint else f"workshop hint {step.number}"
        if typed_here and problem.hint and re.search(r"(^|&& )dvc ", hint) and not shell_has("dvc"):
            on_line("(The shell you typed this in has no dvc on its PATH (pipenv run workshop check?): "
                    "type pipenv shell there first, then the hint.)")  # fmt: skip
        on_line(f"Step {step.number}: {problem.what}\nHint: {hint}")
    progress, _ = update(
        lab.root,
        lambda progress: progress.checked(
            verdict.done, step and step.number, problem and problem.what, problem and problem.hint
        ),
    )
    try:
        room = lab.room.get("cache")
    except Problem:  # a broken room file: the table above says so
        room = None
    if room and not lab.is_teammate:  # a teammate's clone has the room, not the attendee: it reports nothing
        from dvc_workshop.lab.actions.hands import after_check
        from dvc_workshop.lab.actions.membership import lab_identity, laptop_identity
        from dvc_workshop.lab.model.records import send_record

        record = {**room_record(lab.attendee, progress, verdict.done, lab.root), "started": started_at(lab),
                  "lab": lab_identity(lab.root), "laptop": laptop_identity()}  # fmt: skip
        told = send_record(room, record)
        if told == "taken":
            rejoin = f"workshop room join {room} --name {lab.attendee} --rejoin"
            on_line(f"(The room at {room} did not get this check: another lab holds the name {lab.attendee} "
                    f"there. If {lab.attendee} is you: {rejoin})")  # fmt: skip
        elif told == "removed":
            join = f"workshop room join {room} --name {lab.attendee}"
            on_line(f"(The room at {room} no longer lists {lab.attendee}: this check is on your laptop only; "
                    f"to come back: {join})")  # fmt: skip
        elif told == "failed":
            on_line(f"(The room at {room} did not get this check: it is on your laptop only.)")
        for line in after_check(lab, room, step and step.number):
            on_line(line)
    return verdict


def started_at(lab: Lab) -> str | None:
    """When the lab was made (its first commit, `workshop start`'s): the day's start for its attendee."""
    try:
        return lab.git_output("log", "-1", "--format=%cI", start_commit(lab)) or None
    except WorkshopError:
        return None


def kept(verdict: Verdict, table: list[str]) -> dict | None:
    """A verdict and its table as the memo keeps them; None for one it does not (a failed read, an
    operation under way: those depend on more than the lab's files)."""
    if any(p is not None and type(p) is not Problem for p in (verdict.problem, verdict.health)):
        return None
    said = {"problem": verdict.problem, "health": verdict.health}
    return {
        "table": table,
        "done": verdict.done,
        "step": verdict.step and verdict.step.number,
        **{key: problem and [problem.what, problem.hint] for key, problem in said.items()},
    }


def remembered(memo: dict, on_line: Callable[[str], None]) -> Verdict:
    """The memo's verdict, its table said as the check said it, and since when it holds."""
    for line in memo["table"]:
        on_line(line)
    on_line(f"(Nothing has changed since the check at {memo_time(memo)}: the same answer.)")
    problems = [memo[key] and Problem(*memo[key]) for key in ("problem", "health")]
    return Verdict(memo["done"], memo["step"] and STEPS[memo["step"] - 1], *problems)


def last_known(lab: Lab, steps: int) -> str:
    """What the last check that could read the lab found, and when (the progress file's)."""
    known = Progress.load(lab.root)
    if not known.checked_at:
        return "no check has read it yet"
    at = datetime.fromisoformat(known.checked_at).astimezone()
    return f"the last that could, at {at:%H:%M}, found {len(known.done)} of {steps} done"
