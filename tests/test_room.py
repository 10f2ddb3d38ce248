"""A room of 30 on buckets of the facilitator's own names, against the emulator on 127.0.0.1.

eve's lab (in a folder named dvc-lab, not the README's my-lab) is played through `workshop
solution` to step 5, copied after each step; the copies join the room under other names, so 30
attendees stand at steps 1 to 5, each checked once, and a copy still pushing to eve's folder is
told so. `room show --json` must give each one's steps exactly, the page must show them in a
real browser, and the room's records must not disturb DVC: a fresh clone pulls the same bytes,
and `dvc gc -c` leaves the records alone. Then eve plays on to step 9, on her own remote folder
(tests/test_mistakes.py plays finn's, outside a room).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dvc_workshop.data.sources import IDX_FILES
from dvc_workshop.emulator.server import Emulator
from dvc_workshop.lab.room.records import RAW_FILES

from .conftest import WORKSHOP, copy_repo, digests, pipenv_env
from .test_remote import free_port

RAW, CACHE = "gs://acme-mnist-raw", "gs://acme-dvc-cache"
LAB = WORKSHOP
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def sh(args: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode in ok, f"{' '.join(args)} exited {result.returncode} in {cwd}:\n{output}"
    assert "Traceback" not in output, output
    return output


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory):
    """The emulator with the room's buckets, the facilitator's clone, and the attendees' env."""
    root = tmp_path_factory.mktemp("room")
    emulator = Emulator(root / "buckets", free_port())
    emulator.start()
    home = root / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Eve Example\n\temail = eve@example.com\n")
    env = {**pipenv_env(home), **emulator.environment()}
    reference = copy_repo(root / "dvc-workshop")
    try:
        yield root, reference, env, emulator
    finally:
        emulator.stop()


def test_room_create_is_idempotent_and_refuses_bad_names(room) -> None:
    root, reference, env, _ = room
    assert tuple(name for pair in IDX_FILES.values() for name in pair) == RAW_FILES  # room.py's copy
    made = sh([*LAB, "room", "create", RAW, CACHE], reference, env)
    assert "MD5 verified; 4 uploaded, 0 there already" in made, made
    assert f"pipenv run workshop start ../my-lab --room {CACHE} --name <their-name>" in made
    assert "--role=roles/storage.objectViewer" in made and "--role=roles/storage.objectAdmin" in made
    again = sh([*LAB, "room", "create", RAW, CACHE], reference, env)
    assert "0 uploaded, 4 there already" in again and "exists" in again, again
    bad = sh([*LAB, "room", "create", "gs://Bad_Name!", CACHE], reference, env, ok=(2,))
    assert bad.startswith("error: gs://Bad_Name! is not a bucket URL"), bad
    missing = sh(
        [*LAB, "start", str(root / "x"), "--room", "gs://no-such-room", "--name", "ada"],
        reference,
        env,
        ok=(2,),
    )
    assert missing.startswith("error: gs://no-such-room holds no room"), missing
    assert not (root / "x").exists()


