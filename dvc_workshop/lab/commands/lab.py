"""The lab tool's commands and their arguments, nothing else: `workshop start` makes an attendee's
repository, `check` says where they stand, `hint` helps with the problem found, `solution N`
catches up one step, `reset N` puts one back, `doctor` checks a laptop; `room ...` is the
facilitator's. The work is in `actions/` (one module a command, as `workshop start` is
`actions/start.py`'s `start`), which returns what happened and prints nothing: these functions
print it (a line as it comes, where a check or a run takes a while, through `on_line`).

Exit status: 0 when what was asked is done, 1 when it is not, 2 when it could not be checked.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.actions.check import lab_steps
from dvc_workshop.lab.actions.check_place import find_lab
from dvc_workshop.lab.commands.room import room_app
from dvc_workshop.lab.steps.registry import STEPS

app = WorkshopApp(error_status=2, no_args_is_help=True)
app.add_typer(room_app, name="room")
StepNumber = Annotated[int, typer.Argument(help=f"The lab step (1 to {len(STEPS)}).", show_default=False)]
LabOption = Annotated[Path, typer.Option(help="The lab repository (or any folder inside it).")]
say_now = partial(print, flush=True)  # a line that must show before what comes next (a check, a run)


def valid(step: int | None) -> int | None:
    if step is not None and not 1 <= step <= len(STEPS):
        raise WorkshopError(f"invalid step {step}: the lab has steps 1 to {len(STEPS)}")
    return step


@app.callback()
def workshop() -> None:
    """The DVC workshop's lab: your own repository to build the pipeline in."""
    import os

    from dvc_workshop.lab.model.emulator_settings import TAKEN_FROM_ENV_FILE, written_settings
    from dvc_workshop.lab.model.layout import REFERENCE

    if not os.environ.get("STORAGE_EMULATOR_HOST"):  # outside pipenv shell/run too: the emulator's room
        TAKEN_FROM_ENV_FILE.update(written_settings(REFERENCE))
        os.environ.update(TAKEN_FROM_ENV_FILE)


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
    from dvc_workshop.lab.actions import start as action

    for line in action.start(folder, room, name, rejoin):
        print(line)


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
        from dvc_workshop.lab.commands.watch import watch as watch_lab

        watch_lab(repo.root)
        return
    from dvc_workshop.lab.actions import check as action

    verdict = action.check(repo, step, say_now)
    last = step or len(lab_steps(repo))
    done = all(number in verdict.done for number in range(1, last + 1))
    sys.exit(0 if done and not verdict.health else 1)


@app.command()
def hint(
    step: Annotated[
        int | None, typer.Argument(help="The lab step (default: the one check stops at).")
    ] = None,
    lab: LabOption = Path("."),
    all_hints: Annotated[bool, typer.Option("--all", help="Every hint at once.")] = False,
) -> None:
    """The next hint for the problem the check finds, one more each time; the answer comes last."""
    from dvc_workshop.lab.actions.hint import next_hints

    for line in next_hints(find_lab(lab), valid(step), all_hints):
        print(line)


@app.command("help")
def raise_hand(
    words: Annotated[
        str | None, typer.Argument(help='What you are stuck on, e.g. "dvc push asks for a login".')
    ] = None,
    done: Annotated[bool, typer.Option("--done", help="Lower your hand: you are helped.")] = False,
    lab: LabOption = Path("."),
) -> None:
    """Raise your hand in the room: the facilitator sees who waits longest first; --done lowers it."""
    from dvc_workshop.lab.actions import hands

    repo = find_lab(lab)
    if done:
        lines = hands.lower_hand(hands.room_of(repo), repo.attendee, "lowered by you")
    else:
        lines = hands.raise_hand(repo, words)
    for line in lines:
        print(line)


@app.command()
def solution(step: StepNumber, lab: LabOption = Path(".")) -> None:
    """Run a step's commands from the workshop's README, in your names, once the steps before it are done."""
    from dvc_workshop.lab.actions.solution import run_solution

    run_solution(find_lab(lab), valid(step) or step, say_now)  # each block said before it runs


@app.command()
def reset(step: StepNumber, lab: LabOption = Path(".")) -> None:
    """Put one lab step back to its start, the others kept; uncommitted changes go to git stash first."""
    from dvc_workshop.lab.actions.reset import reset_step

    reset_step(find_lab(lab), valid(step) or step, print)


@app.command()
def doctor(
    room: Annotated[str | None, typer.Option(help="The room's cache bucket, to check access to it.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Your name in the room: the facilitator sees your result.")
    ] = None,
    rejoin: Annotated[
        bool, typer.Option("--rejoin", help="Your name's result from this laptop now (a new laptop).")
    ] = False,
) -> None:
    """Check this laptop for the workshop, a line per item, with the fix for each red one."""
    import os

    from dvc_workshop.lab.actions.doctor import run_doctor
    from dvc_workshop.lab.model.storage import check_name

    if name and not room:
        raise WorkshopError("--name tells a room your result: give the room too, --room gs://...")
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.exit(0 if run_doctor(room, name and check_name(name), say_now, colour, rejoin) else 1)
