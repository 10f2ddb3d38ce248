"""`workshop room ...`: the facilitator's commands for a room of attendees, and the two an
attendee may need (`join`, `use`); arguments only, the work is in the modules beside this one
(see docs/facilitator.md)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp
from dvc_workshop.data.atomic_files import atomic_output
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.commands.room_notes import Bucket, help_app, say
from dvc_workshop.lab.commands.room_report import report
from dvc_workshop.lab.commands.stopping import stop_on_signals

room_app = WorkshopApp(
    error_status=2, no_args_is_help=True, help="A room: the facilitator's buckets and view."
)
Rejoin = Annotated[
    bool, typer.Option("--rejoin", help="Take your name back in the room (a new laptop, a new lab).")
]


@room_app.command()
def create(
    raw: Annotated[
        str, typer.Argument(help="The raw bucket, gs://... (attendees read it).", show_default=False)
    ],
    cache: Annotated[
        str, typer.Argument(help="The cache bucket, gs://... (attendees write it).", show_default=False)
    ],
    mnist: Annotated[
        Path | None, typer.Option(help="Folder of the four MNIST IDX .gz files (default: the sample).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace raw files or a room record that differ.")
    ] = False,
    expect: Annotated[
        str, typer.Option(help="Names of the attendees expected, comma-separated (room show lists them).")
    ] = "",
    steps: Annotated[
        int | None, typer.Option(min=1, help="End the lab at this step (default: every step).")
    ] = None,
    another_room: Annotated[
        bool, typer.Option("--another-room", help="A second room over a raw bucket that has one.")
    ] = False,
    sample: Annotated[
        bool, typer.Option("--sample", help="With --replace: the sample, even in place of the full MNIST.")
    ] = False,
    project: Annotated[str | None, typer.Option(help="Google Cloud project for new buckets.")] = None,
    group: Annotated[
        str, typer.Option(help="The attendees' Google group, for the access commands.")
    ] = "ATTENDEES@example.com",
) -> None:
    """Make a room's buckets, raw MNIST files (MD5 verified) and record; again, it adds what is missing
    and replaces nothing without --replace.

    Then it prints the access commands and the lines to send attendees.
    """
    import os

    from dvc_workshop.lab.actions.handout import handout_lines
    from dvc_workshop.lab.actions.room_create import create_room
    from dvc_workshop.lab.model.emulator_settings import is_local
    from dvc_workshop.lab.model.storage import check_name
    from dvc_workshop.lab.steps.registry import STEPS

    if steps and steps > len(STEPS):
        raise WorkshopError(f"--steps {steps}: the lab has steps 1 to {len(STEPS)}")
    names = tuple(check_name(name.strip(), "--expect") for name in expect.split(",") if name.strip())
    made = create_room(raw, cache, mnist, project, replace, names, steps=steps, another=another_room,
                       sample=sample, on_line=print)  # fmt: skip
    raw_url, cache_url = made["raw"], made["cache"]
    if stand_in := os.environ.get("STORAGE_EMULATOR_HOST"):  # an emulator: no accounts, no access to give
        print(f"\nRoom {cache_url} is ready, on the emulator at {stand_in}.")
        if is_local(stand_in):
            print("(This laptop's own emulator: a rehearsal. For the day, serve it to the venue: "
                  "pipenv run emulator --host ADDRESS, docs/facilitator.md.)")  # fmt: skip
        lines = handout_lines(cache_url, logins=False, use_line=f"pipenv run workshop room use {stand_in}")
    else:
        print(f"\nRoom {cache_url} is ready. Access, once, by the project's owner (attendees in {group}):")
        for url, role in ((raw_url, "objectViewer"), (cache_url, "objectAdmin")):  # read raw, write cache
            binding = f"--member=group:{group} --role=roles/storage.{role}"
            print(f"  gcloud storage buckets add-iam-policy-binding {url} {binding}")
        lines = handout_lines(cache_url, logins=True)
    for line in lines:
        print(line)
    print(
        f"Watch the room: pipenv run workshop room show {cache_url} --watch   (or --html room.html --watch)"
    )


@room_app.command()
def join(
    cache: Bucket,
    name: Annotated[
        str, typer.Option(help="Your name: your folder in the room's bucket.", show_default=False)
    ],
    lab: Annotated[Path, typer.Option(help="The lab repository (or any folder inside it).")] = Path("."),
    rejoin: Rejoin = False,
) -> None:
    """Join a room with a lab made without --room (or under another name): its checks then tell the room."""
    from dvc_workshop.lab.actions.check_place import find_lab
    from dvc_workshop.lab.actions.membership import join_room

    for line in join_room(find_lab(lab), cache, name, rejoin):
        print(line)


@room_app.command()
def use(
    endpoint: Annotated[
        str | None, typer.Argument(help="The venue's emulator, http://HOST:PORT.", show_default=False)
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop using it (back to your own).")] = False,
    room: Annotated[
        str | None, typer.Option("--room", help="The room, where the emulator holds several: gs://CACHE.")
    ] = None,
) -> None:
    """Point this workshop folder (and the labs made from it) at a room served on the venue's network."""
    from dvc_workshop.lab.actions.membership import use_endpoint

    for line in use_endpoint(endpoint, off, room):
        print(line)


