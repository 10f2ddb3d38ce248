"""An attendee's side of a room: joining it under a name that is theirs alone, and pointing the
workshop's folder at a room a venue's emulator serves (`workshop room use`).

A name belongs to one lab: the lab's identity (a key of its own and its folder, hashed, so the
record holds no local path) goes with each record, and a check from another lab leaves the
name's record alone. The same person on a new laptop takes the name back with --rejoin.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.git_state import GitState
from dvc_workshop.lab.model.lab import LAB_KEY, NAME_KEY, Lab, name_from
from dvc_workshop.lab.model.layout import CACHE_URL, REFERENCE, ROOM_FILE
from dvc_workshop.lab.model.progress import now, versions
from dvc_workshop.lab.model.records import ROOM_RECORD, claim, load_room, rooms_held, when
from dvc_workshop.lab.model.runner import Runner
from dvc_workshop.lab.model.storage import bucket_name, check_name, client
from dvc_workshop.lab.steps.registry import number_of


def lab_identity(root: Path, key: str | None = None) -> str:
    """Which lab a record comes from: its key (`lab_key`; a lab not made yet is given the one it
    will keep) with the lab's folder (a copy elsewhere is another lab), hashed, so the record
    holds no local path. Not the laptop's name: a Mac's changes with the network it joins, and
    the lab would lose its own name to itself."""
    return hashlib.sha256(f"{key or lab_key(root)}\0{root.resolve()}".encode()).hexdigest()[:16]


def lab_key(root: Path, key: str | None = None) -> str:
    """The lab's own key, kept in its git config (which no commit carries): `key` where given (the
    one its start claimed the name with), else the one it has, else a new one."""
    lab = Runner(root)
    key = key or lab.git_output("config", "--local", LAB_KEY) or secrets.token_hex(16)
    lab.completed("git", "config", "--local", LAB_KEY, key)
    return key


def laptop_identity() -> str:
    """Which laptop a doctor's result comes from: a key made the first time it is asked for, kept in
    the user's settings (~/.config/dvc-workshop), hashed; where it cannot be kept, the laptop's
    name and home."""
    where = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "dvc-workshop/laptop-key"
    try:
        key = where.read_text().strip() if where.is_file() else ""
        if not key:
            key = secrets.token_hex(16)
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_text(f"{key}\n")
    except OSError:
        key = f"{socket.gethostname()}\0{Path.home()}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def first_record(name: str, root: Path, key: str | None = None) -> dict:
    """The record that holds a name from the moment a lab joins, before its first check."""
    return {"name": name, "lab": lab_identity(root, key), "laptop": laptop_identity(), "steps_done": [],
            "step": 1, "repeats": 0, "problem": None, "since": now(), "updated": now(),
            "versions": versions()}  # fmt: skip


def claim_name(
    cache_url: str, name: str, root: Path, rejoin: bool, key: str | None = None
) -> tuple[dict, list[str]]:
    """The room's record, after the name is this lab's in it (refused if another lab holds it),
    and a line saying what a --rejoin left behind. `key`: a lab not made yet, the key it will keep."""
    room = load_room(cache_url)
    replaced = claim(cache_url, first_record(check_name(name), root, key), rejoin)
    if not replaced:
        return room, []
    done = len(replaced.get("steps_done") or [])
    steps = f"{done} step{'' if done == 1 else 's'} done"
    return room, [f"({name}'s record in the room came from another lab, with {steps} at its last check, "
                  f"{when(replaced)}; it follows this lab now: its first workshop check says where it "
                  "stands, the steps done here counting, not those.)"]  # fmt: skip


def write_room_file(lab: Path, room: dict) -> None:
    (lab / ROOM_FILE).write_text(
        "# The workshop room this lab is in (workshop start --room): the lab's checks, hints and\n"
        "# solutions use its buckets. Your name, your folder in the cache bucket: git config workshop.name\n"
        f"cache: {room['cache']}\nraw: {room['raw']}\n"
        + (f"steps: {room['steps']}  # the room's lab ends at this step\n" if room.get("steps") else "")
    )


def follow_room_length(lab: Lab) -> str | None:
    """The lab's length as its room has it now (the facilitator's `room create --steps`, changed
    after the lab joined): the room file rewritten and committed, and the line that says so; None
    where nothing changed or the room cannot be read (a failed read changes nothing)."""
    if lab.is_teammate or not (lab.root / ROOM_FILE).is_file() or GitState(lab).operation():
        return None  # (a rebase or merge under way: no commit in its middle; a later check follows)
    try:
        room = lab.room
        held = client().bucket(bucket_name(room["cache"])).blob(ROOM_RECORD)
        steps = json.loads(held.download_as_text(retry=None, timeout=3)).get("steps")
    except Exception:  # offline, no room, a record cut short: the check goes on with what the lab knows
        return None
    steps = steps if isinstance(steps, int) and steps >= 1 else None
    if steps == lab.room_steps:
        return None
    write_room_file(lab.root, {**room, "steps": steps})
    lab.__dict__.pop("room_steps", None)  # read again
    ends = f"ends at step {steps}" if steps else "has every step"
    lab.run_or_fail("git", "add", ROOM_FILE)
    lab.run_or_fail("git", "commit", "-q", "-m", f"Room {room['cache']}: the lab {ends}", "--", ROOM_FILE)
    return f"(The room's lab now {ends}, as the facilitator set it: {ROOM_FILE} follows, committed.)"


def join_room(lab: Lab, cache_url: str, name: str, rejoin: bool) -> list[str]:
    """The lab in the room under `name` (its room file committed); the lines that say so."""
    if lab.is_teammate:
        raise WorkshopError(f"{lab.root.name} is a teammate's clone: join the room from your own lab")
    joined, rejoined = claim_name(cache_url, name, lab.root, rejoin)  # claimed before anything is written
    write_room_file(lab.root, joined)
    lab.run_or_fail("git", "config", NAME_KEY, name)
    if lab.git_output(
        "status", "--porcelain", "--", ROOM_FILE
    ):  # committed: a teammate's clone follows the room
        lab.run_or_fail("git", "add", ROOM_FILE)
        lab.run_or_fail("git", "commit", "-q", "-m", f"Join room {joined['cache']}", "--", ROOM_FILE)
    return [
        f"{lab.root.name} is in room {joined['cache']} as {name}: each workshop check now tells the room.",
        f"Your remote: dvc remote add -d -f dvc-workshop {joined['cache']}/{name} "
        f"(lab step {number_of('remote')})",
        *rejoined,
    ]


def use_endpoint(endpoint: str | None, off: bool, room: str | None = None) -> list[str]:
    """Write (or take back) the venue emulator's address in this workshop folder's settings, which
    pipenv and the labs made from it read (.env, .dvc/config.local); the lines that say what now."""
    from dvc_workshop.lab.model.emulator_settings import configure_project, environment, unreachable

    if off:
        configure_project(REFERENCE, None)
        return [f"{REFERENCE.name} uses no emulator now: start your own with pipenv run emulator"]
    if not endpoint or not re.fullmatch(r"https?://[^/\s]+", endpoint.rstrip("/")):
        raise WorkshopError(
            f"{endpoint or 'no address'}: give the address your facilitator gave, e.g. "
            "workshop room use http://192.168.1.20:4443 (or --off to stop using one)"
        )
    endpoint = endpoint.rstrip("/")
    if why := unreachable(endpoint, seconds=5):
        raise WorkshopError(f"{why}; check the address, and that this laptop is on the venue's network")
    os.environ.update(environment(endpoint))
    room = venue_room(endpoint, room)
    configure_project(REFERENCE, environment(endpoint))
    git = Runner(REFERENCE)
    name = name_from(git.git_output("config", "user.name"), git.git_output("config", "user.email")) or (
        "YOUR-NAME (a-z, 0-9, - or _)"
    )
    return [
        f"{REFERENCE.name} now uses the room at {endpoint} ({room}): every pipenv run and",
        "pipenv shell opened from now, here and in the labs made from here (an open shell: exit, reopen).",
        f"Next: pipenv run workshop start ../my-lab --room {room} --name {name}",
    ]


def venue_room(endpoint: str, asked: str | None) -> str:
    """The facilitator's room at a venue's emulator: the one asked for, or the one it holds beside
    the emulator's own default room (which every emulator makes as it starts)."""
    rooms = list(rooms_held())
    theirs = [room for room in rooms if room != CACHE_URL] or [room for room in rooms if room == CACHE_URL]
    if asked and asked.rstrip("/") in rooms:
        return asked.rstrip("/")
    if len(theirs) == 1 and not asked:
        return theirs[0]
    if not rooms:
        raise WorkshopError(f"the emulator at {endpoint} holds no room yet: ask your facilitator")
    which = f"no room {asked}: it holds" if asked else "several rooms:"
    raise WorkshopError(f"the emulator at {endpoint} holds {which} {', '.join(theirs)}; ask your facilitator "
                        f"which is yours, then: workshop room use {endpoint} --room {theirs[0]}")  # fmt: skip
