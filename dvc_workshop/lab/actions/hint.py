"""`workshop hint`: one more hint each time, for the problem the last check found; the hints follow
that problem (a new problem starts its own), and the answer comes last."""

from __future__ import annotations

from dvc_workshop.lab.actions.check import check_steps
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.model.progress import hints_key, update
from dvc_workshop.lab.steps.registry import STEPS


def next_hints(lab: Lab, number: int | None, all_hints: bool) -> list[str]:
    """The lines of `workshop hint`: the hints shown so far for the problem found, and one more
    (every one with `all_hints`); the progress file keeps how many were shown."""
    if number is None:
        verdict = check_steps(lab)
        if verdict.step is None:
            return ["Every step is done: no hint needed. (workshop hint N shows step N's.)"]
        number, problem = verdict.step.number, verdict.problem
    else:
        problem = problem_in(lab, number)
    step = STEPS[number - 1]
    hints = list(
        dict.fromkeys(
            [
                *(
                    [f"for the problem found ({problem.what}): {problem.hint}"]
                    if problem and problem.hint and not problem.hint.startswith("workshop hint")
                    else []
                ),
                *step.hints(lab, problem),
                f"the README's section 'Lab step {number}: {step.title}', step by step "
                f"(workshop solution {number} runs it)",
            ]
        )
    )
    key = hints_key(number, problem and problem.what)
    _, shown = update(lab.root, lambda progress: progress.hints_to_show(key, len(hints), all_hints))
    lines = [f"Lab step {number}, {step.title}{'' if problem else ' (done)'}:"]
    lines += [f"  Hint {index} of {len(hints)}: {text}" for index, text in enumerate(hints[:shown], start=1)]
    if shown < len(hints):
        lines.append(f"Still stuck? workshop hint {number} again shows the next one.")
    return lines


def problem_in(lab: Lab, number: int) -> Problem | None:
    """The problem step `number` has now (None: it is done)."""
    try:
        STEPS[number - 1].check(lab)
    except Problem as problem:
        return problem
    finally:
        lab.stop()
    return None