room_app.add_typer(help_app, name="help")
room_app.command()(say)
room_app.command()(report)


@room_app.command()
def show(
    cache: Bucket,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl+C.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-refreshing page for the projector.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the attendees' records as JSON, for tools.")
    ] = False,
    every: Annotated[int, typer.Option(min=2, help="Seconds between refreshes with --watch.")] = 10,
) -> None:
    """Every attendee's step, problem and time on it, stuck first; who is ready for the day."""
    from dvc_workshop.lab.commands import room_page as room_page
    from dvc_workshop.lab.commands import room_table as room_view
    from dvc_workshop.lab.model import records

    records.bucket_name(cache)
    if watch:
        stop_on_signals()
    last = None  # the last read that worked, and when: a failed one (the network gone) keeps it
    try:
        while True:
            stale = None
            try:
                room, attendees, doctor = records.snapshot(cache)
                if not room:
                    records.load_room(cache)  # no room's record there: its line says why
                last = room, attendees, doctor, datetime.now(timezone.utc)
            except WorkshopError as error:
                if not watch or last is None:
                    raise
                age = int((datetime.now(timezone.utc) - last[3]).total_seconds())
                stale = f"last read {age // 60} min {age % 60} s ago; {error} (trying again every {every} s)"
            room, attendees, doctor, read_at = last
            if as_json:
                print(room_view.as_json(attendees))
            elif html:
                with atomic_output(html) as scratch:  # the browser never reloads a half-written page
                    scratch.write_text(
                        room_page.page(
                            cache, attendees, doctor, room, every if watch else None, read_at, stale
                        )
                    )
                said = f"not updated: {stale}" if stale else f"{len(attendees)} attendees"
                print(f"{html}: {said} ({time.strftime('%H:%M:%S')})", flush=True)
            else:
                text = room_view.table(cache, attendees, doctor, room, read_at)
                note = f"NOT UPDATED since {read_at.astimezone():%H:%M:%S} ({stale})\n" if stale else ""
                print(("\033[2J\033[H" if watch else "") + note + text, flush=True)
            if not watch:
                return
            time.sleep(every)
    except KeyboardInterrupt:
        print()


@room_app.command()
def remove(
    cache: Bucket,
    names: Annotated[list[str] | None, typer.Argument(help="The attendees to take out.")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Every attendee (after the day).")] = False,
    data: Annotated[
        bool, typer.Option("--data", help="Their DVC remote folders too (gs://CACHE/NAME): no undo.")
    ] = False,
) -> None:
    """Take attendees out of the room (their records; with --data, their data too)."""
    import sys

    from dvc_workshop.lab.model import records

    if bool(names) == everyone:
        raise WorkshopError("name the attendees to remove (workshop room remove CACHE ada ben), or --all")
    sys.exit(1 if records.remove(cache, names or [], everyone, data, print) else 0)
