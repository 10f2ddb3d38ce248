"""`workshop reset N`: one lab step back to where it started, the other steps' work kept.

One mechanism for every step, driven by its registry entry (`Reset`): the stages it adds taken
out of dvc.yaml and dvc.lock with what DVC wrote for them (.gitignore lines, metrics in git), its
files back to the start commit's, and its git or DVC state undone (tags, a clone, experiments).
The result is committed ("Reset lab step N"), so `git revert HEAD` brings it back. Nothing is
lost: uncommitted changes to the files it touches go to `git stash` first, and what exists
nowhere else (a teammate's unpushed commits, experiments not in origin) stops it with a line.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from io import StringIO

from dvc_workshop.lab.mechanisms.entry import Reset
from dvc_workshop.lab.mechanisms.health import repair
from dvc_workshop.lab.mechanisms.stage_target import Stage, overlaps, target
from dvc_workshop.lab.model.lab import Lab, start_commit
from dvc_workshop.lab.steps.registry import STEPS


def reset_step(lab: Lab, number: int, on_line: Callable[[str], None]) -> None:
    """Step `number` put back; each line to say goes to `on_line` as it happens, so that what was
    done (a stash, say) is said even where a later part refuses (a WorkshopError)."""
    spec = STEPS[number - 1].reset
    if spec.nothing_to_put_back:
        on_line(f"Step {number} has nothing to put back: {spec.nothing_to_put_back}")
        return
    start = start_commit(lab)
    for line in repair(lab):  # a git operation left under way, outputs git tracks: whatever the step
        on_line(line)
    files = touched_files(lab, spec)
    stash(lab, number, files, on_line)
    before = changed_lines(lab)
    writes = stage_removal(lab, spec.stages)
    for entry in spec.files:
        file, _, section = entry.partition(":")
        original = lab.git_output("show", f"{start}:{file}") + "\n"
        current = writes.get(file) or ((lab.root / file).read_text() if (lab.root / file).exists() else "")
        writes[file] = with_section(current, original, section) if section else original
    for file, text in writes.items():
        if file.endswith(".gitignore") and not text.strip():
            (lab.root / file).unlink(missing_ok=True)  # DVC's own, now empty
        else:
            (lab.root / file).write_text(text)
    untrack_metrics(lab, spec.stages)
    if spec.undo:
        for line in spec.undo(lab):
            on_line(line)
    after = changed_lines(lab)
    changed = [*writes, *(line[3:].strip('"') for line in after - before if not line.startswith("??"))]
    if committed := commit(lab, number, changed):
        on_line(committed)
    if spec.stages:
        on_line("Its data stays where it was, untracked until the step is done again (git status lists it).")
    on_line(f"Lab step {number} is back at its start: workshop check {number} says what to do.")


def changed_lines(lab: Lab) -> set[str]:
    """git status's lines, each as git prints it: "XY PATH" (not stripped: " M dvc.lock" keeps
    its first column, so that PATH is line[3:])."""
    return set(lab.completed("git", "status", "--porcelain", "--untracked-files=all").stdout.splitlines())


def touched_files(lab: Lab, spec: Reset) -> list[str]:
    files = [entry.partition(":")[0] for entry in spec.files]
    if spec.stages:
        files += ["dvc.yaml", "dvc.lock", *lab.git_output("ls-files", "*.gitignore").split()]
    return list(dict.fromkeys(files))


def stash(lab: Lab, number: int, files: list[str], on_line: Callable[[str], None]) -> None:
    """Uncommitted changes to `files` saved in git's stash (with their step), never lost."""
    changed = [
        f for f in files if (lab.root / f).exists() and lab.git_output("status", "--porcelain", "--", f)
    ]
    if changed:
        lab.run_or_fail(
            "git",
            "stash",
            "push",
            "-q",
            "--include-untracked",
            "-m",
            f"before workshop reset {number}",
            "--",
            *changed,
        )
        on_line(
            f"Your uncommitted changes to {', '.join(changed)} are in git stash list "
            "(git stash pop brings them back)."
        )


