"""A stage compared with its target, the reference's own `dvc.yaml` entry: the first difference
named, and the hint that reaches the target from there, the target's own `dvc stage add -f` line
plus the clean-up of what DVC left behind (a `.gitignore` line of an output that is no more, a
`.dvc` file where the stage writes).
"""

from __future__ import annotations

import difflib
import posixpath
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dvc_workshop.lab.mechanisms.module_imports import listed, modules_run_by
from dvc_workshop.lab.model import yaml_text
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem

# dvc stage add's flag for each kind of output, cached or not (`cache: false`).
OUTPUT_FLAGS = {"outs": ("-o", "-O"), "metrics": ("-m", "-M"), "plots": ("--plots", "--plots-no-cache")}


@dataclass(frozen=True)
class Stage:
    """One stage of a dvc.yaml, as `dvc stage add` would be told it."""

    name: str
    command: str
    deps: tuple[str, ...]
    params: tuple[str, ...]  # params.yaml's sections or keys (`-p train`, `-p train.epochs`)
    outs: dict[str, tuple[str, bool]]  # path -> (kind: outs, metrics or plots; cached)

    @classmethod
    def read(cls, name: str, stage: dict) -> Stage:
        command = stage.get("cmd", "")
        params: list[str] = []
        for entry in stage.get("params", []) or []:
            files = {"params.yaml": [entry]} if isinstance(entry, str) else entry
            params += [
                key if file == "params.yaml" else f"{file}:{key}"
                for file, keys in files.items()
                for key in keys or []
            ]
        outs = {}
        for kind in OUTPUT_FLAGS:
            for entry in stage.get(kind, []) or []:
                path, options = next(iter(entry.items())) if isinstance(entry, dict) else (str(entry), {})
                outs[str(path)] = (kind, bool((options or {}).get("cache", True)))
        return cls(
            name,
            " ".join(command) if isinstance(command, list) else " ".join(str(command).split()),
            tuple(str(dep) for dep in stage.get("deps", []) or []),
            tuple(params),
            outs,
        )

    def add_command(self) -> str:
        """The `dvc stage add -f` line that defines this stage (`-f`: it replaces one of that name)."""
        args = ["dvc", "stage", "add", "-f", "-n", self.name]
        args += [part for param in self.params for part in ("-p", param)]
        args += [part for dep in self.deps for part in ("-d", dep)]
        for path, (kind, cached) in self.outs.items():
            args += [OUTPUT_FLAGS[kind][0 if cached else 1], path]
        return f"{shlex.join(args)} {shlex.join(shlex.split(self.command))}"

    def cached_outputs(self) -> list[str]:
        return [path for path, (_, cached) in self.outs.items() if cached]


@cache
def reference_stages(reference: Path) -> dict[str, dict]:
    return yaml_text.load((reference / "dvc.yaml").read_text())["stages"]


def target(lab: Lab, name: str) -> Stage:
    """What the step asks of stage `name`: the reference's own dvc.yaml entry."""
    return Stage.read(name, reference_stages(lab.reference)[name])


def overlaps(a: str, b: str) -> bool:
    a, b = a.rstrip("/"), b.rstrip("/")
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def check_overlaps(lab: Lab, name: str) -> None:
    """No `.dvc` file tracks what stage `name` writes: DVC refuses outputs that overlap."""
    want = target(lab, name)
    for dvc_file, tracked in lab.dvc_files.items():  # DVC refuses outputs that overlap
        for path in tracked:
            if any(overlaps(path, out) for out in want.outs):
                raise Problem(
                    f"{dvc_file} tracks {path}, where stage {name} writes: a stage's outputs need no dvc add",
                    f"dvc remove {dvc_file} && {want.add_command()}",
                )


def check_definition(lab: Lab, name: str, reveal: bool = True) -> Stage:
    """Stage `name` in dvc.yaml as its target defines it, or a Problem naming the first difference.
    Where writing the stage is the exercise (not `reveal`), a missing one gets no line: `workshop
    hint` gives it a piece at a time."""
    check_overlaps(lab, name)
    want = target(lab, name)
    if name not in lab.stages:
        near = difflib.get_close_matches(
            name, [s for s in lab.stages if s not in reference_stages(lab.reference)], 1
        )
        if near:
            raise Problem(
                f"dvc.yaml has no stage {name}, but a stage {near[0]}: a typo?",
                f"sed -i.bak 's/^  {near[0]}:/  {name}:/' dvc.yaml && rm dvc.yaml.bak",
            )
        raise Problem(f"dvc.yaml has no stage {name}", want.add_command() if reveal else None)
    have = Stage.read(name, lab.stages[name])
    difference = first_difference(lab, have, want)
    if difference:
        raise Problem(f"stage {name} {difference}", repair(lab, have, want))
    return have


