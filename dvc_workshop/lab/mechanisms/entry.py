"""What one step of the lab is, in one entry: its title, what `workshop start` lays for it, the
check that compares a lab with what the step asks, the hints on request, how to put it back, the
folder it makes beside the lab, and its answer (the README's section). Its number is none of
these: it is the entry's place in `steps/registry.py`, which `register` records (`Step.number`).

Shared mechanisms serve every entry: a stage compared with its target (`stage_target.py`), its
data run, committed and pushed (`data_state.py`); every entry is put back by one reset
(`actions/reset.py`), and its answer run with the lab's own names (`actions/solution.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dvc_workshop.lab.mechanisms.data_state import (
    check_committed,
    check_params,
    check_pushed,
    check_ran,
    check_workspace,
)
from dvc_workshop.lab.mechanisms.stage_target import OUTPUT_FLAGS, check_definition, command_words, target
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem


@dataclass(frozen=True)
class Reset:
    """What a step adds, to be taken back by `workshop reset N` (one mechanism for every step)."""

    stages: tuple[str, ...] = ()  # out of dvc.yaml and dvc.lock, with what DVC wrote for them
    files: tuple[str, ...] = ()  # back to the start commit's (a params.yaml section: "params.yaml:NAME")
    # git and DVC state: tags, hooks, a clone, experiments; it yields a line per thing done, as done
    undo: Callable[[Lab], Iterator[str]] | None = None
    nothing_to_put_back: str | None = None  # why there is nothing to put back, where there is not


@dataclass(frozen=True, eq=False)
class Step:
    title: str  # the README's heading "Lab step <number>: <title>": its answer is that section
    check: Callable[[Lab], None]  # returns when the lab is as the step asks; else raises Problem
    hints: Callable[[Lab, Problem | None], list[str]]  # on request, after the problem's own
    reset: Reset = field(default_factory=Reset)
    setup: Callable[[Path], None] | None = None  # what `workshop start` lays for it in a new lab's folder
    folder: str | None = None  # the folder it makes beside the lab: the lab's name and this ("-report")

    @property
    def number(self) -> int:
        """Its place in the registry, from 1: the one source of the number every message says."""
        for number, step in enumerate(ORDER, 1):
            if step is self:
                return number
        raise LookupError(f"the step {self.title!r} is not in steps/registry.py")

    def folder_at(self, lab: Lab) -> Path:
        """The step's folder beside `lab` (or beside the lab a teammate's clone belongs to)."""
        if self.folder is None:
            raise LookupError(f"the step {self.title!r} makes no folder beside the lab")
        return lab.beside(self.folder)


ORDER: list[Step] = []  # the registry's order, recorded once by `register` (a step's number is its place)


def register(steps: list[Step]) -> list[Step]:
    """The registry's steps, in its order, recorded as the steps' numbers (steps/registry.py calls
    this; an entry says another step's number through that step's entry, never a literal)."""
    ORDER[:] = steps
    return ORDER


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


def explanations(*texts: str) -> Callable[[Lab, Problem | None], list[str]]:
    """Hints that do not depend on the state found (explanations, not commands)."""
    return lambda lab, problem: list(texts)
