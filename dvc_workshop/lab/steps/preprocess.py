"""Lab step 4: the exercise (`standardize`) written, and the preprocess stage as the reference
defines it, run, committed, pushed. `workshop start` lays the exercise: the function's body blank."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from dvc_workshop.lab.mechanisms.entry import Reset, Step, check_stages, stage_hints
from dvc_workshop.lab.mechanisms.exercise import try_standardize
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import EXERCISE_FILE, EXERCISE_FUNCTION
from dvc_workshop.lab.model.problem import Problem

STAGES = ("preprocess",)


def exercise_hint() -> str:
    """What the exercise asks: its check says it, and the TODO `workshop start` leaves in its place."""
    return (
        "return the images minus mean, divided by std, as float32 (the model trains in 32-bit floats); "
        f"workshop check {STEP.number} says when it is right"
    )


def blank_line() -> str:
    """The line a new lab has for the function's body (the README's answer replaces exactly this one)."""
    return (
        f'raise NotImplementedError("{EXERCISE_FUNCTION}: the exercise of lab step {STEP.number} (README)")'
    )


def setup(folder: Path) -> None:
    """The exercise laid in a new lab: the function's body (its docstring kept) replaced by a TODO
    and `blank_line()`."""
    path = folder / EXERCISE_FILE
    source = path.read_text()
    nodes = ast.walk(ast.parse(source))
    (function,) = (node for node in nodes if getattr(node, "name", None) == EXERCISE_FUNCTION)
    first = function.body[1] if ast.get_docstring(function) else function.body[0]
    lines = source.splitlines(keepends=True)
    indent = " " * first.col_offset
    todo = textwrap.wrap(f"TODO(lab step {STEP.number}): {exercise_hint()}.", 90)
    lines[first.lineno - 1 : function.end_lineno] = [f"{indent}# {line}\n" for line in todo] + [
        f"{indent}{blank_line()}\n"
    ]
    path.write_text("".join(lines))


def check_exercise(lab: Lab) -> None:
    """The exercise: the lab's own function, run from its file on a tiny batch."""
    verdict = try_standardize(lab, lab.root / EXERCISE_FILE)
    if verdict["state"] == "unwritten":
        raise Problem(
            f"{EXERCISE_FUNCTION} in {EXERCISE_FILE} is not written yet",
            f"in {EXERCISE_FILE}: {exercise_hint()}",
        )
    if verdict["state"] == "wrong":
        raise Problem(f"{EXERCISE_FUNCTION} {verdict['message']}", f"in {EXERCISE_FILE}: {exercise_hint()}")
    if verdict["state"] == "error":
        raise Problem(
            f"{EXERCISE_FUNCTION} fails: {EXERCISE_FILE}{verdict['message']}",
            f"python -c 'import dvc_workshop.ml.transforms' shows the whole error; {exercise_hint()}",
        )


def check(lab: Lab) -> None:
    check_exercise(lab)
    check_stages(lab, STAGES)


def hints(lab: Lab, problem: Problem | None) -> list[str]:
    if problem and EXERCISE_FUNCTION in problem.what:
        return [
            "python -m pytest -k standardize runs its tests, each failure with a hint (once the dev "
            "packages are installed: pipenv sync --dev, in the workshop's folder)",
            f"the README's lab step {STEP.number} shows the answer, in a python block",
        ]
    return stage_hints(STAGES)(lab, problem)


STEP = Step(
    "The preprocess stage and standardize",
    check,
    hints,
    Reset(stages=STAGES, files=(EXERCISE_FILE, "params.yaml:preprocess")),
    setup=setup,
)
