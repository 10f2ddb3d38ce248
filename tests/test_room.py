"""Rooms on a venue's network: the emulator served on 127.0.0.2 (standing for the facilitator's
LAN address) by its own command, as `pipenv run emulator --host` runs it, with its default room and
rooms of the facilitator's own bucket names beside it.

`room create` keeps what a room holds (the full MNIST, the room's record) unless told to replace
it; a name is one attendee's (a second lab is refused, the same person takes it back with
--rejoin, `room remove` takes records out). Then a room of 30: eve's lab (in a folder named
dvc-lab, not the README's my-lab) is played through `workshop solution` to step 5, copied after
each step; the copies join under other names, so 30 attendees stand at steps 1 to 5, each checked
once, and a copy still pushing to eve's folder is told so. `room show --json` must give each
one's steps exactly, the page must show them in a real browser, and the room's records must not
disturb DVC (a push, an experiment pushed, `dvc gc -c`). finn, with a workshop clone of his own
pointed at the venue's emulator (`room use`), plays to step 5 beside eve. The page's layout for
3 and 100 attendees is checked in the browser.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dvc_workshop.data.sources import IDX_FILES
from dvc_workshop.lab.actions.room_create import RAW_FILES
from dvc_workshop.lab.commands.room_page import page
from dvc_workshop.lab.model.emulator_settings import written_settings
from dvc_workshop.lab.model.layout import CACHE_URL
from dvc_workshop.lab.steps.registry import STEPS

from .clones import copy_repo
from .conftest import SHARED_MNIST, WORKSHOP, digests, free_port, pipenv_env
from .venue import CHROMIUM, VENUE, sh, venue_emulator

pytestmark = pytest.mark.slow

RAW, CACHE = "gs://acme-mnist-raw", "gs://acme-dvc-cache"
LAB = WORKSHOP


def attendee_home(root: Path, name: str) -> dict[str, str]:
    home = root / f"home-{name}"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f"[user]\n\tname = {name.title()} Example\n\temail = {name}@example.com\n"
    )
    return pipenv_env(home)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory):
    """The facilitator's clone, its emulator serving the venue's network (the CLI, as typed), and
    an attendee's environment pointed at it (what `.env` gives `pipenv run`)."""
    root = tmp_path_factory.mktemp("room")
    reference = copy_repo(root / "dvc-workshop")
    env = attendee_home(root, "eve")
    port = free_port()
    server, printed = venue_emulator(reference, env, port, root / "buckets")
    try:
        yield root, reference, {**env, **written_settings(reference)}, printed, f"http://{VENUE}:{port}"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    stopped = written_settings(reference).get("STORAGE_EMULATOR_HOST")  # never Google's servers unasked
    assert stopped == f"http://{VENUE}:{port}", "stopped, the emulator leaves its settings"


def test_the_venue_emulator_says_what_to_send(room) -> None:
    _, reference, env, printed, url = room
    assert "Anyone who reaches 127.0.0.2 can read and write these buckets, with no account" in printed
    assert f"  pipenv run workshop room use {url}\n" in printed, printed
    assert f"  pipenv run workshop start ../my-lab --room {CACHE_URL} --name NAME\n" in printed
    assert "pipenv sync && pipenv run dvc repro" in printed and "git clone " in printed
    shown = sh([*LAB, "room", "show", CACHE_URL], reference, env)  # the default room exists at once
    assert f"Room {CACHE_URL}: 0 attendees" in shown, shown


