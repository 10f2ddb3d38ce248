"""A room: the raw and cache buckets a facilitator sets up for one workshop, and what each
attendee's `workshop check` and `workshop doctor` report to it.

The raw bucket holds the four MNIST IDX files under `mnist/`; the cache bucket holds each
attendee's DVC remote (`gs://CACHE/<name>`) and the room's own records under `.workshop-room/`:
`room.json` (the buckets, the files' MD5, the names expected), `attendees/<name>.json` (steps
done, the current problem, since when, the lab that holds the name), `doctor/<name>.json`
(the laptop's result before the day), and the sticky notes of `model/room_notes.py`. DVC never
touches those: `dvc gc -c` removes only what lies under a remote's `files/`. Making the room's
buckets and raw files is `actions/room_create.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.storage import (
    bucket_exists,
    bucket_name,
    client,
    cloud_error,
    is_gcs_answer,
    no_bucket,
    retry,
)

RECORDS = ".workshop-room"  # the room's folder in the cache bucket, beside the attendees' remotes
ROOM_RECORD = f"{RECORDS}/room.json"
ATTENDEES, DOCTOR = f"{RECORDS}/attendees", f"{RECORDS}/doctor"
HANDS, SAID = f"{RECORDS}/hands", f"{RECORDS}/said.json"  # the room's sticky notes (model/room_notes.py)


def storage_errors() -> tuple[type[Exception], ...]:
    from google.api_core.exceptions import GoogleAPIError
    from requests.exceptions import RequestException

    return GoogleAPIError, RequestException


def read_json(cache: str, path: str) -> dict | None:
    """One record of the room (None where there is none)."""
    from google.api_core.exceptions import NotFound

    try:
        text = client().bucket(cache).blob(path).download_as_text(retry=retry(10), timeout=10)
    except NotFound:
        if not bucket_exists(cache):
            raise no_bucket(cache) from None
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None  # cut short: its writer writes it whole next time
    return record if isinstance(record, dict) else None


def write_json(cache: str, path: str, record: dict, timeout: float = 20) -> None:
    client().bucket(cache).blob(path).upload_from_string(
        json.dumps(record, indent=1), content_type="application/json", retry=retry(timeout), timeout=timeout
    )


def load_room(cache_url: str) -> dict:
    """The room's record, read from its cache bucket (a line saying why not, otherwise)."""
    cache = bucket_name(cache_url)
    try:
        record = read_json(cache, ROOM_RECORD)
    except storage_errors() as error:
        raise cloud_error(error, f"reading the room in gs://{cache}") from None
    if record is None:
        raise WorkshopError(
            f"gs://{cache} holds no room: the facilitator makes it with workshop room create RAW "
            f"gs://{cache} (the emulator's own room: pipenv run emulator makes it)"
        )
    if all(str(record.get(key)).startswith("gs://") for key in ("raw", "cache", "source")):
        return record
    raise WorkshopError(
        f"gs://{cache}/{ROOM_RECORD} is not a room's record: the facilitator makes it again with "
        f"workshop room create {record.get('raw', 'RAW')} gs://{cache} --replace"
    )


def rooms_held(project: str | None = None) -> dict[str, dict]:
    """The rooms this storage holds (a room's record in a cache bucket): gs://CACHE -> its record."""
    try:
        buckets = [bucket.name for bucket in client(project).list_buckets(retry=retry(10), timeout=10)]
        records = {f"gs://{name}": read_json(name, ROOM_RECORD) for name in buckets}
    except storage_errors() as error:
        raise cloud_error(error, "listing the rooms") from None
    return {room: record for room, record in sorted(records.items()) if record}


def when(record: dict) -> str:
    """When a record was last written, as the facilitator's clock reads it."""
    try:
        return f"{datetime.fromisoformat(record['updated']).astimezone():%a %H:%M}"
    except (KeyError, TypeError, ValueError):
        return "at an unknown time"


def claim(cache_url: str, record: dict, rejoin: bool) -> dict | None:
    """Put a new lab's first record in the room under its name, unless another lab holds the name
    (the same person on a new laptop takes it back with --rejoin: the other lab's record, which
    this one replaces, is returned, so that what it held can be said)."""
    cache, name = bucket_name(cache_url), record["name"]
    try:
        held = read_json(cache, f"{ATTENDEES}/{name}.json")
        if held and held.get("lab") != record["lab"] and not rejoin:
            raise WorkshopError(
                f"{name} is already in room gs://{cache} (another lab, last checked {when(held)}, at step "
                f"{held.get('step') or 'all done'}): choose another --name, or, if {name} is you on a new "
                "laptop or in a new lab, add --rejoin"
            )
        if not held or held.get("lab") != record["lab"]:  # the lab's own record stays as it is
            write_json(cache, f"{ATTENDEES}/{name}.json", record)
            return held
    except storage_errors() as error:
        raise cloud_error(error, f"joining room gs://{cache}") from None
    return None