def test_thirty_attendees_at_their_steps(room) -> None:
    root, reference, env, emulator = room
    sh([*LAB, "room", "create", RAW, CACHE], reference, env)
    eve = root / "eve" / "dvc-lab"
    started = sh([*LAB, "start", str(eve), "--room", CACHE, "--name", "eve"], reference, env)
    assert f"dvc remote add -d dvc-workshop {CACHE}/eve" in started, started
    expected: dict[str, list[int]] = {}
    made_at: dict[str, int] = {}  # the step of eve's lab each copy was made at
    copies = iter(f"attendee-{n:02}" for n in range(1, 30))
    for step in range(1, 6):
        if step > 1:
            solved = sh([*LAB, "solution", str(step)], eve, env)
            if step == 2:
                assert f"$ dvc remote add -d dvc-workshop {CACHE}/eve" in solved, solved
        for name in [next(copies) for _ in range(6 if step < 5 else 5)]:  # 6+6+6+6+5 copies
            copy = root / name / "dvc-lab"
            shutil.copytree(eve, copy, symlinks=True)
            sh([*LAB, "room", "join", CACHE, "--name", name], copy, env)
            # A copy made after step 2 pushes to eve's folder: its step 2 is not done until it has its own.
            expected[name] = [1] if step == 1 else [1, *range(3, step + 1)]
            made_at[name] = step
    expected["eve"] = [1, 2, 3, 4, 5]
    for name in expected:
        lab = eve if name == "eve" else root / name / "dvc-lab"
        verdict = sh([*LAB, "check"], lab, env, ok=(1,))
        assert f"(The room at {CACHE}" not in verdict, verdict  # the record was written
        if made_at.get(name, 1) >= 2 and name != "attendee-01":
            line = f"Step 2: the default remote is {CACHE}/eve (dvc-workshop), not your folder {CACHE}/{name}"
            assert line in verdict and f"Hint: dvc remote add -d -f dvc-workshop {CACHE}/{name}" in verdict

    # A room that cannot be written (gone, no access): the check is the same, with one line more.
    lost = root / "attendee-01" / "dvc-lab"
    room_file = (lost / "workshop-room.yaml").read_text()
    assert f"cache: {CACHE}\nraw: {RAW}\n" in room_file  # committed: a teammate's clone has it too
    (lost / "workshop-room.yaml").write_text(room_file.replace(CACHE, "gs://acme-gone-cache"))
    verdict = sh([*LAB, "check"], lost, env, ok=(1,))
    assert "(The room at gs://acme-gone-cache did not get this check: it is on your laptop only.)" in verdict
    assert "Step 2: no default DVC remote" in verdict, verdict
    (lost / "workshop-room.yaml").write_text(room_file)

    shown = json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env))
    assert {a["name"]: a["steps_done"] for a in shown} == expected
    assert {a["name"]: a["step"] for a in shown} == {name: 6 if name == "eve" else 2 for name in expected}
    for attendee in shown:
        assert str(root) not in json.dumps(attendee), attendee  # no local paths
        assert {"name", "steps_done", "problem", "updated", "since", "versions"} <= set(attendee)
    table = sh([*LAB, "room", "show", CACHE], reference, env)
    assert f"Room {CACHE}: 30 attendees, 0 done" in table and "Most common problems now:" in table, table
    assert re.search(r"^\s+6  step 2: no default DVC remote$", table, re.M), table

    # The records do not disturb DVC: ada's data comes back byte-identical in a fresh clone,
    # `dvc status -c` sees the remote in sync, `dvc gc -c` removes only its own objects.
    teammate = root / "eve" / "teammate"
    sh(["git", "push", "-q", "origin", "main"], eve, env)  # as lab step 7 does
    sh(["git", "clone", "-q", str(root / "eve" / "dvc-lab-origin.git"), str(teammate)], root, env)
    sh([sys.executable, "-m", "dvc", "pull"], teammate, env)
    outputs = ("data", "models", "reports/preprocessed.png", "reports/predictions.csv")
    assert digests(teammate, *outputs) == digests(eve, *outputs)
    assert "in sync" in sh([sys.executable, "-m", "dvc", "status", "-c"], eve, env)
    sh([sys.executable, "-m", "dvc", "gc", "-w", "-c", "-f"], eve, env)
    assert len(json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env))) == 30
    assert "in sync" in sh([sys.executable, "-m", "dvc", "status", "-c"], eve, env)
    sh([sys.executable, "-m", "dvc", "exp", "run", "-q", "-n", "one-epoch", "-S", "train.epochs=1"], eve, env)
    sh([sys.executable, "-m", "dvc", "exp", "push", "origin", "one-epoch"], eve, env)
    assert "in sync" in sh([sys.executable, "-m", "dvc", "status", "-c"], eve, env)
    assert len(json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env))) == 30
    made = sh([*LAB, "room", "create", RAW, CACHE], reference, env)  # the room's own record is there
    assert "0 uploaded, 4 there already" in made

    page = root / "room.html"
    sh([*LAB, "room", "show", CACHE, "--html", str(page)], reference, env)
    text = page.read_text()
    assert text.count('class="tile') == 30
    assert not re.search(r"\b(src|href)=|url\(|@import", text), "the page loads nothing (offline rooms)"
    if CHROMIUM is None:
        pytest.skip("no Chromium here for the page (apt install chromium)")
    dom = sh(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()], root, env
    )
    tiles = dict(re.findall(r'data-name="([^"]+)" data-steps="([^"]*)"', dom))
    assert {name: [int(n) for n in steps.split()] for name, steps in tiles.items()} == expected
    screenshot = root / "room.png"
    sh([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={screenshot}",
        "--window-size=1600,1000", page.as_uri()], root, env)  # fmt: skip
    assert screenshot.stat().st_size > 10_000

    # eve plays on to the end of step 9, on her own folder of the room's cache bucket, once her
    # workspace is back from the experiment above (as the README's step 9 puts it back).
    verdict = sh([*LAB, "check"], eve, env, ok=(1,))
    assert "Step 5: the workspace holds experiment one-epoch's results" in verdict, verdict
    sh(["bash", "-c", verdict.split("\nHint: ", 1)[1].strip()], eve, env)
    for step in range(6, 10):
        sh([*LAB, "solution", str(step)], eve, env)
    assert f"url = {CACHE}/eve" in (eve / ".dvc/config").read_text()
    records = {a["name"]: a for a in json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env))}
    assert records["eve"]["steps_done"] == list(range(1, 10)) and records["eve"]["step"] == 10, records["eve"]
    folders = {path.rsplit("/", 1)[-1] for path in emulator.filesystem().ls(CACHE.removeprefix("gs://"))}
    assert "eve" in folders and "ada" not in folders, folders  # every push went to eve's own folder
