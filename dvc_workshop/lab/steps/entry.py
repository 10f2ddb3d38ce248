"""What one step of the lab is, in one entry: its title, the check that compares a lab with what
the step asks, the hints on request, how to put it back, and its answer (the README's section).

Shared mechanisms serve every entry: a stage compared with its target (`stage_target.py`), its
data run, committed and pushed (`data_state.py`), a reset (`repo/reset.py`), the answer run with
the lab's own names (`repo/solution.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.steps.data_state import (
    check_committed,
    check_params,
    check_pushed,
    check_ran,
    check_workspace,
)
from dvc_workshop.lab.steps.stage_target import OUTPUT_FLAGS, check_definition, command_words, target


@dataclass(frozen=True)
class Reset:
    """What a step adds, to be taken back by `workshop reset N` (one mechanism for every step)."""

    stages: tuple[str, ...] = ()  # out of dvc.yaml and dvc.lock, with what DVC wrote for them
    files: tuple[str, ...] = ()  # back to the start commit's (a params.yaml section: "params.yaml:NAME")
    undo: Callable[[Lab], None] | None = None  # git and DVC state: tags, hooks, a clone, experiments
    nothing: str | None = None  # why there is nothing to put back, where there is not


@dataclass(frozen=True)
class Step:
    number: int
    title: str  # the README's heading "Lab step <number>: <title>": its answer is that section
    check: Callable[[Lab], None]  # returns when the lab is as the step asks; else raises Problem
    hints: Callable[[Lab, Problem | None], list[str]]  # on request, after the problem's own
    reset: Reset = field(default_factory=Reset)


def check_stages(lab: Lab, names: tuple[str, ...], reveal: bool = True) -> None:
    """Stages as their targets define them, run, their data here, committed and pushed (`reveal`:
    a missing stage's hint is its whole line)."""
    stages = [check_definition(lab, name, reveal) for name in names]
    for stage in stages:
        check_params(lab, stage)
    for stage in stages:
        check_ran(lab, stage.name)
    for stage in stages:
        check_workspace(lab, stage.name)
    for stage in stages:
        check_committed(lab, stage.name, stage)
    for stage in stages:
        check_pushed(lab, list(stage.outs))


def stage_hints(names: tuple[str, ...]) -> Callable[[Lab, Problem | None], list[str]]:
    """Hints drawn from the stages' targets: the command, the inputs, the parameters, the outputs,
    then the whole line; after a first run, how to commit and push."""

    def hints(lab: Lab, problem: Problem | None) -> list[str]:
        found = []
        for name in names:
            want = target(lab, name)
            if name in lab.stages and problem and f"stage {name}" not in problem.what:
                continue
            module = command_words(want.command)[0][-1]  # python -m MODULE
            found += [
                f"stage {name} runs: {want.command} (python -m {module} --help lists its options)",
                f"its inputs (-d): {' '.join(want.deps)}; a folder stands for every file in it",
                f"its parameters: {' '.join(f'-p {p}' for p in want.params) or 'none (no -p)'}",
                "its outputs: "
                + " ".join(
                    f"{OUTPUT_FLAGS[kind][0 if cached else 1]} {path}"
                    for path, (kind, cached) in want.outs.items()
                ),
                f"the whole line: {want.add_command()}",
            ]
        return [
            *found,
            "then: dvc repro, git add what git status lists (dvc.yaml, dvc.lock, the .gitignore files), "
            "git commit, dvc push",
        ]

    return hints


def fixed(*texts: str) -> Callable[[Lab, Problem | None], list[str]]:
    """Hints that do not depend on the state found (explanations, not commands)."""
    return lambda lab, problem: list(texts)
