"""A room: the raw and cache buckets a facilitator sets up for one workshop, and what each
attendee's `workshop check` reports to it.

The raw bucket holds the four MNIST IDX files under `mnist/`; the cache bucket holds each
attendee's DVC remote (`gs://CACHE/<name>`) and the room's own records under `.workshop-room/`:
`room.json` (the buckets, the files' MD5) and `attendees/<name>.json` (steps done, the current
problem, since when). DVC never touches those: `dvc gc -c` removes only what lies under a
remote's `files/`. google-cloud-storage does the bucket work, against real GCS or the emulator
(it honours STORAGE_EMULATOR_HOST).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path

from dvc_workshop.cli import WorkshopError
from dvc_workshop.places import RAW_PREFIX, REFERENCE

RECORDS = ".workshop-room"  # the room's folder in the cache bucket, beside the attendees' remotes
# The four files of dvc_workshop.data.sources.IDX_FILES, not imported from there: that module
# loads pandas, and every check in a room imports this one.
RAW_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz")  # fmt: skip
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")  # an attendee's folder in the cache bucket
BUCKET = re.compile(r"[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]")  # GCS's naming rules, in short
CREDENTIALS_FIX = "gcloud auth application-default login (or start the emulator: pipenv run emulator)"


def bucket_name(url: str) -> str:
    """The bucket of a `gs://NAME` URL, or a line saying what a bucket URL looks like."""
    name = url.removeprefix("gs://").rstrip("/")
    if not url.startswith("gs://") or not BUCKET.fullmatch(name):
        raise WorkshopError(
            f"{url} is not a bucket URL: gs:// then 3-63 lowercase letters, digits, - _ or ., "
            "e.g. gs://acme-dvc-workshop-cache"
        )
    return name


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise WorkshopError(
            f"--name {name!r}: your folder in the room's bucket, 1-40 letters, digits, - or _, e.g. ada"
        )
    return name


def client(project: str | None = None):  # -> google.cloud.storage.Client
    """Google's storage client: the emulator's when STORAGE_EMULATOR_HOST is set (no account
    needed), otherwise this laptop's application-default credentials."""
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        return storage.Client(project=project or "dvc-workshop")
    os.environ.setdefault("NO_GCE_CHECK", "true")  # no probe of a cloud VM's metadata server
    try:
        return storage.Client(project=project)
    except DefaultCredentialsError:
        raise WorkshopError(f"no Google Cloud credentials on this laptop: {CREDENTIALS_FIX}") from None


def retry(seconds: float):
    """google-cloud-storage's own retry policy, cut to `seconds` (its default tries for 2 min)."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(seconds)


def cloud_error(error: Exception, what: str) -> WorkshopError:
    """A storage failure as one line: what was being done, why, and the usual fix."""
    reason = getattr(error, "message", None) or str(error).splitlines()[0]
    code = getattr(error, "code", None)
    if code in (401, 403):
        return WorkshopError(
            f"{what}: access denied ({reason}); {CREDENTIALS_FIX}, with an account of the room"
        )
    if code == 404:
        return WorkshopError(f"{what}: not found ({reason})")
    return WorkshopError(f"{what}: {reason} (is the endpoint reachable? {CREDENTIALS_FIX})")


def md5_of(blob) -> str:
    """A blob's MD5 as hex (GCS gives it in base64)."""
    return base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else ""


def raw_files(mnist: Path | None) -> dict[str, bytes]:
    """The four IDX .gz files for the raw bucket: as they are in `mnist` (checked to be MNIST
    first), or the shipped sample written as IDX, split as download_mnist splits it."""
    from dvc_workshop.data.sources import load_idx
    from dvc_workshop.emulator.server import raw_mnist, raw_objects

    if mnist is None:
        return raw_objects(
            raw_mnist(None, REFERENCE / "sources/mnist-sample.yaml", REFERENCE / "params.yaml")
        )
    load_idx(str(mnist))  # each file there, gzip, IDX, images and labels paired: MNIST, not a stray file
    return {name: (mnist / name).read_bytes() for name in RAW_FILES}