def stage_removal(lab: Lab, names: tuple[str, ...]) -> dict[str, str]:
    """dvc.yaml and dvc.lock without the stages, and the .gitignore files without the lines DVC
    wrote for them (those of the lab's outputs and the target's, and any line above them), as
    `dvc remove` would (which refuses a stage with `${...}`). Read all before anything is written."""
    from ruamel.yaml import YAML

    if not names:
        return {}
    yaml, writes = YAML(), {}  # round trip: comments and order kept
    for file in ("dvc.yaml", "dvc.lock"):
        if (lab.root / file).exists():
            document = yaml.load((lab.root / file).read_text()) or {}
            for name in names:
                (document.get("stages") or {}).pop(name, None)
            text = StringIO()
            yaml.dump(document, text)
            writes[file] = text.getvalue()
    outputs = [out for name in names for out in target(lab, name).outs]
    outputs += [
        out for name in names if name in lab.stages for out in Stage.read(name, lab.stages[name]).outs
    ]
    start = start_commit(lab)
    listed = lab.git_output("ls-files", "--cached", "--others", "--exclude-standard", "*.gitignore").split()
    beside = [posixpath.join(posixpath.dirname(out.rstrip("/")), ".gitignore") for out in outputs]
    for gitignore in dict.fromkeys([".gitignore", *listed, *beside]):
        if not (lab.root / gitignore).is_file() or gitignore in writes:
            continue
        folder = posixpath.dirname(gitignore)
        kept = set(lab.git_output("show", f"{start}:{gitignore}").splitlines())
        lines = (lab.root / gitignore).read_text().splitlines(keepends=True)
        left = [
            line
            for line in lines
            if line.strip() in kept
            or not line.strip().startswith("/")
            or not any(overlaps(posixpath.join(folder, line.strip()[1:]), out) for out in outputs)
        ]
        if left != lines:
            writes[gitignore] = "".join(left)
    return writes


def untrack_metrics(lab: Lab, names: tuple[str, ...]) -> None:
    """The stages' outputs that git tracked (metrics, `cache: false`) out of git and the workspace."""
    for name in names:
        for out, (_, cached) in target(lab, name).outs.items():
            if not cached and lab.git_output("ls-files", out):
                lab.run_or_fail("git", "rm", "-q", "--cached", out)
                (lab.root / out).unlink(missing_ok=True)


def with_section(current: str, original: str, section: str) -> str:
    """`current` with its top-level YAML section `section` as in `original` (the rest as it is)."""

    def split(text: str) -> tuple[list[str], list[str], list[str]]:
        lines = text.splitlines(keepends=True)
        begin = next((i for i, line in enumerate(lines) if line.startswith(f"{section}:")), len(lines))
        end = next(
            (i for i in range(begin + 1, len(lines)) if lines[i][:1] not in (" ", "\n", "#", "")), len(lines)
        )
        return lines[:begin], lines[begin:end], lines[end:]

    head, _, tail = split(current)
    if head and not head[-1].endswith("\n"):  # a last line without its newline: the section goes below it
        head[-1] += "\n"
    return "".join([*head, *split(original)[1], *tail])


def commit(lab: Lab, number: int, files: list[str]) -> str | None:
    """The reset committed, if it changed anything; the line that says so."""
    present = [
        f for f in dict.fromkeys(files) if (lab.root / f).exists() or lab.git_output("ls-files", "--", f)
    ]
    if present:
        lab.run_or_fail("git", "add", "-A", "--", *present)
    if lab.git_output("diff", "--cached", "--name-only"):
        lab.run_or_fail("git", "commit", "-q", "-m", f"Reset lab step {number}")
        return f"Committed as 'Reset lab step {number}' (git revert HEAD takes the reset back)."
    return None