def send_record(cache_url: str, record: dict) -> str:
    """Write one attendee's record to the room: "sent", "taken" (another lab holds the name: its
    record is left alone), "removed" (the facilitator took the name out: it stays out until the
    attendee joins again) or "failed"; never fails the check that calls it."""
    from google.api_core.exceptions import NotFound

    try:
        cache = bucket_name(cache_url)
        held = client().bucket(cache).blob(f"{ATTENDEES}/{record['name']}.json")
        try:
            previous = json.loads(held.download_as_text(retry=None, timeout=3))
        except NotFound:  # joining wrote the first record: none now, in a room that is there, means removed
            there = client().bucket(cache).blob(ROOM_RECORD).exists(retry=None, timeout=3)
            return "removed" if there else "failed"
        except ValueError:  # cut short: this check writes it whole
            previous = {}
        if previous.get("lab") not in (None, record["lab"]):
            return "taken"
        held.upload_from_string(json.dumps(record), content_type="application/json", retry=None, timeout=3)
        return "sent"
    except Exception:  # offline, no credentials, no access: the check itself matters more
        return "failed"


def snapshot(cache_url: str) -> tuple[dict, list[dict], list[dict]]:
    """The room as it stands: its record, every attendee's and every laptop's (doctor) last
    record, read in parallel (one listing, then one request each)."""
    cache = bucket_name(cache_url)
    storage = client()
    from google.api_core.exceptions import NotFound

    try:
        blobs = list(storage.list_blobs(cache, prefix=f"{RECORDS}/", retry=retry(10), timeout=10))
        with ThreadPoolExecutor(max_workers=16) as pool:
            texts = list(pool.map(lambda blob: blob.download_as_text(retry=retry(10), timeout=10), blobs))
    except NotFound as error:
        raise (no_bucket(cache) if is_gcs_answer(error) else cloud_error(error, f"gs://{cache}")) from None
    except storage_errors() as error:
        raise cloud_error(error, f"reading the room in gs://{cache}") from None
    room, attendees, doctor, hands = {}, [], [], {}
    for blob, text in zip(blobs, texts, strict=True):
        try:
            record = json.loads(text)
        except ValueError:
            continue  # a record cut short: the attendee's next check writes it whole
        if blob.name == ROOM_RECORD:
            room = record
        elif blob.name.startswith(f"{ATTENDEES}/"):
            attendees.append(record)
        elif blob.name.startswith(f"{DOCTOR}/"):
            doctor.append(record)
        elif blob.name.startswith(f"{HANDS}/"):
            hands[record.get("name")] = record
    for attendee in attendees:  # a raised hand goes with its attendee's record
        if attendee.get("name") in hands:
            attendee["hand"] = hands[attendee["name"]]
    return room, attendees, doctor


def attendees(cache_url: str) -> list[dict]:
    return snapshot(cache_url)[1]


def remove(
    cache_url: str, names: list[str], everyone: bool, data: bool, on_line: Callable[[str], None]
) -> int:
    """Take attendees out of the room: their records (check and doctor), and with `data` their DVC
    remote folder too. Says what went to `on_line`, name by name as it goes (what went before an
    error is said too); returns how many names were not found."""
    cache = bucket_name(cache_url)
    storage = client()
    try:
        if everyone:
            listed = [
                blob.name.rsplit("/", 1)[1].removesuffix(".json")
                for folder in (ATTENDEES, DOCTOR, HANDS)
                for blob in storage.list_blobs(cache, prefix=f"{folder}/", retry=retry(10), timeout=10)
            ]
            names = sorted(set(listed))
            if data:  # the remotes of attendees whose records went before
                folders = storage.list_blobs(cache, delimiter="/", retry=retry(10), timeout=10)
                list(folders)  # the folders come with the listing's last page
                names = sorted({*names, *(p.rstrip("/") for p in folders.prefixes if p != f"{RECORDS}/")})
            if not names:
                on_line(f"gs://{cache}: no attendees to remove")
        missing = 0
        for name in names:
            paths = [f"{folder}/{name}.json" for folder in (ATTENDEES, DOCTOR, HANDS)]
            gone = [path for path in paths if storage.bucket(cache).get_blob(path, retry=retry(10))]
            folder = list(storage.list_blobs(cache, prefix=f"{name}/", retry=retry(10))) if data else []
            for blob in [*(storage.bucket(cache).blob(path) for path in gone), *folder]:
                blob.delete(retry=retry(20))
            if not gone and not folder:
                missing += 1
                on_line(f"{name}: not in room gs://{cache} (nothing removed)")
                continue
            kept = "" if data else f"; their DVC remote gs://{cache}/{name} kept (--data removes it)"
            removed = f", and {len(folder)} objects of gs://{cache}/{name}" if data else ""
            count = f"{len(gone)} record{'' if len(gone) == 1 else 's'}"
            join = f"workshop room join gs://{cache} --name {name}"
            back = "" if everyone else (f"; by mistake? their next check says how they come back ({join}), "
                                        "and their doctor's result when they run it again")  # fmt: skip
            on_line(f"{name}: removed from the room ({count}{removed}){kept}{back}")
        room = read_json(cache, ROOM_RECORD) or {}
        if set(room.get("expected", [])) & set(names):  # gone from the room: no longer expected either
            room["expected"] = sorted(set(room["expected"]) - set(names))
            write_json(cache, ROOM_RECORD, room)
    except storage_errors() as error:
        raise cloud_error(error, f"removing from room gs://{cache}") from None
    return missing


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
