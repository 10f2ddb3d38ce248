"""`workshop doctor`: a laptop checked in one go, a line per item, `ok` or `FAIL` with the fix.

Real things, no mocks: the doctor runs as an attendee runs it, `python -m dvc_workshop.lab
doctor` in this checkout after the README's set-up (pipenv on PATH, git's identity set), then
with one thing broken at a time; the room's lines run against the emulator on a free port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dvc_workshop.cli import WorkshopError
from dvc_workshop.emulator.server import Emulator, check_port_free

from .conftest import REPO_ROOT, WORKSHOP, global_git_identity, pipenv_env, run
from .test_remote import free_port

ITEMS = [
    "python",
    "pipenv",
    "git",
    "git identity",
    "disk",
    "environment",
    "tensorflow",
    "emulator",
    "port 4443",
]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    server = Emulator(tmp_path_factory.mktemp("gcs") / "buckets", free_port())
    server.start()
    yield server
    server.stop()


def port_taken() -> bool:
    try:
        check_port_free("127.0.0.1", 4443)
        return False
    except WorkshopError:
        return True


def doctor(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The doctor in an attendee's shell (the README's set-up done); its lines by item."""
    (tmp_path / "home").mkdir(exist_ok=True)
    environment = {**pipenv_env(tmp_path / "home"), **global_git_identity(tmp_path), **env}
    environment["PATH"] = f"{environment['PIPX_BIN_DIR']}{os.pathsep}{environment['PATH']}"  # pipx ensurepath
    if "STORAGE_EMULATOR_HOST" not in env:
        environment.pop("STORAGE_EMULATOR_HOST", None)
    command = [*WORKSHOP, "doctor", *args]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert time.monotonic() - started < 60, "every item answers within seconds"
    assert "Traceback" not in result.stderr and "\033[" not in result.stdout, (
        result.stderr
    )  # no colour in a pipe
    *items, summary = result.stdout.splitlines()
    reds = sum(line.startswith("FAIL") for line in items)
    assert summary.startswith(
        f"{reds} of {len(items)} items need a fix" if reds else f"All {len(items)} items ok"
    )
    assert result.returncode == (1 if reds else 0), result.stdout
    lines = {}
    for line in items:
        mark, item, found = line[:4].strip(), *line[6:].split(": ", 1)
        assert mark in ("ok", "FAIL") and item not in lines, line
        lines[item] = f"{mark} {found}"
    return result, lines


def assert_green_but(lines: dict[str, str], *red: str) -> None:
    """Every line ok but `red`, and port 4443's where something else holds it (other tests may)."""
    for item, line in lines.items():
        if item not in red and not (item == "port 4443" and port_taken()):
            assert line.startswith("ok "), f"{item}: {line}"


def test_this_laptop_is_ready(tmp_path: Path) -> None:
    result, lines = doctor(tmp_path)
    assert list(lines) == ITEMS
    assert_green_but(lines)
    assert lines["python"].startswith(f"ok {sys.version.split()[0]}")
    assert (
        "the environment takes" in lines["disk"]
        and "locked packages at their versions" in lines["environment"]
    )
    assert " imports in " in lines["tensorflow"]
    print(result.stdout)  # what this machine has, for `pytest -s`


def test_no_git_identity_is_named_with_a_fix_that_works_as_printed(tmp_path: Path) -> None:
    empty = tmp_path / "empty-gitconfig"
    empty.touch()
    result, lines = doctor(tmp_path, GIT_CONFIG_GLOBAL=str(empty))
    assert result.returncode == 1
    assert_green_but(lines, "git identity")
    found, fix = lines["git identity"].split("; fix: ")
    assert found == "FAIL git has no user.name and no user.email (put your own in the fix)"
    run(["bash", "-c", fix], cwd=tmp_path, GIT_CONFIG_GLOBAL=str(empty))
    assert "Ada Attendee" in empty.read_text() and "ada@example.com" in empty.read_text()


def test_port_4443_taken_is_named(tmp_path: Path) -> None:
    if port_taken():
        pytest.skip("port 4443 is in use here (another test's emulator): cannot take it for this test")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 4443))
        squatter.listen()  # a server that never answers, as a stray program would be
        result, lines = doctor(tmp_path)
    assert result.returncode == 1
    assert_green_but(lines, "port 4443")
    assert lines["port 4443"].startswith("FAIL taken by another program; fix: stop it (lsof -nP -iTCP:4443")


def test_a_bucket_with_no_room_is_named_with_the_facilitators_fix(tmp_path: Path, emulator: Emulator) -> None:
    emulator.client().create_bucket("r-empty-cache")
    result, lines = doctor(tmp_path, "--room", "gs://r-empty-cache", **emulator.environment())
    assert result.returncode == 1
    assert list(lines) == [*ITEMS, "room gs://r-empty-cache"]  # no bucket lines without the room's record
    assert_green_but(lines, "room gs://r-empty-cache")
    assert lines["room gs://r-empty-cache"] == (
        "FAIL gs://r-empty-cache holds no room: the facilitator makes it with "
        "workshop room create gs://<raw-bucket> gs://r-empty-cache"
    )


def test_a_room_made_by_room_create_is_reachable(tmp_path: Path, emulator: Emulator) -> None:
    create = [
        sys.executable,
        "-m",
        "dvc_workshop.lab",
        "room",
        "create",
        "gs://r-test-raw",
        "gs://r-test-cache",
    ]
    run(create, cwd=REPO_ROOT, **emulator.environment())
    result, lines = doctor(tmp_path, "--room", "gs://r-test-cache", **emulator.environment())
    assert_green_but(lines)
    assert list(lines)[len(ITEMS) :] == ["room gs://r-test-cache", "raw bucket", "cache bucket"]
    assert lines["raw bucket"] == "ok reads the four MNIST files in gs://r-test-raw/mnist"
    assert lines["cache bucket"].startswith("ok writes and deletes gs://r-test-cache/.workshop-room/doctor/")
    left = emulator.client().list_blobs("r-test-cache", prefix=".workshop-room/doctor/")
    assert not list(left), "the doctor's probe is deleted"
    print(result.stdout)
