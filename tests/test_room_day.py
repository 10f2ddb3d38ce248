"""A day at a venue, rehearsed (issue 34): the facilitator's emulator on 127.0.0.2 (standing for
the venue's network) holding a room of the facilitator's own bucket names; three attendees on
laptops of their own (own homes, own workshop clones: "Zoë Müller", "jean-luc", "Li") who reach
it with `room use`; a second laptop that claims Li's name; jean-luc stuck; the emulator stopped
for a while and started again; the facilitator's `room create` again with another length; Li
removed and back as the hint says; then Li on a new laptop with --rejoin. After each event the
room's records (`room show --json`), the doctor's results and the page are asserted: nothing an
attendee did is erased or overwritten by someone else, and the page says when it is stale.

The short day runs in every run (an outage of a few seconds); the whole day (`pytest -m deep`)
waits out 20 s of outage and has every laptop run the doctor.
"""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .clones import copy_repo
from .conftest import free_port, pipenv_env
from .venue import CHROMIUM, VENUE, sh, venue_emulator

pytestmark = pytest.mark.slow

RAW, CACHE = "gs://zurich-dvc-raw", "gs://zurich-dvc-cache"
TOOL = [sys.executable, "-m", "dvc_workshop.lab"]  # run in a clone: that clone's tool and settings


class Laptop:
    """One person's laptop: a home with their git identity and a workshop clone of their own."""

    def __init__(self, root: Path, folder: str, user_name: str) -> None:
        home = root / folder / "home"
        home.mkdir(parents=True)
        (home / ".gitconfig").write_text(f"[user]\n\tname = {user_name}\n\temail = {folder}@example.com\n")
        self.env = pipenv_env(home)
        self.env.pop("STORAGE_EMULATOR_HOST", None)
        self.clone = copy_repo(root / folder / "dvc-workshop", git_identity=False)
        self.lab = root / folder / "my-lab"

    def workshop(self, *args: str, ok: tuple[int, ...] = (0,), where: Path | None = None) -> str:
        return sh([*TOOL, *args], where or self.clone, self.env, ok)

    def in_lab(self, *args: str, ok: tuple[int, ...] = (0, 1)) -> str:
        """The lab tool in the lab, as `pipenv run workshop` there (the tests' environment's)."""
        return sh([str(Path(sys.executable).with_name("workshop")), *args], self.lab, self.env, ok)


class Venue:
    """The facilitator's `pipenv run emulator --host`, started and stopped as on the day."""

    def __init__(self, facilitator: Laptop, data: Path) -> None:
        self.facilitator, self.data, self.port = facilitator, data, free_port()
        self.url = f"http://{VENUE}:{self.port}"
        self.server: subprocess.Popen[str] | None = None

    def start(self) -> str:
        self.server, printed = venue_emulator(
            self.facilitator.clone, self.facilitator.env, self.port, self.data
        )
        self.facilitator.env["STORAGE_EMULATOR_HOST"] = self.url  # what its .env gives pipenv run
        return printed

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            self.server.wait(timeout=30)


def records(facilitator: Laptop) -> dict[str, dict]:
    shown = json.loads(facilitator.workshop("room", "show", CACHE, "--json"))
    return {record["name"]: record for record in shown}


def doctor_line(facilitator: Laptop, name: str) -> str:
    """What `room show`'s "Before the day" lists says of `name`: ready, not ready (on what), not run."""
    shown = facilitator.workshop("room", "show", CACHE)
    for kind, names in re.findall(r"^  (ready|not ready|not run) \(\d+\): (.*)$", shown, re.M):
        for entry in names.split(", "):
            if entry == name or entry.startswith(f"{name} ("):
                return f"{kind}: {entry}"
    raise AssertionError(f"{name} is not in the room's list before the day:\n{shown}")


