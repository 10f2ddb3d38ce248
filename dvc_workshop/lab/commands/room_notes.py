"""The room's sticky notes, the facilitator's side: `room help done CACHE NAME` lowers a raised
hand, `room say CACHE "..."` says one line to the room (the attendee's side is `workshop help`)."""

from __future__ import annotations

from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp
from dvc_workshop.data.errors import WorkshopError

Bucket = Annotated[
    str, typer.Argument(help="The room's cache bucket, gs://...", show_default=False)
]  # room.py's too

help_app = WorkshopApp(help="The hands raised in the room (workshop help).")


@help_app.command("done")
def help_done(cache: Bucket, name: Annotated[str, typer.Argument(help="The attendee helped.")]) -> None:
    """Lower an attendee's raised hand: helped."""
    from dvc_workshop.lab.actions.hands import lower_hand

    for line in lower_hand(cache, name, "lowered by the facilitator"):
        print(line)


def say(
    cache: Bucket,
    text: Annotated[str | None, typer.Argument(help='One line, e.g. "Step 9 takes 4 minutes".')] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Take the word back.")] = False,
) -> None:
    """Say one line to the room: every attendee's next workshop check prints it, once."""
    from dvc_workshop.lab.model.progress import now
    from dvc_workshop.lab.model.room_notes import say as say_to

    if bool(text) == clear:
        raise WorkshopError('say one line (workshop room say CACHE "Step 9 takes 4 minutes"), or --clear')
    say_to(cache, None if clear else {"text": " ".join(str(text).split()), "said": now()})
    print(
        f"Said to room {cache}: every attendee's next check prints it once."
        if text
        else f"Cleared in room {cache}."
    )
