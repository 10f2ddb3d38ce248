"""`workshop hint`: one more hint each time, for the problem the last check found; the hints follow
that problem (a new problem starts its own), and the answer comes last."""

from __future__ import annotations

from dvc_workshop.lab.check.verdict import check_steps
from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.repo.progress import Progress, hints_key
from dvc_workshop.lab.steps.registry import STEPS


def show_hint(lab: Lab, number: int | None, all_hints: bool) -> None:
    if number is None:
        verdict = check_steps(lab, show=False)
        if verdict.step is None:
            print("Every step is done: no hint needed. (workshop hint N shows step N's.)")
            return
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
    progress = Progress.load(lab.root)
    key = hints_key(number, problem and problem.what)
    shown = len(hints) if all_hints else min(progress.hints_shown.get(key, 0) + 1, len(hints))
    progress.hints_shown = {key: shown}  # another problem starts its own hints
    progress.save(lab.root)
    print(f"Lab step {number}, {step.title}{'' if problem else ' (done)'}:")
    for index, text in enumerate(hints[:shown], start=1):
        print(f"  Hint {index} of {len(hints)}: {text}")
    if shown < len(hints):
        print(f"Still stuck? workshop hint {number} again shows the next one.")


def problem_in(lab: Lab, number: int) -> Problem | None:
    """The problem step `number` has now (None: it is done)."""
    try:
        STEPS[number - 1].check(lab)
    except Problem as problem:
        return problem
    finally:
        lab.stop()
    return None
