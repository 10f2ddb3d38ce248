"""The room's sticky notes on real parts (the emulator on loopback, labs of their own): hands
raised from the terminal and queued oldest first, a hand kept in its place when raised again,
lowered by the facilitator, by its attendee or by the check that finds its step done; the
facilitator's word printed once by each attendee's next check; an offline lab told what to do."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from dvc_workshop.lab.model.emulator import Emulator

from .conftest import REPO_ROOT, WORKSHOP, free_port

pytestmark = pytest.mark.slow
CACHE = "gs://r-notes-cache"


def workshop(*args: str, cwd: Path, env: dict[str, str], status: int = 0) -> str:
    result = subprocess.run([*WORKSHOP, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == status and "Traceback" not in result.stderr, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_hands_are_queued_lowered_and_the_room_hears_a_word(tmp_path: Path) -> None:
    emulator = Emulator(tmp_path / "buckets", free_port())
    emulator.start()
    try:
        base = {**os.environ, **emulator.environment()}
        workshop("room", "create", "gs://r-notes-raw", CACHE, cwd=REPO_ROOT, env=base)
        labs, envs = {}, {}
        for name in ("zoe", "li", "jeanluc", "offline"):
            config = tmp_path / f"{name}.gitconfig"
            config.write_text(f"[user]\n\tname = {name.title()}\n\temail = {name}@example.com\n")
            envs[name] = {**base, "GIT_CONFIG_GLOBAL": str(config)}
            labs[name] = tmp_path / f"{name}-lab"
            room = [] if name == "offline" else ["--room", CACHE, "--name", name]
            workshop("start", str(labs[name]), *room, cwd=REPO_ROOT, env=envs[name])

        def at(name: str, *args: str, status: int = 0) -> str:
            return workshop(*args, cwd=labs[name], env=envs[name], status=status)

        assert "(no one before you)" in at("zoe", "help", "dvc push asks for a login")
        assert "(1 before you)" in at("li", "help")
        again = at("zoe", "help", "dvc push asks for a login, still")
        assert "(no one before you)" in again  # her place kept, her words updated
        shown = workshop("room", "show", CACHE, cwd=REPO_ROOT, env=base)
        hands = re.findall(r"^(?:!!|  )(\w+) +\d+ min  step (\d+): (.*)$", shown, re.M)
        assert hands == [("zoe", "1", '"dvc push asks for a login, still"'), ("li", "1", "")], shown

        word = "Step 9 takes 4 minutes:  start it before the break"
        said = workshop("room", "say", CACHE, word, cwd=REPO_ROOT, env=base)
        assert said.startswith(f"Said to room {CACHE}")
        first = at("jeanluc", "check", status=1)
        heard = r"^The facilitator, at \d\d:\d\d: Step 9 takes 4 minutes: start it before the break$"
        assert re.search(heard, first, re.M), first
        assert "The facilitator" not in at("jeanluc", "check", status=1)  # once

        helped = workshop("room", "help", "done", CACHE, "zoe", cwd=REPO_ROOT, env=base)
        assert "zoe's hand is down (lowered by the facilitator)" in helped, helped
        assert "li's hand is down (lowered by you)" in at("li", "help", "--done")
        at("jeanluc", "help", "step 1: what goes in the Pipfile?")
        solved = at("jeanluc", "solution", "1")  # its last line is workshop check 1, which finds step 1 done
        assert "(Step 1 is done: your raised hand is down.)" in solved, solved
        assert "Raised hands" not in workshop("room", "show", CACHE, cwd=REPO_ROOT, env=base)

        offline = at("offline", "help", status=2)
        assert offline.startswith(
            "error: offline-lab is in no room (an offline lab): ask the person beside you"
        )
    finally:
        emulator.stop()
