"""`room create`: a room's two buckets, its raw MNIST files and its record, made or completed.

Run again at any time, it only adds what is missing and never replaces what the room holds
without `--replace`: a re-run without `--mnist` keeps the full MNIST a first run uploaded, and
says so. The emulator makes its own default room with the same function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.layout import RAW_PREFIX, REFERENCE
from dvc_workshop.lab.model.records import ROOM_RECORD, read_json, rooms_held, storage_errors, write_json
from dvc_workshop.lab.model.storage import bucket_exists, bucket_name, client, cloud_error, md5_of, retry

# The four files of dvc_workshop.data.sources.IDX_FILES, not imported from there: that module
# loads pandas, and every check in a room imports this package.
RAW_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz")  # fmt: skip


def raw_files(mnist: Path | None) -> dict[str, bytes]:
    """The four IDX .gz files for the raw bucket: as they are in `mnist` (checked to be MNIST
    first), or the shipped sample written as IDX, split as download_mnist splits it."""
    from dvc_workshop.data.sources import load_idx
    from dvc_workshop.lab.model.emulator import raw_mnist, raw_objects

    if mnist is None:
        return raw_objects(
            raw_mnist(None, REFERENCE / "sources/mnist-sample.yaml", REFERENCE / "params.yaml")
        )
    load_idx(str(mnist))  # each file there, gzip, IDX, images and labels paired: MNIST, not a stray file
    return {name: (mnist / name).read_bytes() for name in RAW_FILES}


def make_buckets(storage, names: tuple[str, str], on_line: Callable[[str], None]) -> None:
    for name in names:
        if storage.lookup_bucket(name, retry=retry(20)) is None:
            bucket = storage.bucket(name)
            bucket.iam_configuration.uniform_bucket_level_access_enabled = True
            storage.create_bucket(bucket, retry=retry(20))
            on_line(f"gs://{name}: created (uniform access)")
        else:
            on_line(f"gs://{name}: exists")


def plan_uploads(found: dict[str, str], files: dict[str, bytes], given: bool, replace: bool, where: str):
    """Which raw files to upload: the missing ones, and those that differ only with --replace.
    Without --mnist, a raw folder that holds all four files is kept whatever they are."""
    wanted = {name: hashlib.md5(data).hexdigest() for name, data in files.items()}
    if not given and set(found) == set(RAW_FILES) and not replace:
        return [], found
    differ = sorted(name for name in found if found[name] != wanted[name])
    if differ and not replace:
        theirs = "the files of --mnist" if given else "the sample's"
        raise WorkshopError(
            f"{where} holds {', '.join(differ)} unlike {theirs}: nothing replaced; add --replace to "
            f"replace them{'' if given else ', or --mnist DIR with the files the room had, to complete it'}"
        )
    return sorted(set(RAW_FILES) - set(found)) + differ, wanted


def check_one_room(raw: str, cache: str, project: str | None) -> None:
    """One room over a raw bucket, unless asked for: a new cache bucket beside a room that has the
    same raw bucket is most often a typo in its name (a second room, with a send text of its own)."""
    rooms = [room for room, record in rooms_held(project).items() if record.get("raw") == f"gs://{raw}"]
    if rooms and f"gs://{cache}" not in rooms:
        raise WorkshopError(
            f"gs://{raw} is the raw bucket of room {', '.join(rooms)} already: gs://{cache} would be a "
            f"second room over it (a typo in its name?); nothing changed; add --another-room to mean it"
        )


def create_room(raw_url: str, cache_url: str, mnist: Path | None = None, project: str | None = None,
                replace: bool = False, expect: tuple[str, ...] = (),
                files: dict[str, bytes] | None = None, steps: int | None = None, *, another: bool = False,
                sample: bool = False, on_line: Callable[[str], None]) -> dict:  # fmt: skip
    """Make the room, or complete it: both buckets, the raw files (MD5 verified), the record.
    `files` are the raw files where they are not `mnist`'s nor the reference's sample (the emulator's).
    Each line to say goes to `on_line` as it is known: a bucket's is said even if an upload fails."""
    raw, cache = bucket_name(raw_url), bucket_name(cache_url)
    if raw == cache:
        raise WorkshopError("the raw and cache buckets must differ: attendees only read raw, and write cache")
    files = files or raw_files(mnist)  # bad input refused before any bucket is made
    where = f"gs://{raw}/{RAW_PREFIX}"
    storage = client(project)
    try:
        if bucket_exists(raw) and read_json(raw, ROOM_RECORD):
            raise WorkshopError(
                f"gs://{raw} is a room's cache bucket (it holds {ROOM_RECORD}): the raw bucket comes first, "
                f"workshop room create gs://RAW gs://{raw}; nothing changed"
            )
        old = (read_json(cache, ROOM_RECORD) or {}) if bucket_exists(cache) else {}
        if not old and not another:
            check_one_room(raw, cache, project)
        if replace and mnist is None and not sample and old.get("mnist") == "full":
            raise WorkshopError(
                f"gs://{raw} holds the full MNIST: --replace without --mnist would put the sample in its "
                "place; give --mnist DIR (the full files), or add --sample if the sample is what you want"
            )
        if old.get("raw", f"gs://{raw}") != f"gs://{raw}" and not replace:
            raise WorkshopError(
                f"gs://{cache} is the room of {old['raw']}, not gs://{raw}: nothing changed; add --replace "
                f"to make it the room of gs://{raw}"
            )
        make_buckets(storage, (raw, cache), on_line)
        listed = storage.list_blobs(raw, prefix=f"{RAW_PREFIX}/", retry=retry(20))
        found = {blob.name.rsplit("/", 1)[1]: md5_of(blob) for blob in listed}
        found = {name: md5 for name, md5 in found.items() if name in RAW_FILES}
        uploads, digests = plan_uploads(found, files, mnist is not None, replace, where)
        for name in uploads:
            blob = storage.bucket(raw).blob(f"{RAW_PREFIX}/{name}")
            blob.upload_from_string(files[name], content_type="application/gzip", retry=retry(60))
            blob.reload()
            if md5_of(blob) != digests[name]:
                raise WorkshopError(f"{where}/{name}: its MD5 differs from the file's after upload")
        sample = {name: hashlib.md5(data).hexdigest() for name, data in files.items()} if not mnist else {}
        if mnist or uploads:
            kind = "full" if mnist else "sample"
        else:
            kind = old["mnist"] if old.get("md5") == digests and "mnist" in old else "sample"
            kind = kind if digests == sample or kind != "sample" else "full"
        record = {"raw": f"gs://{raw}", "cache": f"gs://{cache}", "source": where, "mnist": kind,
                  "md5": digests, "expected": sorted({*old.get("expected", []), *expect})}  # fmt: skip
        if steps or old.get("steps"):
            record["steps"] = steps or old["steps"]  # the lab's end, kept until another is given
        if record != old:
            write_json(cache, ROOM_RECORD, record)
    except storage_errors() as error:
        raise cloud_error(error, "room create") from None
    verb = "replaced or added" if replace else "uploaded"
    kept = "" if uploads or mnist or kind == "sample" else " (kept: without --mnist nothing is replaced)"
    on_line(f"{where}: the four MNIST files ({kind}{kept}), MD5 verified; "
            f"{len(uploads)} {verb}, {4 - len(uploads)} there already")  # fmt: skip
    added = len(record["expected"]) - len(old.get("expected", []))
    if expect:
        on_line(f"names expected: {len(record['expected'])} ({added} added)")
    if steps and steps != old.get("steps"):
        was = (
            f" (was {old.get('steps')}; each lab in the room follows at its next check)"
            if old.get("steps")
            else ""
        )
        on_line(f"the lab ends at step {steps}{was}")
    on_line(f"gs://{cache}/{ROOM_RECORD}: {'written' if record != old else 'unchanged'}")
    return record
