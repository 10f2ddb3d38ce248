"""The lab tool's commands and their arguments, nothing else: `workshop start` makes an attendee's
repository, `check` says where they stand, `hint` helps with the problem found, `solution N`
catches up one step, `reset N` puts one back, `doctor` checks a laptop; `room ...` is the
facilitator's. The work is in `repo/` (a lab), `steps/` (the registry), `check/` and `room/`.

Exit status: 0 when what was asked is done, 1 when it is not, 2 when it could not be checked.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp, WorkshopError
from dvc_workshop.lab.check.verdict import find_lab, lab_steps, report
from dvc_workshop.lab.room.commands import room_app
from dvc_workshop.lab.steps.registry import STEPS

app = WorkshopApp(error_status=2, no_args_is_help=True)
app.add_typer(room_app, name="room")
StepNumber = Annotated[int, typer.Argument(help=f"The lab step (1 to {len(STEPS)}).", show_default=False)]
LabOption = Annotated[Path, typer.Option(help="The lab repository (or any folder inside it).")]


def valid(step: int | None) -> int | None:
    if step is not None and not 1 <= step <= len(STEPS):
        raise WorkshopError(f"invalid step {step}: the lab has steps 1 to {len(STEPS)}")
    return step


@app.callback()
def workshop() -> None:
    """The DVC workshop's lab: your own repository to build the pipeline in."""
    import os

    from dvc_workshop.emulator.settings import written_settings
    from dvc_workshop.places import REFERENCE

    if not os.environ.get("STORAGE_EMULATOR_HOST"):  # outside pipenv shell/run too: the emulator's room
        os.environ.update(written_settings(REFERENCE))


@app.command()
def start(
    folder: Annotated[Path, typer.Argument(help="The new repository, e.g. ../my-lab.")],
    room: Annotated[
        str | None, typer.Option(help="The room's cache bucket, gs://..., from your facilitator.")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Your name: your folder in the cache bucket (default: from git's user.name)."),
    ] = None,
    rejoin: Annotated[
        bool, typer.Option("--rejoin", help="Take your name back in the room (a new laptop, a new lab).")
    ] = False,
) -> None:
    """Make your own lab repository, with a bare `origin` beside it (FOLDER-origin.git)."""
    from dvc_workshop.lab.repo.start import begin

    begin(folder, room, name, rejoin)


@app.command()
def check(
    step: Annotated[int | None, typer.Argument(help="Only steps 1 to STEP must be done (exit 0).")] = None,
    lab: LabOption = Path("."),
    watch: Annotated[bool, typer.Option("--watch", help="Check again whenever the lab changes.")] = False,
) -> None:
    """Say which lab steps are done, and for the first one not done, what is wrong and a hint."""
    valid(step)
    repo = find_lab(lab)
    if watch:
        from dvc_workshop.lab.check.watch import watch as watch_lab

        watch_lab(repo.root)
        return
    verdict = report(repo, through=step)
    last = step or len(lab_steps(repo))
    sys.exit(0 if all(number in verdict.done for number in range(1, last + 1)) else 1)


@app.command()
def hint(
    step: Annotated[
        int | None, typer.Argument(help="The lab step (default: the one check stops at).")
    ] = None,
    lab: LabOption = Path("."),
    all_hints: Annotated[bool, typer.Option("--all", help="Every hint at once.")] = False,
) -> None:
    """The next hint for the problem the check finds, one more each time; the answer comes last."""
    from dvc_workshop.lab.check.hints import show_hint

    show_hint(find_lab(lab), valid(step), all_hints)


@app.command()
def solution(step: StepNumber, lab: LabOption = Path(".")) -> None:
    """Run a step's commands from the workshop's README, in your names, once the steps before it are done."""
    from dvc_workshop.lab.repo.solution import run_solution

    run_solution(find_lab(lab), valid(step) or step)


@app.command()
def reset(step: StepNumber, lab: LabOption = Path(".")) -> None:
    """Put one lab step back to its start, the others kept; uncommitted changes go to git stash first."""
    from dvc_workshop.lab.repo.reset import reset_step

    reset_step(find_lab(lab), valid(step) or step)


@app.command()
def doctor(
    room: Annotated[str | None, typer.Option(help="The room's cache bucket, to check access to it.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Your name in the room: the facilitator sees your result.")
    ] = None,
) -> None:
    """Check this laptop for the workshop, a line per item, with the fix for each red one."""
    from dvc_workshop.lab.doctor import run_doctor
    from dvc_workshop.lab.room.storage import check_name

    if name and not room:
        raise WorkshopError("--name tells a room your result: give the room too, --room gs://...")
    sys.exit(0 if run_doctor(room, name and check_name(name)) else 1)


if __name__ == "__main__":
    app()
