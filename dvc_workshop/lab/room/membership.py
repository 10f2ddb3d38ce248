"""An attendee's side of a room: joining it under a name that is theirs alone, and pointing the
workshop's folder at a room a venue's emulator serves (`workshop room use`).

A name belongs to one lab: the lab's identity (this laptop and the lab's folder, hashed, so the
record holds no local path) goes with each record, and a check from another lab leaves the
name's record alone. The same person on a new laptop takes the name back with --rejoin.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from pathlib import Path

from dvc_workshop.cli import WorkshopError
from dvc_workshop.lab.repo.git import Runner
from dvc_workshop.lab.repo.lab import NAME_KEY, Lab, name_from
from dvc_workshop.lab.repo.progress import now, versions
from dvc_workshop.lab.room.records import claim, load_room
from dvc_workshop.lab.room.storage import check_name
from dvc_workshop.places import CACHE_URL, REFERENCE, ROOM_FILE


def lab_identity(root: Path) -> str:
    """Which lab a record comes from: this laptop and the lab's folder (a copy elsewhere is another)."""
    return hashlib.sha256(f"{socket.gethostname()}\0{root.resolve()}".encode()).hexdigest()[:16]


def first_record(name: str, root: Path) -> dict:
    """The record that holds a name from the moment a lab joins, before its first check."""
    return {"name": name, "lab": lab_identity(root), "steps_done": [], "step": 1, "repeats": 0,
            "problem": None, "since": now(), "updated": now(),
            "versions": versions()}  # fmt: skip


def claim_name(cache_url: str, name: str, root: Path, rejoin: bool) -> dict:
    """The room's record, after the name is this lab's in it (refused if another lab holds it)."""
    room = load_room(cache_url)
    claim(cache_url, first_record(check_name(name), root), rejoin)
    return room


def join_room(lab: Lab, cache_url: str, name: str, rejoin: bool) -> None:
    from dvc_workshop.lab.repo.start import write_room_file

    if lab.is_teammate:
        raise WorkshopError(f"{lab.root.name} is a teammate's clone: join the room from your own lab")
    joined = claim_name(cache_url, name, lab.root, rejoin)  # checked and claimed before anything is written
    write_room_file(lab.root, joined)
    lab.must("git", "config", NAME_KEY, name)
    if lab.git("status", "--porcelain", "--", ROOM_FILE):  # committed: a teammate's clone follows the room
        lab.must("git", "add", ROOM_FILE)
        lab.must("git", "commit", "-q", "-m", f"Join room {joined['cache']}", "--", ROOM_FILE)
    print(f"{lab.root.name} is in room {joined['cache']} as {name}: each workshop check now tells the room.")
    print(f"Your remote: dvc remote add -d -f dvc-workshop {joined['cache']}/{name} (lab step 2)")


def use_endpoint(endpoint: str | None, off: bool) -> None:
    """Write (or take back) the venue emulator's address in this workshop folder's settings, which
    pipenv and the labs made from it read (.env, .dvc/config.local)."""
    from dvc_workshop.emulator.settings import configure_project, environment, unreachable

    if off:
        configure_project(REFERENCE, None)
        print(f"{REFERENCE.name} uses no emulator now: start your own with pipenv run emulator")
        return
    if not endpoint or not re.fullmatch(r"https?://[^/\s]+", endpoint.rstrip("/")):
        raise WorkshopError(
            f"{endpoint or 'no address'}: give the address your facilitator gave, e.g. "
            "workshop room use http://192.168.1.20:4443 (or --off to stop using one)"
        )
    endpoint = endpoint.rstrip("/")
    if why := unreachable(endpoint, seconds=5):
        raise WorkshopError(f"{why}; check the address, and that this laptop is on the venue's network")
    os.environ.update(environment(endpoint))
    load_room(CACHE_URL)  # the room the venue's emulator makes as it starts
    configure_project(REFERENCE, environment(endpoint))
    print(f"{REFERENCE.name} now uses the room at {endpoint} ({CACHE_URL}): every pipenv run and")
    print("pipenv shell opened from now, here and in the labs made from here (an open shell: exit, reopen).")
    user = Runner(REFERENCE).git("config", "user.name")
    name = name_from(user) if user else "YOUR-NAME"
    print(f"Next: pipenv run workshop start ../my-lab --room {CACHE_URL} --name {name}")