def test_room_create_keeps_what_it_holds(room) -> None:
    root, reference, env, _, url = room
    raw, cache = "gs://acme-full-raw", "gs://acme-full-cache"
    assert tuple(name for pair in IDX_FILES.values() for name in pair) == RAW_FILES  # create.py's copy
    made = sh([*LAB, "room", "create", raw, cache, "--expect", "ada,ben"], reference, env)
    assert "(sample), MD5 verified; 4 uploaded, 0 there already" in made, made
    assert "git clone " in made and "pipenv sync && pipenv run dvc repro" in made  # what to send
    assert f"pipenv run workshop start ../my-lab --room {cache} --name NAME" in made
    assert f"  pipenv run workshop room use {url}\n" in made and "add-iam-policy-binding" not in made, made
    # Zoë's clone, pointed at the venue by the line sent: the facilitator's room, beside the emulator's own.
    zoe = copy_repo(root / "zoe-workshop", git_identity=False)
    home = attendee_home(root, "zoe")
    (root / "home-zoe/.gitconfig").write_text("[user]\n\tname = Zoë Müller\n\temail = zoe@example.com\n")
    used = sh([sys.executable, "-m", "dvc_workshop.lab", "room", "use", url], zoe, home)
    assert f"Next: pipenv run workshop start ../my-lab --room {cache} --name zoe" in used, used
    typo = sh([*LAB, "room", "create", raw, "gs://acme-full-cahce"], reference, env, ok=(2,))
    said = (
        f"error: {raw} is the raw bucket of room {cache} already: gs://acme-full-cahce would be a second room"
    )
    assert typo.startswith(said) and "(a typo in its name?); nothing changed" in typo, typo
    second = sh([*LAB, "room", "create", raw, "gs://acme-full-second", "--another-room"], reference, env)
    assert "gs://acme-full-second: created" in second, second
    swapped = sh([*LAB, "room", "create", cache, "gs://acme-full-other"], reference, env, ok=(2,))
    assert swapped.startswith(f"error: {cache} is a room's cache bucket (it holds .workshop-room/room.json)")
    again = sh([*LAB, "room", "create", raw, cache], reference, env)
    assert "0 uploaded, 4 there already" in again and "room.json: unchanged" in again, again
    bad = sh([*LAB, "room", "create", "gs://Bad_Name!", cache], reference, env, ok=(2,))
    assert bad.startswith("error: gs://Bad_Name! is not a bucket URL"), bad
    other = sh([*LAB, "room", "create", "gs://acme-other-raw", cache], reference, env, ok=(2,))
    assert other.startswith(
        f"error: {cache} is the room of {raw}, not gs://acme-other-raw: nothing changed"
    ), other
    start = [*LAB, "start", str(root / "x"), "--room", "gs://no-such-room", "--name", "ada"]
    missing = sh(start, reference, env, ok=(2,))
    assert missing.startswith("error: there is no bucket gs://no-such-room at http://127.0.0.2:"), missing
    assert not (root / "x").exists()
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the full MNIST is not at {SHARED_MNIST}: its part of the test needs it")
    full = ["--mnist", str(SHARED_MNIST)]
    refused = sh([*LAB, "room", "create", raw, cache, *full], reference, env, ok=(2,))
    assert "unlike the files of --mnist: nothing replaced; add --replace" in refused, refused
    replaced = sh([*LAB, "room", "create", raw, cache, *full, "--replace"], reference, env)
    assert "(full), MD5 verified; 4 replaced or added, 0 there already" in replaced, replaced
    to_sample = sh([*LAB, "room", "create", raw, cache, "--replace"], reference, env, ok=(2,))
    assert "holds the full MNIST: --replace without --mnist would put the sample in its place" in to_sample
    kept = sh([*LAB, "room", "create", raw, cache], reference, env)  # the docs' rehearsal line, again
    assert "(full (kept: without --mnist nothing is replaced)), MD5 verified; 0 uploaded" in kept, kept
    shown = sh([*LAB, "room", "show", cache], reference, env)
    assert "not run (2): ada, ben" in shown, shown


def test_one_name_one_attendee(room) -> None:
    root, reference, env, _, _ = room
    sh([*LAB, "room", "create", RAW, CACHE], reference, env)
    first, second = root / "ana" / "lab", root / "ana" / "new-laptop-lab"
    sh([*LAB, "start", str(first), "--room", CACHE, "--name", "ana"], reference, env)
    taken = sh([*LAB, "start", str(second), "--room", CACHE, "--name", "ana"], reference, env, ok=(2,))
    assert taken.startswith(f"error: ana is already in room {CACHE} (another lab, last checked "), taken
    assert taken.rstrip().endswith("add --rejoin") and len(taken.strip().splitlines()) == 1, taken
    assert not second.exists()
    rejoined = sh([*LAB, "start", str(second), "--room", CACHE, "--name", "ana", "--rejoin"], reference, env)
    assert "(ana's record in the room came from another lab, with 0 steps done at its last check" in rejoined
    sh([*LAB, "check"], second, env, ok=(1,))
    old = sh([*LAB, "check"], first, env, ok=(1,))
    assert (
        f"another lab holds the name ana there. If ana is you: workshop room join {CACHE} --name ana --rejoin"
        in old
    )
    records = json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env))
    assert [a["name"] for a in records] == ["ana"] and "lab" not in records[0], records
    removed = sh([*LAB, "room", "remove", CACHE, "ana", "ghost"], reference, env, ok=(1,))
    assert "ana: removed from the room (1 record); their DVC remote" in removed, removed
    assert f"ghost: not in room {CACHE} (nothing removed)" in removed, removed
    after = sh([*LAB, "check"], second, env, ok=(1,))  # her lab does not put her back by itself
    assert f"(The room at {CACHE} no longer lists ana: this check is on your laptop only" in after, after
    assert json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env)) == []
    sh([*LAB, "room", "join", CACHE, "--name", "ana"], second, env)
    assert [a["name"] for a in json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env))] == [
        "ana"
    ]
    upper = sh([*LAB, "room", "join", CACHE, "--name", "Ana"], second, env, ok=(2,))
    assert upper.startswith("error: --name 'Ana': lowercase, --name ana"), upper
    sh([*LAB, "room", "remove", CACHE, "ana"], reference, env)  # the room of 30 below starts empty