def create_room(raw_url: str, cache_url: str, mnist: Path | None, project: str | None) -> dict:
    """Make the room (idempotent): both buckets, the raw files (MD5 verified), the room's record."""
    from google.api_core.exceptions import GoogleAPIError
    from requests.exceptions import RequestException

    raw, cache = bucket_name(raw_url), bucket_name(cache_url)
    if raw == cache:
        raise WorkshopError("the raw and cache buckets must differ: attendees only read raw, and write cache")
    files = raw_files(mnist)  # bad input refused before any bucket is made
    storage = client(project)
    try:
        for name in (raw, cache):
            if storage.lookup_bucket(name, retry=retry(20)) is None:
                bucket = storage.bucket(name)
                bucket.iam_configuration.uniform_bucket_level_access_enabled = True
                storage.create_bucket(bucket, retry=retry(20))
                print(f"created gs://{name} (uniform access)")
            else:
                print(f"gs://{name} exists")
        digests, uploaded = {}, 0
        for name, data in files.items():
            digests[name] = hashlib.md5(data).hexdigest()
            path = f"{RAW_PREFIX}/{name}"
            blob = storage.bucket(raw).get_blob(path, retry=retry(20))  # None where absent
            if blob is None or md5_of(blob) != digests[name]:  # a second run uploads nothing
                blob = storage.bucket(raw).blob(path)
                blob.upload_from_string(data, content_type="application/gzip", retry=retry(60))
                blob.reload()
                uploaded += 1
            if md5_of(blob) != digests[name]:
                raise WorkshopError(f"gs://{raw}/{path}: its MD5 differs from the file's after upload")
        record = {
            "raw": f"gs://{raw}",
            "cache": f"gs://{cache}",
            "source": f"gs://{raw}/{RAW_PREFIX}",
            "mnist": "full" if mnist else "sample",
            "md5": digests,
        }
        storage.bucket(cache).blob(f"{RECORDS}/room.json").upload_from_string(
            json.dumps(record, indent=2), content_type="application/json", retry=retry(20)
        )
    except (GoogleAPIError, RequestException) as error:
        raise cloud_error(error, "room create") from None
    print(
        f"gs://{raw}/{RAW_PREFIX}: the four MNIST files ({record['mnist']}), MD5 verified; "
        f"{uploaded} uploaded, {len(files) - uploaded} there already"
    )
    return record


def load_room(cache_url: str) -> dict:
    """The room's record, read from its cache bucket (a line saying why not, otherwise)."""
    from google.api_core.exceptions import GoogleAPIError, NotFound
    from requests.exceptions import RequestException

    cache = bucket_name(cache_url)
    try:
        text = (
            client().bucket(cache).blob(f"{RECORDS}/room.json").download_as_text(retry=retry(10), timeout=10)
        )
    except NotFound:
        raise WorkshopError(
            f"gs://{cache} holds no room: the facilitator makes it with "
            f"workshop room create gs://<raw-bucket> gs://{cache}"
        ) from None
    except (GoogleAPIError, RequestException) as error:
        raise cloud_error(error, f"reading the room in gs://{cache}") from None
    try:
        record = json.loads(text)
        if all(str(record[key]).startswith("gs://") for key in ("raw", "cache", "source")):
            return record
    except (ValueError, TypeError, KeyError):
        pass
    raise WorkshopError(
        f"gs://{cache}/{RECORDS}/room.json is not a room's record: the facilitator makes it again with "
        f"workshop room create gs://<raw-bucket> gs://{cache}"
    )


def report(cache_url: str, record: dict) -> bool:
    """Write one attendee's record to the room; never fails the check that calls it (False)."""
    try:
        blob = client().bucket(bucket_name(cache_url)).blob(f"{RECORDS}/attendees/{record['name']}.json")
        blob.upload_from_string(json.dumps(record), content_type="application/json", retry=None, timeout=3)
        return True
    except Exception:  # offline, no credentials, no access: the check itself matters more
        return False


def attendees(cache_url: str) -> list[dict]:
    """Every attendee's last record in the room, read in parallel (one request each)."""
    from concurrent.futures import ThreadPoolExecutor

    from google.api_core.exceptions import GoogleAPIError
    from requests.exceptions import RequestException

    cache = bucket_name(cache_url)
    storage = client()
    try:
        blobs = list(storage.list_blobs(cache, prefix=f"{RECORDS}/attendees/", retry=retry(10), timeout=10))
        with ThreadPoolExecutor(max_workers=16) as pool:
            texts = list(pool.map(lambda blob: blob.download_as_text(retry=retry(10), timeout=10), blobs))
    except (GoogleAPIError, RequestException) as error:
        raise cloud_error(error, f"reading the room in gs://{cache}") from None
    records = []
    for text in texts:
        try:
            records.append(json.loads(text))
        except ValueError:
            continue  # a record cut short: the attendee's next check writes it whole
    return records