def play_day(root: Path, outage_s: float, whole: bool) -> None:
    facilitator = Laptop(root, "facilitator", "Fran Facilitator")
    venue = Venue(facilitator, root / "buckets")
    venue.start()
    try:
        made = facilitator.workshop("room", "create", RAW, CACHE, "--expect", "zoe,jean-luc,li")
        assert f"pipenv run workshop room use {venue.url}" in made, made

        # Morning: three attendees reach the facilitator's room by the one line sent.
        people = {"zoe": Laptop(root, "zoe", "Zoë Müller"), "jean-luc": Laptop(root, "jean-luc", "jean-luc"),
                  "li": Laptop(root, "li", "Li")}  # fmt: skip
        for name, laptop in people.items():
            used = laptop.workshop("room", "use", venue.url)
            assert f"Next: pipenv run workshop start ../my-lab --room {CACHE} --name {name}" in used, used
            laptop.env["STORAGE_EMULATOR_HOST"] = venue.url  # its .env, as pipenv run reads it
            laptop.workshop("start", "../my-lab", "--room", CACHE, "--name", name)
        doctors = people if whole else {"li": people["li"]}
        for name, laptop in doctors.items():
            sent = laptop.workshop("doctor", "--room", CACHE, "--name", name, ok=(0, 1))
            assert f"The room {CACHE} has your result, as {name}." in sent, sent
        li_doctor = doctor_line(facilitator, "li")
        assert li_doctor.startswith(("ready: li", "not ready: li (")), li_doctor
        assert sorted(records(facilitator)) == ["jean-luc", "li", "zoe"]

        # The work: zoe at step 3, li at step 2, jean-luc stuck on step 1 (three checks, no change).
        for step in (1, 2):
            people["zoe"].in_lab("solution", str(step), ok=(0,))
        people["li"].in_lab("solution", "1", ok=(0,))
        for _ in range(3):
            stuck = people["jean-luc"].in_lab("check")
            assert "Step 1: Pipfile lacks 2 dev packages of its lock" in stuck, stuck
        for name in ("zoe", "li"):
            people[name].in_lab("check")
        raised = people["zoe"].in_lab("help", "the download stage: which source?", ok=(0,))
        assert f"Your hand is up in room {CACHE}, as zoe (no one before you)" in raised, raised
        before = records(facilitator)
        assert before["zoe"]["steps_done"] == [1, 2] and before["li"]["steps_done"] == [1], before
        assert before["jean-luc"]["step"] == 1 and before["jean-luc"]["repeats"] == 3, before["jean-luc"]

        # A second laptop claims Li's name: refused, for the lab and for the doctor; nothing of Li's changes.
        other = Laptop(root, "second-laptop", "Li")
        other.workshop("room", "use", venue.url)
        other.env["STORAGE_EMULATOR_HOST"] = venue.url
        taken = other.workshop("start", "../my-lab", "--room", CACHE, "--name", "li", ok=(2,))
        assert f"error: li is already in room {CACHE} (another lab" in taken, taken
        assert not other.lab.exists()
        kept = other.workshop("doctor", "--room", CACHE, "--name", "li", ok=(0, 1))
        assert f"(The room {CACHE} kept the result it has for li, from another laptop." in kept, kept
        assert doctor_line(facilitator, "li") == li_doctor
        assert records(facilitator) == before

        # The page, and then the venue's emulator stopped: nothing is erased, the page says it is stale.
        page = root / "room.html"
        show = [*TOOL, "room", "show", CACHE, "--html", str(page), "--watch", "--every", "2"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
        watching = subprocess.Popen(show, cwd=facilitator.clone, env=facilitator.env, **quiet)
        try:
            wait_for(lambda: page.exists() and "3 attendees" in page.read_text(), 60, "the page")
            assert all(f'data-name="{name}"' in page.read_text() for name in people), page.read_text()
            progress = (people["jean-luc"].lab / ".git/workshop-progress.json").read_bytes()
            venue.stop()
            down = time.monotonic()
            during = people["jean-luc"].in_lab("check")
            assert f"Step 1: the room's emulator at {venue.url} does not answer" in during, during
            assert "it records nothing, in the lab or the room" in during, during
            assert (people["jean-luc"].lab / ".git/workshop-progress.json").read_bytes() == progress
            wait_for(lambda: "NOT UPDATED since then, last read" in page.read_text(), 60, "the stale page")
            assert all(f'data-name="{name}"' in page.read_text() for name in people)  # the last table, kept
            time.sleep(max(0.0, outage_s - (time.monotonic() - down)))
            restarted = venue.start()
            assert f"--room {CACHE} --name NAME" in restarted, restarted  # the room it holds, not the default
            wait_for(lambda: "NOT UPDATED" not in page.read_text(), 60, "the page back")
        finally:  # Ctrl+C stops it, even started where SIGINT is ignored (a test worker, a shell's & job)
            watching.send_signal(signal.SIGINT)
            watching.wait(timeout=60)
        after = records(facilitator)
        assert after == before, "an outage erases nothing"
        again = people["jean-luc"].in_lab("check")
        assert "Step 1: Pipfile lacks 2 dev packages" in again, again
        stuck = records(facilitator)["jean-luc"]
        assert stuck["repeats"] == 4 and stuck["since"] == before["jean-luc"]["since"], stuck

        # The facilitator makes the room's lab shorter: each lab follows at its next check.
        shorter = facilitator.workshop("room", "create", RAW, CACHE, "--steps", "5")
        assert "the lab ends at step 5" in shorter, shorter
        zoe = people["zoe"].in_lab("check")
        assert "2 of 5 done." in zoe and "(The room's lab now ends at step 5" in zoe, zoe

        # Li removed by mistake: her next check says so; the line it prints, run as printed, brings her back.
        removed = facilitator.workshop("room", "remove", CACHE, "li")
        assert "li: removed from the room" in removed, removed
        assert "li" not in records(facilitator)
        out = people["li"].in_lab("check")
        back = out.split("to come back: ", 1)[1].split(")", 1)[0]
        assert back == f"workshop room join {CACHE} --name li", out
        people["li"].in_lab(*back.split()[1:], ok=(0,))
        people["li"].in_lab("check")
        assert records(facilitator)["li"]["steps_done"] == [1]

        # Li on a new laptop (the second one): --rejoin takes the name, and says what it left behind.
        rejoined = other.workshop("start", "../my-lab", "--room", CACHE, "--name", "li", "--rejoin")
        assert "(li's record in the room came from another lab, with 1 step done at its last" in rejoined
        old = people["li"].in_lab("check")
        assert "another lab holds the name li there" in old, old
        final = records(facilitator)
        assert final["li"]["steps_done"] == [] and final["zoe"]["steps_done"] == [1, 2], final
        assert final["jean-luc"]["repeats"] == 4, final

        # After the day: the report, from the records (the lab's history they carry), and its CSV.
        report = root / "report.html"
        said = facilitator.workshop("room", "report", CACHE, "--html", str(report))
        assert f"{report}: the day's report of room {CACHE} (3 attendees)" in said, said
        rows = list(csv.DictReader((root / "report.csv").open()))
        reached = {(r["step"], r["attendee"]) for r in rows if r["figure"] == "reached"}
        assert reached == {("1", "zoe"), ("2", "zoe")}, reached  # li's record is her new lab's (--rejoin)
        assert {(r["step"], r["value"]) for r in rows if r["figure"] == "hands raised"} == {("3", "1")}, rows
        problems = [r for r in rows if r["figure"] == "problem attendees"]
        pipfile = [r for r in problems if r["problem"].startswith("Pipfile")]
        assert [(r["step"], r["value"]) for r in pipfile] == [("1", "1")], rows  # jean-luc's
        if CHROMIUM:  # the page as a 1400x900 screen shows it: four pictures, nothing wider than the window
            dom = sh([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
                      "--dump-dom", report.as_uri()], root, facilitator.env)  # fmt: skip
            assert 'data-wide="0"' in dom and dom.count("data:image/png;base64,") == 4, dom[:2000]
    finally:
        venue.stop()


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.5)


def test_a_short_day_at_the_venue(tmp_path: Path) -> None:
    play_day(tmp_path, outage_s=3, whole=False)


@pytest.mark.deep
def test_a_whole_day_at_the_venue(tmp_path: Path) -> None:
    play_day(tmp_path, outage_s=20, whole=True)