def test_a_room_that_ends_at_step_3(room) -> None:
    """The facilitator chooses the lab's length: the check and the page count the room's steps."""
    root, reference, env, _, _ = room
    made = sh(
        [*LAB, "room", "create", "gs://acme-short-raw", "gs://acme-short-cache", "--steps", "3"],
        reference,
        env,
    )
    assert "the lab ends at step 3" in made, made
    lab = root / "gus" / "lab"
    sh([*LAB, "start", str(lab), "--room", "gs://acme-short-cache", "--name", "gus"], reference, env)
    assert "steps: 3" in (lab / "workshop-room.yaml").read_text()
    sh([*LAB, "solution", "1"], lab, env)
    checked = sh([*LAB, "check"], lab, env, ok=(1,))
    assert re.findall(r"^ ?(\d+)  ", checked, re.M) == ["1", "2", "3"], checked
    assert "1 of 3 done. Next: lab step 2, Your remote." in checked, checked
    further = sh([*LAB, "check", "4"], lab, env, ok=(1,))
    assert re.findall(r"^ ?(\d+)  ", further, re.M) == ["1", "2", "3", "4"], further
    # The facilitator makes the lab longer: gus's next check counts 5 steps, without a room join.
    longer = sh([*LAB, "room", "create", "gs://acme-short-raw", "gs://acme-short-cache", "--steps", "5"],
                reference, env)  # fmt: skip
    assert "the lab ends at step 5 (was 3; each lab in the room follows at its next check)" in longer, longer
    checked = sh([*LAB, "check"], lab, env, ok=(1,))
    assert "(The room's lab now ends at step 5, as the facilitator set it: workshop-room.yaml" in checked
    assert "1 of 5 done." in checked and not sh(["git", "status", "--porcelain"], lab, env), checked
    sh([*LAB, "room", "create", "gs://acme-short-raw", "gs://acme-short-cache", "--steps", "3"], reference,
       env)  # fmt: skip
    assert "1 of 3 done." in sh([*LAB, "check"], lab, env, ok=(1,))
    page_file = root / "short.html"
    sh([*LAB, "room", "show", "gs://acme-short-cache", "--html", str(page_file)], reference, env)
    bar = re.search(r'<div class="bar">(.*?)</div>', page_file.read_text()).group(1)
    assert bar.count("<span") == 3, bar


def test_thirty_attendees_at_their_steps(room) -> None:
    root, reference, env, _, url = room
    sh([*LAB, "room", "create", RAW, CACHE], reference, env)
    eve = root / "eve" / "dvc-lab"
    started = sh([*LAB, "start", str(eve), "--room", CACHE, "--name", "eve"], reference, env)
    assert f"dvc remote add -d dvc-workshop {CACHE}/eve" in started, started
    expected: dict[str, list[int]] = {}
    made_at: dict[str, int] = {}  # the step of eve's lab each copy was made at
    copies = iter(f"attendee-{n:02}" for n in range(1, 30))
    for step in range(1, 6):
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

    # eve's workspace back from the experiment above, by the check's own hint (as the README's
    # step 9 puts it back); every push went to her own folder of the room's cache bucket.
    verdict = sh([*LAB, "check"], eve, env, ok=(1,))
    assert "Step 5: the workspace holds experiment one-epoch's results" in verdict, verdict
    sh(["bash", "-c", verdict.split("\nHint: ", 1)[1].strip()], eve, env)
    sh([*LAB, "check", "5"], eve, env)
    assert f"url = {CACHE}/eve" in (eve / ".dvc/config").read_text()
    records = {a["name"]: a for a in json.loads(sh([*LAB, "room", "show", CACHE, "--json"], reference, env))}
    assert records["eve"]["steps_done"][:5] == [1, 2, 3, 4, 5] and records["eve"]["step"] == 6, records["eve"]
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    venue = storage.Client("x", AnonymousCredentials(), client_options={"api_endpoint": url})
    listed = venue.list_blobs(CACHE.removeprefix("gs://"), delimiter="/")
    list(listed)  # the listing's folders come with its last page
    folders = {prefix.rstrip("/") for prefix in listed.prefixes}
    assert "eve" in folders and "ada" not in folders, folders  # every push went to eve's own folder


