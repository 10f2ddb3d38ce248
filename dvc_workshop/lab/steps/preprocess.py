"""Lab step 4: the exercise (`standardize`) written, and the preprocess stage as the reference
defines it, run, committed, pushed."""

from __future__ import annotations

from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.exercise import try_standardize
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.steps.entry import Reset, Step, check_stages, stage_hints
from dvc_workshop.places import EXERCISE_FILE, EXERCISE_FUNCTION

STAGES = ("preprocess",)
EXERCISE_HINT = (
    "return the images minus mean, divided by std, as float32 (the model trains in 32-bit floats); "
    "workshop check 4 says when it is right"
)


def check_exercise(lab: Lab) -> None:
    """The exercise: the lab's own function, run from its file on a tiny batch."""
    verdict = try_standardize(lab, lab.root / EXERCISE_FILE)
    if verdict["state"] == "unwritten":
        raise Problem(
            f"{EXERCISE_FUNCTION} in {EXERCISE_FILE} is not written yet",
            f"in {EXERCISE_FILE}: {EXERCISE_HINT}",
        )
    if verdict["state"] == "wrong":
        raise Problem(f"{EXERCISE_FUNCTION} {verdict['message']}", f"in {EXERCISE_FILE}: {EXERCISE_HINT}")
    if verdict["state"] == "error":
        raise Problem(
            f"{EXERCISE_FUNCTION} fails: {EXERCISE_FILE}{verdict['message']}",
            f"python -c 'import dvc_workshop.ml.transforms' shows the whole error; {EXERCISE_HINT}",
        )


def check(lab: Lab) -> None:
    check_exercise(lab)
    check_stages(lab, STAGES)


def hints(lab: Lab, problem: Problem | None) -> list[str]:
    if problem and EXERCISE_FUNCTION in problem.what:
        return [
            "python -m pytest -k standardize runs its tests, each failure with a hint (once the dev "
            "packages are installed: pipenv sync --dev, in the workshop's folder)",
            "the README's lab step 4 shows the answer, in a python block",
        ]
    return stage_hints(STAGES)(lab, problem)


STEP = Step(
    4,
    "The preprocess stage and standardize",
    check,
    hints,
    Reset(stages=STAGES, files=(EXERCISE_FILE, "params.yaml:preprocess")),
)
