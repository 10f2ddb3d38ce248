"""`workshop doctor`: a laptop checked in one go, a line per item, `ok` or `FAIL` with the fix.

Real things, no mocks: the doctor runs as an attendee runs it, `python -m dvc_workshop.lab
doctor` in this checkout after the README's set-up (pipenv on PATH, git's identity set), then
with one thing broken at a time; the room's lines run against the emulator on a free port.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.emulator import Emulator, check_port_free

from .conftest import REPO_ROOT, WORKSHOP, copy_repo, free_port, global_git_identity, pipenv_env, run

pytestmark = pytest.mark.slow

ITEMS = [
    "python",
    "pipenv",
    "git",
    "git identity",
    "line endings",
    "long paths",
    "pager",
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


def with_less(folder: Path) -> dict[str, str]:
    """A laptop whose pager is `less` and nothing else (no DVC_PAGER, no PAGER), whether or not the
    machine running the tests has one: a stand-in `less` in `folder`, first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    less = folder / "less"
    less.write_text('#!/bin/sh\nexec cat "$@"\n')
    less.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}", "DVC_PAGER": "", "PAGER": ""}


def doctor(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The doctor in an attendee's shell (the README's set-up done); its lines by item. The
    laptop is this test's, not the host's: its own git config (no system one), a pager (`less`)
    unless `env` says otherwise."""
    (tmp_path / "home").mkdir(exist_ok=True)
    laptop = {**with_less(tmp_path / "pager"), "GIT_CONFIG_SYSTEM": os.devnull, **env}
    environment = {**pipenv_env(tmp_path / "home"), **global_git_identity(tmp_path), **laptop}
    bin_dir = Path(sys.executable).parent  # pipenv_env's first folder, as there
    environment["PATH"] = os.pathsep.join([environment["PIPX_BIN_DIR"], str(bin_dir), laptop["PATH"]])
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
    *items, summary = [
        line for line in result.stdout.splitlines() if not line.startswith(("The room", "(The room"))
    ]
    reds = sum(line.startswith("FAIL") for line in items)
    notes = sum(line.startswith("note") for line in items)
    noted = f" ({notes} {'note' if notes == 1 else 'notes'}: ready all the same)" if notes else ""
    assert summary.startswith(
        f"{reds} of {len(items)} items need a fix" if reds else f"All {len(items)} items ok{noted} ("
    ), summary
    assert result.returncode == (1 if reds else 0), result.stdout
    lines = {}
    for line in items:
        mark, item, found = line[:4].strip(), *line[6:].split(": ", 1)
        assert mark in ("ok", "note", "FAIL") and item not in lines, line
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
    assert lines["pager"] == f"ok dvc exp show and dvc dag page through less ({tmp_path / 'pager' / 'less'})"
    assert lines["python"].startswith(f"ok {sys.version.split()[0]}")
    assert (
        "the environment takes" in lines["disk"]
        and "locked packages at their versions" in lines["environment"]
    )
    assert " imports in " in lines["tensorflow"]
    if sys.platform != "win32":
        assert lines["long paths"] == "ok not Windows: no limit"
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


def test_autocrlf_true_is_named_with_a_fix_that_works_as_printed(tmp_path: Path) -> None:
    home = tmp_path / "home"  # Git for Windows' default, in the global config of this laptop's home
    home.mkdir()
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Ada Attendee\n\temail = ada@example.com\n[core]\n\tautocrlf = true\n"
    )
    result, lines = doctor(tmp_path, GIT_CONFIG_GLOBAL=str(gitconfig))
    assert result.returncode == 1
    assert_green_but(lines, "line endings")
    found, fix = lines["line endings"].split("; fix: ")
    assert found.startswith("FAIL core.autocrlf=true (global config): ") and "dvc.lock" in found
    assert fix == "git config --global core.autocrlf input"
    run(["bash", "-c", fix], cwd=tmp_path, HOME=str(home), GIT_CONFIG_GLOBAL=str(gitconfig))
    _, lines = doctor(tmp_path, GIT_CONFIG_GLOBAL=str(gitconfig))
    assert_green_but(lines)
    assert lines["line endings"].startswith("ok core.autocrlf is input")


def path_without(program: str, path: str, folder: Path) -> str:
    """`path` with each folder that holds `program` replaced by links to all its other files."""
    folders = []
    for number, entry in enumerate(path.split(os.pathsep)):
        if not (Path(entry) / program).exists():
            folders.append(entry)
            continue
        shadow = folder / f"path-{number}"
        shadow.mkdir(parents=True)
        for item in os.scandir(entry):
            if item.name != program:
                (shadow / item.name).symlink_to(item.path)
        folders.append(str(shadow))
    return os.pathsep.join(folders)


def test_no_pager_is_a_note_with_a_hint_that_works_as_printed(tmp_path: Path) -> None:
    """A minimal Debian, a container, Windows' cmd: no less. DVC prints its tables unpaged, so the
    laptop is ready all the same (exit 0, ready in the room), with the hint beside it."""
    path = path_without("less", os.environ["PATH"], tmp_path / "bin")
    no_pager = {"PATH": path, "DVC_PAGER": "", "PAGER": ""}  # empty: unset, for DVC as for the doctor
    result, lines = doctor(tmp_path, **no_pager)
    assert result.returncode == 0, result.stdout
    assert_green_but(lines, "pager")
    found, hint = lines["pager"].split("; hint: ", 1)
    assert found == (
        "note no DVC_PAGER, no PAGER, no less on PATH: dvc exp show and dvc dag print unpaged, with a warning"
    )
    variable, value = re.search(r"export (DVC_PAGER)=(\S+)", hint).groups()
    if not shutil.which(value, path=path):  # `more` comes with util-linux, but a container may lack it
        with_less(tmp_path / "more")
        (tmp_path / "more" / "less").rename(tmp_path / "more" / value)
        path = f"{tmp_path / 'more'}{os.pathsep}{path}"
    _, lines = doctor(tmp_path, **{**no_pager, "PATH": path, variable: value})
    assert_green_but(lines)
    assert lines["pager"].startswith(f"ok dvc exp show and dvc dag page through DVC_PAGER={value} (")


def test_a_pager_that_is_not_there_stops_the_doctor(tmp_path: Path) -> None:
    """DVC_PAGER naming a program that is not installed: DVC cannot show its tables at all."""
    result, lines = doctor(tmp_path, DVC_PAGER="no-such-pager -R")
    assert result.returncode == 1
    assert_green_but(lines, "pager")
    found = "FAIL DVC_PAGER=no-such-pager -R names no-such-pager, not on PATH; fix: "
    assert lines["pager"].startswith(found), lines["pager"]


def test_gitattributes_keeps_a_windows_checkout_lf(tmp_path: Path) -> None:
    """Git for Windows' core.autocrlf=true checks text out with CRLF (so DVC's hashes would differ
    from dvc.lock's); the repository's .gitattributes keeps its files LF there."""
    files = ["dvc.yaml", "params.yaml", "dvc_workshop/pipeline/train.py"]
    plain = tmp_path / "plain"  # the contrast: the same file, no .gitattributes
    plain.mkdir()
    (plain / "dvc.yaml").write_bytes((REPO_ROOT / "dvc.yaml").read_bytes())
    identity = global_git_identity(tmp_path)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "no attributes"]):
        run(["git", *args], cwd=plain, **identity)
    for source, names, eol in ((plain, files[:1], "w/crlf"), (copy_repo(tmp_path / "repo"), files, "w/lf")):
        clone = tmp_path / f"{source.name}-on-windows"
        run(["git", "clone", "-q", "--config", "core.autocrlf=true", str(source), str(clone)], cwd=tmp_path)
        listed = run(["git", "ls-files", "--eol", *names], cwd=clone).stdout.splitlines()
        assert {line.split("\t")[1]: line.split()[1] for line in listed} == dict.fromkeys(names, eol)
        assert all((b"\r\n" in (clone / name).read_bytes()) == (eol == "w/crlf") for name in names)


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
        "workshop room create RAW gs://r-empty-cache (the emulator's own room: pipenv run emulator makes it)"
    )


def test_each_room_failure_points_at_its_own_fix(tmp_path: Path, emulator: Emulator) -> None:
    """No bucket, no storage API at that address, nothing listening: three reasons, three fixes."""
    room = [*WORKSHOP, "room", "show", "gs://r-no-such-cache"]
    shown = run(room, cwd=REPO_ROOT, check=False, **emulator.environment())
    assert shown.stderr == (
        f"error: there is no bucket gs://r-no-such-cache at {emulator.url} "
        "(is that the name your facilitator gave?)\n"
    ), shown.stderr
    server = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port := free_port())]
    web = subprocess.Popen(server, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        elsewhere = run(room, cwd=REPO_ROOT, check=False, STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{port}")
    finally:
        web.terminate()
        web.wait()
    assert (
        f"http://127.0.0.1:{port} is not a storage API (it answers 404 to GCS requests)" in elsewhere.stderr
    )
    refused = run(room, cwd=REPO_ROOT, check=False, STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{port}")
    assert (
        f"nothing answers at http://127.0.0.1:{port} (connection refused: is the emulator running there?)"
        in refused.stderr
    ), refused.stderr
    for result in (shown, elsewhere, refused):
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr


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
    assert lines["cache bucket"].startswith(
        "ok writes and deletes gs://r-test-cache/.workshop-room/doctor-probe-"
    )
    left = emulator.client().list_blobs("r-test-cache", prefix=".workshop-room/doctor")
    assert not list(left), "the doctor's probe is deleted"
    print(result.stdout)


def test_the_room_sees_whose_laptop_is_ready(tmp_path: Path, emulator: Emulator) -> None:
    if port_taken():
        pytest.skip("port 4443 is taken here (another emulator): no laptop here can be all green")
    create = [*WORKSHOP, "room", "create", "gs://r-day-raw", "gs://r-day-cache", "--expect", "ada,ben,cy,dee"]
    run(create, cwd=REPO_ROOT, **emulator.environment())
    result, _ = doctor(tmp_path, "--room", "gs://r-day-cache", "--name", "ada", **emulator.environment())
    assert "\nThe room gs://r-day-cache has your result, as ada.\nAll 15 items ok" in result.stdout, (
        result.stdout
    )
    crlf = tmp_path / "crlf.gitconfig"  # ben's laptop: Git for Windows' default line endings
    crlf.write_text("[user]\n\tname = Ben\n\temail = ben@example.com\n[core]\n\tautocrlf = true\n")
    doctor(tmp_path, "--room", "gs://r-day-cache", "--name", "ben", GIT_CONFIG_GLOBAL=str(crlf),
           **emulator.environment())  # fmt: skip
    no_pager = {
        "PATH": path_without("less", os.environ["PATH"], tmp_path / "bin"),
        "DVC_PAGER": "",
        "PAGER": "",
    }
    result, lines = doctor(tmp_path, "--room", "gs://r-day-cache", "--name", "cy", **no_pager,
                           **emulator.environment())  # fmt: skip
    assert lines["pager"].startswith("note ") and result.returncode == 0, result.stdout  # cy: no less
    shown = run(
        [*WORKSHOP, "room", "show", "gs://r-day-cache"], cwd=REPO_ROOT, **emulator.environment()
    ).stdout
    assert "  ready (2): ada, cy\n" in shown and "  not run (1): dee" in shown, shown
    assert re.search(r"^  not ready \(1\): ben \(line endings: core.autocrlf=true", shown, re.M), shown
    alone = run([*WORKSHOP, "doctor", "--name", "ada"], cwd=REPO_ROOT, check=False)
    assert alone.returncode == 2 and alone.stderr.startswith("error: --name tells a room your result"), alone


def test_a_second_laptop_does_not_take_a_names_result(tmp_path: Path, emulator: Emulator) -> None:
    """li's doctor result is li's laptop's: another laptop's doctor under li's name leaves it, and
    says how li, on a new laptop, sends it from there (--rejoin)."""
    run(
        [*WORKSHOP, "room", "create", "gs://r-two-raw", "gs://r-two-cache"],
        cwd=REPO_ROOT,
        **emulator.environment(),
    )
    li = ["--room", "gs://r-two-cache", "--name", "li"]
    first, _ = doctor(tmp_path, *li, **emulator.environment())
    assert "The room gs://r-two-cache has your result, as li." in first.stdout, first.stdout

    def held() -> str:  # the room's record of li's laptop, as it is now
        return (
            emulator.client().bucket("r-two-cache").blob(".workshop-room/doctor/li.json").download_as_text()
        )

    kept = held()
    (tmp_path / "another-home").mkdir()
    another = {"HOME": str(tmp_path / "another-home"), **emulator.environment()}
    second, _ = doctor(tmp_path, *li, **another)
    assert "kept the result it has for li, from another laptop" in second.stdout, second.stdout
    assert "workshop doctor --room gs://r-two-cache --name li --rejoin)" in second.stdout
    assert held() == kept
    rejoined, _ = doctor(tmp_path, *li, "--rejoin", **another)
    assert "The room gs://r-two-cache has your result, as li." in rejoined.stdout
    assert held() != kept
