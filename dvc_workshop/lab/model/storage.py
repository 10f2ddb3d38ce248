"""The room's buckets through google-cloud-storage, against real GCS or any stand-in for it (the
workshop's emulator, a venue's): the client, short retries, and a storage failure as one line
that points at the right fix (refused is not timed out; a missing bucket is not a missing room).
"""

from __future__ import annotations

import base64
import os
import re

from dvc_workshop.data.errors import WorkshopError

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # an attendee's folder in the cache bucket
BUCKET = re.compile(r"[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]")  # GCS's naming rules, in short
CREDENTIALS_FIX = (
    "gcloud auth application-default login (a venue's room: pipenv run workshop room use "
    "http://ADDRESS:4443, with the facilitator's address; your own: pipenv run emulator)"
)


def bucket_name(url: str) -> str:
    """The bucket of a `gs://NAME` URL, or a line saying what a bucket URL looks like."""
    name = url.removeprefix("gs://").rstrip("/")
    if not url.startswith("gs://") or not BUCKET.fullmatch(name):
        raise WorkshopError(
            f"{url} is not a bucket URL: gs:// then 3-63 lowercase letters, digits, - _ or ., "
            "e.g. gs://acme-dvc-workshop-cache"
        )
    return name


# Letters that Unicode does not decompose into a plain one and a mark.
UNFOLDED = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"})


def folded(name: str) -> str:
    """A name in the room's letters: Zoë Müller -> zoe muller, José -> jose (accents dropped)."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name.lower().translate(UNFOLDED))
    return plain.encode("ascii", "ignore").decode()


def check_name(name: str, option: str = "--name") -> str:
    """An attendee's name as the room keeps it (their folder in the cache bucket), or a line saying
    which to type instead; `option`: where it was given (--name, --expect)."""
    if not NAME.fullmatch(name.lower()) and NAME.fullmatch(folded(name)):
        raise WorkshopError(
            f"{option} {name!r}: the room's names are plain letters a-z, digits, - or _: "
            f"{option} {folded(name)}"
        )
    if NAME.fullmatch(name.lower()) and name != name.lower():
        raise WorkshopError(
            f"{option} {name!r}: lowercase, {option} {name.lower()} (folders are case-sensitive: "
            f"{name} and {name.lower()} would be two attendees)"
        )
    if not NAME.fullmatch(name):
        raise WorkshopError(
            f"{option} {name!r}: your folder in the room's bucket, 1-40 lowercase letters, digits, - or _, "
            "e.g. ada"
        )
    return name


def endpoint() -> str:
    """Where the buckets are: the stand-in STORAGE_EMULATOR_HOST names, or Google's."""
    return os.environ.get("STORAGE_EMULATOR_HOST") or "https://storage.googleapis.com"


def client(project: str | None = None):  # -> google.cloud.storage.Client
    """Google's storage client: the emulator's when STORAGE_EMULATOR_HOST is set (no account
    needed), otherwise this laptop's application-default credentials."""
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    if stand_in := os.environ.get("STORAGE_EMULATOR_HOST"):
        from dvc_workshop.lab.model.emulator_settings import unreachable

        if why := unreachable(stand_in):  # at once, in words: not google's retries for 10 s, then "Timeout"
            raise WorkshopError(f"{why}; that address is STORAGE_EMULATOR_HOST's (from .env, or this shell)")
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


def bucket_exists(name: str) -> bool:
    """Whether the bucket is there, asked of the storage API itself (a 404 from some other web
    server is a line about the address instead); an account that may not read a bucket's
    metadata (an attendee's) is told it exists."""
    from google.api_core.exceptions import Forbidden, NotFound

    try:
        client().get_bucket(name, retry=retry(10), timeout=10)
    except NotFound as error:
        if not is_gcs_answer(error):
            raise cloud_error(error, f"gs://{name}") from None
        return False
    except Forbidden:
        pass
    return True


def no_bucket(name: str) -> WorkshopError:
    return WorkshopError(
        f"there is no bucket gs://{name} at {endpoint()} (is that the name your facilitator gave?)"
    )


def is_gcs_answer(error: Exception) -> bool:
    """Whether a 404 came from a storage API (a JSON error), not from some other web server."""
    response = getattr(error, "response", None)
    return response is None or "json" in str(getattr(response, "headers", {}).get("content-type", ""))


def cloud_error(error: Exception, what: str) -> WorkshopError:
    """A storage failure as one line: what was being done, why, and the fix for that reason."""
    from google.api_core.exceptions import RetryError

    if isinstance(error, RetryError) and error.cause is not None:  # "Timeout of 10.0s exceeded": why?
        error = error.cause
    text = str(error)
    code = getattr(error, "code", None)
    if code in (401, 403):
        reason = getattr(error, "message", None) or text.splitlines()[0]
        return WorkshopError(
            f"{what}: access denied ({reason}); {CREDENTIALS_FIX}, as an attendee of the room"
        )
    if code == 404 and not is_gcs_answer(error):
        return WorkshopError(
            f"{what}: {endpoint()} is not a storage API (it answers 404 to GCS requests): "
            "check the address in STORAGE_EMULATOR_HOST (.env)"
        )
    if code == 404:
        return WorkshopError(f"{what}: not found ({getattr(error, 'message', text)})")
    if "refused" in text.lower():
        return WorkshopError(
            f"{what}: nothing answers at {endpoint()} (connection refused): is the emulator running? "
            "pipenv run emulator (or, for a venue's room, ask the facilitator)"
        )
    if "timed out" in text.lower() or "timeout" in type(error).__name__.lower():
        return WorkshopError(
            f"{what}: {endpoint()} did not answer in time (no reply, not refused): check this "
            "laptop's network (the venue's Wi-Fi, a VPN), then try again"
        )
    return WorkshopError(f"{what}: {text.splitlines()[0] if text else type(error).__name__}")


def md5_of(blob) -> str:
    """A blob's MD5 as hex (GCS gives it in base64)."""
    return base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else ""
