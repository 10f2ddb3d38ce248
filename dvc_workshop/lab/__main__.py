"""The code-along lab: `workshop start` makes an attendee's repository, `workshop check` says
where they stand, `workshop hint` helps with a step, `workshop solution N` catches up one step.

The steps are the registry in `steps.py` and the README's "Lab step N" sections; a step's
solution is that section's `bash lab` blocks, run as printed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp, WorkshopError
from dvc_workshop.lab.start import REFERENCE, git, start_lab
from dvc_workshop.lab.state import Lab, Problem
from dvc_workshop.lab.steps import STEPS, Step

app = WorkshopApp(no_args_is_help=True)
StepNumber = Annotated[int, typer.Argument(help=f"The lab step (1 to {len(STEPS)}).")]
LabOption = Annotated[Path, typer.Option(help="The lab repository.")]


@app.callback()
def workshop() -> None:
    """The DVC workshop's lab: your own repository to build the pipeline in."""


@app.command()
def start(folder: Annotated[Path, typer.Argument(help="The new repository, e.g. ../my-lab.")]) -> None:
    """Make your own lab repository, with a bare `origin` beside it (FOLDER-origin.git)."""
    origin = start_lab(folder)
    if git(REFERENCE, "status", "--porcelain", "--untracked-files=no").strip():
        print(f"(The lab holds {REFERENCE.name}'s last commit: its uncommitted changes were not copied.)")
    lab = os.path.relpath(folder.resolve())
    print(f"Your lab is {lab} (origin: {os.path.relpath(origin)}). Next, from this folder (lab step 1):")
    print("  1. in a second terminal: pipenv run emulator  (real GCS: gcloud auth application-default login)")
    print("  2. here: pipenv shell")
    print(f"  3. then: cd {lab} && python -m dvc_workshop.lab check")


def first_not_done(repo: Lab) -> tuple[tuple[Step, Problem] | None, int]:
    """Each step's state printed as a table; the first step not done and its problem, and how
    many steps are done."""
    first: tuple[Step, Problem] | None = None
    done = 0
    for step in STEPS:
        if first and first[0].number == 1:  # without git or the buckets, every other check would fail
            print(f"{step.number:>2}  {step.title:<40} not checked")
            continue
        try:
            step.check(repo)
            state, done = "done", done + 1
        except Problem as problem:
            state = "not done"
            first = first or (step, problem)
        print(f"{step.number:>2}  {step.title:<40} {state}")
    return first, done


def find_lab(folder: Path) -> Lab:
    """The lab that `folder` is in (its root, or any folder inside it), or a line saying where it is."""
    folder = folder.resolve()
    top = next((f for f in (folder, *folder.parents) if (f / ".git").exists()), None)
    make_one = "pipenv run workshop start ../my-lab, in the workshop's folder, makes one"
    if top is None:
        raise WorkshopError(f"{folder} is in no git repository: cd to your lab ({make_one})")
    lab = Lab(top)
    origin = lab.origin
    if not lab.git("config", "workshop.reference") and not (origin and origin.name.endswith("-origin.git")):
        raise WorkshopError(
            f"{top} is not a lab (the workshop's own repository?): cd to your lab ({make_one})"
        )
    return lab


def report(repo: Lab) -> None:
    first, done = first_not_done(repo)
    if first is None:
        print(f"\n{done} of {len(STEPS)} done. Every step is done: well done!")
        return
    step, problem = first
    hint = problem.hint or (step.hints[0] if step.hints else f"python -m dvc_workshop.lab hint {step.number}")
    print(f"\n{done} of {len(STEPS)} done. Next: lab step {step.number}, {step.title}.")
    print(f"Step {step.number}: {problem.what}\nHint: {hint}")


WATCHED = ("dvc.yaml", "dvc.lock", "params.yaml", ".dvc/config", ".git/HEAD", ".git/index", ".gitignore")


def fingerprint(root: Path) -> list[tuple[str, int, int]]:
    """What a change to the lab touches: git's HEAD, index and refs, the pipeline files, the code."""
    paths = [root / name for name in WATCHED]
    paths += [*(root / ".git/refs").rglob("*"), *(root / "dvc_workshop").rglob("*.py"), *root.glob("*.dvc")]
    return [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.is_file()]


@app.command()
def check(
    lab: LabOption = Path("."),
    watch: Annotated[bool, typer.Option("--watch", help="Check again whenever the lab changes.")] = False,
) -> None:
    """Say which lab steps are done, and for the first one not done, what is wrong and a hint."""
    repo = find_lab(lab)
    if not watch:
        report(repo)
        return
    seen = None
    try:
        while True:
            if (now := fingerprint(repo.root)) != seen:
                seen = now
                print("\033[2J\033[H", end="")  # a clear screen for each new verdict
                report(Lab(repo.root))  # fresh readings: a Lab caches what it reads
                print("\nWatching the lab: this checks again after each change. Ctrl+C stops.", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        print()


@app.command()
def hint(step: StepNumber) -> None:
    """The hints of a lab step, then where its answer is."""
    found = find_step(step)
    for number, text in enumerate(found.hints, start=1):
        print(f"Hint {number}: {text}")
    answer = f"python -m dvc_workshop.lab solution {step}"
    print(f"The answer: the commands of the README's 'Lab step {step}' ({answer} runs them).")


def find_step(number: int) -> Step:
    if not 1 <= number <= len(STEPS):
        raise WorkshopError(f"invalid step {number}: the lab has steps 1 to {len(STEPS)}")
    return STEPS[number - 1]


def lab_blocks(readme: Path, step: int) -> list[str]:
    """The `bash lab` blocks of the README's section "Lab step <step>" (none inside an HTML comment)."""
    text = re.sub(r"<!--.*?-->", "", readme.read_text(), flags=re.S)
    section = re.search(rf"^### Lab step {step}:.*?(?=^##|\Z)", text, flags=re.M | re.S)
    if section is None:
        raise WorkshopError(f"{readme} has no section 'Lab step {step}:'")
    return re.findall(r"```bash lab\n(.*?)```", section.group(), flags=re.S)


@app.command()
def solution(step: StepNumber, lab: LabOption = Path(".")) -> None:
    """Run a step's commands from the workshop's README, as printed (for a facilitator helping
    someone catch up), once the steps before it are done."""
    find_step(step)
    bash = shutil.which("bash")
    if bash is None:
        raise WorkshopError("bash not found: type the commands of the README's lab step yourself")
    repo = find_lab(lab)
    for earlier in STEPS[: step - 1]:
        try:
            earlier.check(repo)
        except Problem as problem:
            raise WorkshopError(
                f"lab step {earlier.number} is not done yet ({problem.what}): "
                f"python -m dvc_workshop.lab solution {earlier.number} first"
            ) from None
    reference = Path(repo.git("config", "workshop.reference") or REFERENCE)  # the lab's README is theirs
    for block in lab_blocks(reference / "README.md", step):
        print(f"$ {block.strip()}", flush=True)
        if subprocess.run([bash, "-euo", "pipefail", "-c", block], cwd=repo.root).returncode != 0:
            raise WorkshopError(f"lab step {step} stopped at the block above")


if __name__ == "__main__":
    app()
