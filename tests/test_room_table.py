"""What the room's table and page say is whole and true: a problem one attendee has stays in
their own line (not among the room's common problems), and a long reason is cut between words."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from dvc_workshop.lab.commands.room_table import common_problems, cut_at_word, readiness
from dvc_workshop.lab.model.emulator import Emulator

from .conftest import WORKSHOP, free_port


def attendee(name: str, problem: str, step: int = 2) -> dict:
    return {"name": name, "step": step, "problem": problem}


def test_common_problems_are_those_two_attendees_share_at_least() -> None:
    room = [attendee("ada", "no default DVC remote"), attendee("ben", "no default DVC remote"),
            attendee("cy", "a typo in ada's stage", 3)]  # fmt: skip
    assert common_problems(room) == [(2, "step 2: no default DVC remote")]
    assert common_problems(room[1:]) == []


def test_a_long_reason_is_cut_between_words() -> None:
    reason = "line endings: git would turn LF into CRLF on checkout, so the code differs from the lock " * 3
    cut = readiness([], [{"name": "li", "ok": False, "failed": [reason]}], {})["not ready"][0]
    inside = cut.removeprefix("li (").removesuffix(")")
    assert inside.endswith("…") and len(inside) <= 120 and reason.startswith(inside[:-1])
    assert reason[len(inside) - 1] == " "  # the cut falls where a word ended
    assert cut_at_word("short enough", 120) == "short enough"


@pytest.mark.slow
def test_the_watched_page_outlives_an_outage_and_says_so(tmp_path: Path) -> None:
    """The venue's emulator stops for a while: the watched page keeps the last table, says it is
    not updated and why, and is itself again once the emulator answers."""
    emulator = Emulator(tmp_path / "buckets", free_port())
    emulator.start()
    try:
        env = {**os.environ, **emulator.environment()}
        create = [*WORKSHOP, "room", "create", "gs://r-out-raw", "gs://r-out-cache"]
        subprocess.run(create, env=env, check=True, capture_output=True)
        page = tmp_path / "room.html"
        command = [
            *WORKSHOP,
            "room",
            "show",
            "gs://r-out-cache",
            "--html",
            str(page),
            "--watch",
            "--every",
            "2",
        ]
        watcher = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert ": 0 attendees (" in watcher.stdout.readline()
            emulator.stop()  # the network gone
            line = watcher.stdout.readline()
            assert ": not updated: " in line and "(trying again every 2 s)" in line, line
            assert watcher.poll() is None  # still watching
            shown = page.read_text()
            assert "NOT UPDATED since then" in shown and "Room gs://r-out-cache: 0 attendees" in shown
            emulator.start()  # back, on the same port, with the same buckets
            deadline = time.monotonic() + 60
            while (
                ": 0 attendees (" not in (line := watcher.stdout.readline()) and time.monotonic() < deadline
            ):
                pass
            assert ": 0 attendees (" in line and "NOT UPDATED" not in page.read_text()
        finally:
            watcher.terminate()
            watcher.wait(timeout=30)
    finally:
        emulator.stop()
