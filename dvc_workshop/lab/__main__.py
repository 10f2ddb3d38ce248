"""The code-along lab: `workshop start` makes an attendee's repository, `workshop check` says
where they stand, `workshop hint` helps with a step, `workshop solution N` catches up one step,
`workshop reset N` puts one back; `workshop room ...` is the facilitator's.

The steps are the registry in `steps.py` and the README's "Lab step N" sections. Exit status:
0 when what was asked is done, 1 when it is not, 2 when it could not be checked (an `error:` line).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp, WorkshopError
from dvc_workshop.lab import progress
from dvc_workshop.lab.room_commands import room_app
from dvc_workshop.lab.start import REFERENCE, git, join_room, start_lab
from dvc_workshop.lab.steps import STEPS, Step
from dvc_workshop.lab.verdict import check_steps, find_lab, report

app = WorkshopApp(error_status=2, no_args_is_help=True)
app.add_typer(room_app, name="room")
StepNumber = Annotated[int, typer.Argument(help=f"The lab step (1 to {len(STEPS)}).", show_default=False)]
LabOption = Annotated[Path, typer.Option(help="The lab repository (or any folder inside it).")]


@app.callback()
def workshop() -> None:
    """The DVC workshop's lab: your own repository to build the pipeline in."""


@app.command()
def start(
    folder: Annotated[Path, typer.Argument(help="The new repository, e.g. ../my-lab.")],
    room: Annotated[
        str | None, typer.Option(help="The room's cache bucket, gs://..., from your facilitator.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Your name: your folder in the room's bucket.")] = None,
) -> None:
    """Make your own lab repository, with a bare `origin` beside it (FOLDER-origin.git)."""
    if (room is None) != (name is None):
        raise WorkshopError("--room and --name go together: --room gs://<cache-bucket> --name <your-name>")
    joined = (
        {**join_room(room, name), "name": name} if room and name else None
    )  # read before anything is made
    origin = start_lab(folder, joined)
    if git(REFERENCE, "status", "--porcelain", "--untracked-files=no").strip():
        print(f"(The lab holds {REFERENCE.name}'s last commit: its uncommitted changes were not copied.)")
    lab = os.path.relpath(folder.resolve())
    print(f"Your lab is {lab} (origin: {os.path.relpath(origin)}). Next, from this folder (lab step 1):")
    if joined and (emulator := os.environ.get("STORAGE_EMULATOR_HOST")):
        first = f"keep the emulator that serves the room running ({emulator})"
    elif joined:
        first = "once, with the account your facilitator gave access: gcloud auth application-default login"
    else:
        first = "in a second terminal: pipenv run emulator  (real GCS: gcloud auth application-default login)"
    print(f"  1. {first}")
    print("  2. here: pipenv shell")
    print(f"  3. then: cd {lab} && workshop check")
    if joined:
        print(f"Your remote, in lab step 2: dvc remote add -d dvc-workshop {joined['cache']}/{name}")
        print(
            f"The raw data, in lab step 3: {joined['source']} (where the README says gs://dvc-workshop-raw/mnist)"
        )


def fingerprint(root: Path) -> list[tuple[str, int, int]]:
    """What a change to the lab touches: git's HEAD, index and refs, the pipeline files, the code."""
    watched = ("dvc.yaml", "dvc.lock", "params.yaml", ".dvc/config", ".git/HEAD", ".git/index", ".gitignore")
    paths = [root / name for name in watched]
    paths += [*(root / ".git/refs").rglob("*"), *(root / "dvc_workshop").rglob("*.py"), *root.glob("*.dvc")]
    return [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.is_file()]


@app.command()
def check(
    step: Annotated[int | None, typer.Argument(help="Only steps 1 to STEP must be done (exit 0).")] = None,
    lab: LabOption = Path("."),
    watch: Annotated[bool, typer.Option("--watch", help="Check again whenever the lab changes.")] = False,
) -> None:
    """Say which lab steps are done, and for the first one not done, what is wrong and a hint."""
    if step is not None:
        find_step(step)
    repo = find_lab(lab)
    if not watch:
        verdict = report(repo)
        wanted = range(1, (step or len(STEPS)) + 1)
        sys.exit(0 if all(number in verdict.done for number in wanted) else 1)
    seen = None
    try:
        while True:
            if (now := fingerprint(repo.root)) != seen:
                seen = now
                print("\033[2J\033[H", end="")  # a clear screen for each new verdict
                report(type(repo)(repo.root))  # fresh readings: a Lab caches what it reads
                print("\nWatching the lab: this checks again after each change. Ctrl+C stops.", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        print()


@app.command()
def hint(
    step: Annotated[
        int | None, typer.Argument(help="The lab step (default: the one check stopped at).")
    ] = None,
    lab: LabOption = Path("."),
    all_hints: Annotated[bool, typer.Option("--all", help="Every hint of the step at once.")] = False,
) -> None:
    """The next hint of a lab step, one more each time; the answer comes last."""
    repo = find_lab(lab)
    last = progress.load(repo.root)  # where the last check stopped, and its problem's hint
    if step is None:
        step = last.get("step") or getattr(check_steps(repo, show=False).step, "number", None)
        if step is None:
            print("Every step is done: no hint needed. (workshop hint N shows step N's.)")
            return
    found = find_step(step)
    hints = [*found.hints, f"the README's section 'Lab step {step}: {found.title}', step by step"]
    if last.get("step") == step and last.get("hint"):
        hints.insert(0, f"for the problem the last check found: {last['hint']}")
    shown = len(hints) if all_hints else min(progress.hints_shown(repo.root, step) + 1, len(hints))
    progress.show_hints(repo.root, step, shown)
    print(f"Lab step {step}, {found.title}:")
    for number, text in enumerate(hints[:shown], start=1):
        print(f"  Hint {number} of {len(hints)}: {text}")
    if shown < len(hints):
        print(f"Still stuck? workshop hint {step} again shows the next one.")
    else:
        print(
            f"The answer: the commands of the README's lab step {step} (workshop solution {step} runs them)."
        )


def find_step(number: int) -> Step:
    if not 1 <= number <= len(STEPS):
        raise WorkshopError(f"invalid step {number}: the lab has steps 1 to {len(STEPS)}")
    return STEPS[number - 1]


@app.command()
def solution(step: StepNumber, lab: LabOption = Path(".")) -> None:
    """Run a step's commands from the workshop's README (to catch up), once the steps before it are done."""
    from dvc_workshop.lab.solution import run_solution

    find_step(step)
    run_solution(find_lab(lab), step)


@app.command()
def reset(step: StepNumber, lab: LabOption = Path(".")) -> None:
    """Put one lab step back to its start, the others kept; uncommitted changes go to git stash first."""
    from dvc_workshop.lab.reset import reset_step

    find_step(step)
    reset_step(find_lab(lab), step)


@app.command()
def doctor(
    room: Annotated[str | None, typer.Option(help="The room's cache bucket, to check access to it.")] = None,
) -> None:
    """Check this laptop for the workshop, a line per item, with the fix for each red one."""
    from dvc_workshop.lab.doctor import run_doctor

    sys.exit(0 if run_doctor(room) else 1)


if __name__ == "__main__":
    app()