def first_difference(lab: Lab, have: Stage, want: Stage) -> str | None:
    """What differs first, in the order the attendee wrote it: command, inputs, parameters, outputs."""
    ran, asked = command_words(have.command), command_words(want.command)
    if ran[0] != asked[0]:
        return f"runs {' '.join(ran[0]) or 'no command'}, not {' '.join(asked[0])}"
    for option, value in asked[1].items():
        if ran[1].get(option) != value:
            found = f"{option} {ran[1][option]}" if option in ran[1] else f"no {option}"
            return f"runs its command with {found}, not {option} {value}"
    for dep in want.deps:
        if not listed(dep, list(have.deps)):
            near = difflib.get_close_matches(dep, [d for d in have.deps if d not in want.deps], 1, 0.8)
            if near:
                return f"lists {near[0]}, not {dep} (a typo?), as a dependency"
            return f"does not list {dep} as a dependency: a change to it would not rerun the stage"
    module = asked[0][-1] if asked[0] else ""
    for path in sorted(modules_run_by(lab.root, module)):
        if not listed(path, list(have.deps)):
            return f"does not list {path} as a dependency: a change to it would not rerun the stage"
    for dep in have.deps:
        if dep not in want.deps and not dep.startswith("${") and not (lab.root / dep).exists():
            return f"lists {dep}, which does not exist, as a dependency"
    for param in want.params:
        if param not in have.params:
            return f"does not list its parameters (-p {param}): a change to {param} would not rerun it"
    for path, (kind, cached) in want.outs.items():
        flag = OUTPUT_FLAGS[kind][0 if cached else 1]
        if path in have.outs and have.outs[path] != (kind, cached):
            had_kind, had_cached = have.outs[path]
            had = OUTPUT_FLAGS[had_kind][0 if had_cached else 1]
            return f"declares {path} with {had}, not {flag}{WHY.get(flag, '')}"
        if path not in have.outs:
            over = [out for out in have.outs if overlaps(out, path)]
            if over:
                return f"declares {over[0]}, not {path}, as an output (DVC would track all of {over[0]})"
            near = difflib.get_close_matches(path, [out for out in have.outs if out not in want.outs], 1, 0.8)
            if near:  # never a right output of the target, as for the inputs above
                return f"declares {near[0]}, not {path} (a typo?), as an output"
            return f"does not declare {path} as an output ({flag})"
    for path in have.outs:
        if path not in want.outs:
            return f"declares {path} as an output, which the stage does not write"
    return None


WHY = {"-M": " (metrics: small, kept in git, read by dvc metrics show)"}


def command_words(command: str) -> tuple[list[str], dict[str, str]]:
    """A stage's command as (its program, `python -m module`) and its --option value pairs."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    words = ["python" if word in ("python3", "py") else word for word in words]
    program = words[: words.index("-m") + 2] if "-m" in words else words[:1]
    rest = words[len(program) :]
    options = {
        rest[i]: rest[i + 1] if i + 1 < len(rest) else ""
        for i in range(len(rest))
        if rest[i].startswith("--")
    }
    return program, options


def repair(lab: Lab, have: Stage, want: Stage) -> str:
    """The target's line, and the lines DVC wrote for outputs the stage will no longer have."""
    stale = [out for out in have.cached_outputs() if out not in want.cached_outputs()]
    return " && ".join(
        [want.add_command(), *(drop_ignore_line(lab, out) for out in stale if ignore_line(lab, out))]
    )


def ignore_line(lab: Lab, out: str) -> str | None:
    """The `.gitignore` DVC wrote beside an output, if it lists that output (`/name`)."""
    folder, base = posixpath.split(out.rstrip("/"))
    gitignore = posixpath.join(folder, ".gitignore")
    path = lab.root / gitignore
    return gitignore if path.is_file() and f"/{base}" in path.read_text().splitlines() else None


def drop_ignore_line(lab: Lab, out: str) -> str:
    folder, base = posixpath.split(out.rstrip("/"))
    return delete_line(posixpath.join(folder, ".gitignore"), f"/{base}")


def delete_line(file: str, line: str) -> str:
    """A sed command (GNU and BSD alike) that deletes one exact line from a file."""
    pattern = "".join(f"\\{c}" if c in "/.[]*^$\\" else c for c in line)
    return f"sed -i.bak '/^{pattern}$/d' {shlex.quote(file)} && rm {shlex.quote(file)}.bak"