def test_a_second_attendee_with_a_clone_of_her_own(room) -> None:
    """finn's workshop clone is pointed at the venue's emulator by `room use`; his lab joins the
    room eve is in, with only STORAGE_EMULATOR_HOST set (gcsfs's other settings follow it, so no
    page of storage warnings), and both are at step 5 or beyond."""
    root, _, _, _, url = room
    env = attendee_home(root, "finn")
    env.pop("STORAGE_EMULATOR_HOST", None)
    refused = sh([*LAB, "room", "use", f"http://{VENUE}:{free_port()}"], root, env, ok=(2,))
    assert "(connection refused: is the emulator running there?)" in refused, refused
    clone = copy_repo(root / "finn-workshop", git_identity=False)
    workshop = [sys.executable, "-m", "dvc_workshop.lab"]  # the clone's own tool (cwd first on sys.path)
    several = sh([*workshop, "room", "use", url], clone, env, ok=(2,))  # the rooms the tests before made
    assert "holds several rooms: " in several and CACHE in several and CACHE_URL not in several
    used = sh([*workshop, "room", "use", url, "--room", CACHE], clone, env)
    assert f"Next: pipenv run workshop start ../my-lab --room {CACHE} --name finn" in used, used
    assert written_settings(clone)["STORAGE_EMULATOR_HOST"] == url  # what `pipenv run` reads from .env
    env["STORAGE_EMULATOR_HOST"] = url  # and here, only it, as for any stand-in for GCS set by hand
    sh([*workshop, "start", "../finn-lab", "--room", CACHE, "--name", "finn"], clone, env)
    lab = root / "finn-lab"
    for step in range(1, 6):
        solved = sh([*LAB, "solution", str(step)], lab, env)
        assert "Could not determine bucket type" not in solved and "credentials were not found" not in solved
    sh([*LAB, "check", "5"], lab, env)
    records = {a["name"]: a for a in json.loads(sh([*LAB, "room", "show", CACHE, "--json"], root, env))}
    for name in ("eve", "finn"):
        assert set(records[name]["steps_done"]) >= {1, 2, 3, 4, 5}, records[name]
    sh([*workshop, "room", "use", "--off"], clone, env)
    assert not written_settings(clone)
    # The emulator started again over the same data (a restart): its send text is for the rooms the
    # facilitator made there, not for the default room it makes as it starts.
    env.pop("STORAGE_EMULATOR_HOST")
    server, printed = venue_emulator(clone, env, free_port(), root / "buckets")
    server.send_signal(signal.SIGINT)
    server.wait(timeout=30)
    assert f"--room {CACHE} --name NAME" in printed and f"--room {CACHE_URL} " not in printed, printed


def layout(page_file: Path) -> dict[str, str]:
    """The page as a 1400x900 screen shows it: its own count of tiles off the screen and of a cut
    side panel (the page's script measures them), and its text."""
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900", "--dump-dom",
         page_file.as_uri()], capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    body = re.search(r"<body ([^>]*)>", dom)
    assert body, dom[:500]
    return {**dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1))), "text": re.sub(r"<[^>]+>", " ", dom)}


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here for the page (apt install chromium)")
@pytest.mark.parametrize("count", [3, 100])
def test_the_page_fits_one_screen(tmp_path: Path, count: int) -> None:
    now = datetime.now(timezone.utc)
    attendees = [
        {"name": f"attendee-{n:03}", "steps_done": list(range(1, n % 10 + 1)), "step": n % 10 + 1,
         "since": (now - timedelta(minutes=n % 30)).isoformat(), "repeats": n % 7, "updated": now.isoformat(),
         "problem": f"the stage train has no -p train (its parameters): dvc stage add -f -n train ({n % 2})"}
        for n in range(count)
    ]  # fmt: skip
    page_file = tmp_path / "room.html"
    page_file.write_text(
        page(CACHE, attendees, [{"name": "attendee-000", "ok": True}], {"expected": ["zed"]})
    )
    seen = layout(page_file)
    assert seen["offscreen"] == "0" and seen["cut"] == "0", (
        f"{count} attendees: {seen['offscreen']} tiles off"
    )
    for step in STEPS:  # whole titles, with the count on each
        assert step.title in seen["text"], step.title
    assert "red: 20 min or more on a step, or 5 checks in a row failing on one problem" in seen["text"]
    assert ("Most common problems now" in seen["text"]) == (count == 100)  # only problems two attendees share
    assert "ready (1): attendee-000" in seen["text"]
    assert f"not run ({count}): attendee-001, attendee-002, " in seen["text"], seen["text"][-2000:]
    assert "zed" in seen["text"] if count == 3 else "and 88 more (room show lists them)" in seen["text"]
    page_file.write_text(page_file.read_text().replace(".tile {", ".tile { min-height: 2000px;"))
    assert layout(page_file)["offscreen"] != "0", "the page's own check sees tiles off the screen"
