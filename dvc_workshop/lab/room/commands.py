"""`workshop room ...`: the facilitator's commands for a room of attendees (see room.py and
docs/facilitator.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp, atomic_output
from dvc_workshop.lab.room import records as room
from dvc_workshop.lab.room import view as room_view

room_app = WorkshopApp(
    error_status=2, no_args_is_help=True, help="A room: the facilitator's buckets and view."
)
Bucket = Annotated[str, typer.Argument(help="The room's cache bucket, gs://...", show_default=False)]


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
    project: Annotated[str | None, typer.Option(help="Google Cloud project for new buckets.")] = None,
    group: Annotated[
        str, typer.Option(help="The attendees' Google group, for the access commands.")
    ] = "ATTENDEES@example.com",
) -> None:
    """Make a room's buckets, raw MNIST files (MD5 verified) and record; again, it adds what is missing.

    Then it prints the access commands and the lines to send attendees.
    """
    made = room.create_room(raw, cache, mnist, project)
    raw_url, cache_url = made["raw"], made["cache"]
    print(f"\nRoom {cache_url} is ready. Access, once, by the project's owner (attendees in {group}):")
    for url, role in ((raw_url, "objectViewer"), (cache_url, "objectAdmin")):  # read raw, write cache
        binding = f"--member=group:{group} --role=roles/storage.{role}"
        print(f"  gcloud storage buckets add-iam-policy-binding {url} {binding}")
    print("Send attendees, before the day (after cloning the workshop and its first command):")
    print(f"  gcloud auth application-default login && pipenv run workshop doctor --room {cache_url}")
    print("On the day, each attendee types, with their own name:")
    print(f"  pipenv run workshop start ../my-lab --room {cache_url} --name <their-name>")
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
) -> None:
    """Join a room with a lab made without --room: its checks then follow the room's buckets."""
    from dvc_workshop.lab.check.verdict import find_lab
    from dvc_workshop.lab.repo.lab import NAME_KEY
    from dvc_workshop.lab.repo.start import write_room_file
    from dvc_workshop.places import ROOM_FILE

    repo = find_lab(lab)
    room.check_name(name)
    joined = room.load_room(cache)  # the lab, the name and the room checked before anything is written
    write_room_file(repo.root, joined)
    repo.must("git", "config", NAME_KEY, name)
    if repo.git("status", "--porcelain", "--", ROOM_FILE):  # committed: a teammate's clone follows the room
        repo.must("git", "add", ROOM_FILE)
        repo.must("git", "commit", "-q", "-m", f"Join room {joined['cache']}", "--", ROOM_FILE)
    print(f"{repo.root.name} is in room {joined['cache']} as {name}: each workshop check now tells the room.")
    print(f"Your remote: dvc remote add -d -f dvc-workshop {joined['cache']}/{name} (lab step 2)")


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
    """Every attendee's step, problem and time on it; stuck longest first."""
    room.bucket_name(cache)
    try:
        while True:
            attendees = room.attendees(cache)
            if as_json:
                print(room_view.as_json(attendees))
            elif html:
                with atomic_output(html) as scratch:  # the browser never reloads a half-written page
                    scratch.write_text(room_view.page(cache, attendees, refresh=every))
                print(f"{html}: {len(attendees)} attendees ({time.strftime('%H:%M:%S')})", flush=True)
            else:
                print(("\033[2J\033[H" if watch else "") + room_view.table(cache, attendees), flush=True)
            if not watch:
                return
            time.sleep(every)
    except KeyboardInterrupt:
        print()
