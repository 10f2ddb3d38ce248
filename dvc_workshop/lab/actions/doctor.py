"""`workshop doctor`: is this laptop ready for the workshop? One line per item, `ok` or `FAIL`
with what was found and the fix, so that a wrong Python, a missing tool, a full disk or no
access to the room's buckets shows up at home, not in the lab's first ten minutes. What only
changes how the workshop looks (no pager: DVC prints its tables unpaged) is a `note`, with its
hint: the laptop is still ready. Nothing here prints: each item's line goes to the command's
`on_line` as soon as the item is checked.

Each item answers within seconds (every child process and request has a time limit) and a
failure, expected or not, is that item's red line, never a traceback. The module imports
nothing heavy: TensorFlow is imported (and timed) in a child process, google-cloud-storage
only for `--room`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from subprocess import PIPE

from dvc_workshop.lab.actions import platform_items
from dvc_workshop.lab.actions.doctor_items import (
    GIT_FIX,
    PIPENV_FIX,
    SYNC,
    Item,
    Note,
    Red,
    check_disk,
    check_emulator,
    check_environment,
    check_identity,
    check_port,
    check_python,
    check_tensorflow,
    check_tool,
    room_items,
)
from dvc_workshop.lab.model.layout import EMULATOR_PORT

OK, NOTE, FAIL = "ok", "note", "FAIL"  # an item's mark: ready, ready with a hint, not ready


def answer(item: str, check: Callable[[], str]) -> tuple[str, str, str | None]:
    """An item's check, run to its line: its mark, what was found, the fix (or hint); an
    unexpected error is FAIL too."""
    from dvc_workshop.data.errors import WorkshopError

    try:
        return OK, check(), None
    except Note as note:
        return NOTE, *note.args
    except Red as red:
        return FAIL, *red.args
    except WorkshopError as error:  # room.py's lines name the fix themselves
        return FAIL, str(error), None
    except subprocess.TimeoutExpired as error:
        return FAIL, f"{error.cmd[0]} did not answer within {error.timeout:.0f} s", SYNC
    except Exception as error:
        if type(error).__module__.startswith(("google.", "requests.")):  # a bucket's refusal, or no answer
            from dvc_workshop.lab.model.storage import cloud_error

            return FAIL, str(cloud_error(error, item)), None  # its line names the usual fix
        fix = "run the doctor again; if it says so again, show this line to the facilitator"
        return FAIL, f"unexpected {type(error).__name__}: {str(error)[:150]}", fix


def send_result(cache_url: str, name: str, failed: list[str], notes: list[str], rejoin: bool = False) -> str:
    """The laptop's result, for the facilitator's `room show` (ready, or not and on what; the
    notes of a ready laptop too); the line that says whether the room got it."""
    from dvc_workshop.lab.actions.membership import laptop_identity
    from dvc_workshop.lab.model.progress import now, versions
    from dvc_workshop.lab.model.records import ATTENDEES, DOCTOR, read_json, storage_errors, write_json
    from dvc_workshop.lab.model.storage import bucket_name

    laptop = laptop_identity()
    record = {"name": name, "ok": not failed, "failed": failed, "notes": notes, "updated": now(),
              "versions": versions(), "laptop": laptop}  # fmt: skip
    try:
        cache = bucket_name(cache_url)
        held = [read_json(cache, f"{folder}/{name}.json") or {} for folder in (DOCTOR, ATTENDEES)]
        if not rejoin and any(record.get("laptop") not in (None, laptop) for record in held):
            again = f"workshop doctor --room {cache_url} --name {name} --rejoin"
            return (f"(The room {cache_url} kept the result it has for {name}, from another laptop. If "
                    f"{name} is you, on a new laptop: {again})")  # fmt: skip
        write_json(cache, f"{DOCTOR}/{name}.json", record, timeout=10)
        return f"The room {cache_url} has your result, as {name}."
    except storage_errors():
        return f"(The room {cache_url} did not get your result: send the facilitator the last line.)"


def run_doctor(
    room: str | None,
    name: str | None,
    on_line: Callable[[str], None],
    colour: bool = False,
    rejoin: bool = False,
) -> bool:
    """Check every item, its line to `on_line` as it is checked (marks in `colour` for a terminal),
    and say whether all are green (and, given a name, tell the room)."""
    started = time.monotonic()
    code = "import tensorflow; print(tensorflow.__version__)"  # in a child, while the rest is checked
    quiet = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=PIPE, stderr=PIPE, text=True, env=quiet)
    items: list[Item] = [
        ("python", check_python),
        ("pipenv", partial(check_tool, "pipenv", PIPENV_FIX)),
        ("git", partial(check_tool, "git", GIT_FIX)),
        ("git identity", check_identity),
        ("line endings", platform_items.check_line_endings),
        ("long paths", platform_items.check_long_paths),
        ("pager", platform_items.check_pager),
        ("disk", check_disk),
        ("environment", check_environment),
        ("tensorflow", partial(check_tensorflow, child, started)),
        ("emulator", check_emulator),
        (f"port {EMULATOR_PORT}", check_port),
        *(room_items(room) if room else []),
    ]
    lines: dict[str, list[str]] = {OK: [], NOTE: [], FAIL: []}  # "item: found", by mark
    colours = {OK: 32, NOTE: 33, FAIL: 31}
    try:
        for item, check in items:
            mark, found, fix = answer(item, check)
            lines[mark].append(f"{item}: {found}"[:200])
            shown = f"\033[{colours[mark]}m{mark:4}\033[0m" if colour else f"{mark:4}"
            fix_word = "hint" if mark == NOTE else "fix"
            on_line(f"{shown}  {item}: {found}" + (f"; {fix_word}: {fix}" if fix else ""))
            if mark == FAIL and item.startswith("room "):
                break  # no room record: no buckets to check (the last items)
    finally:
        if child.poll() is None:  # stopped before its line (Ctrl+C)
            child.kill()
    failed, notes = lines[FAIL], lines[NOTE]
    checked = sum(map(len, lines.values()))
    seconds = f"({time.monotonic() - started:.1f} s)."
    if room and name and not any(line.startswith(f"room {room}") for line in failed):
        on_line(send_result(room, name, failed, notes, rejoin))  # before the last line, which attendees send
    noted = f" ({len(notes)} {'note' if len(notes) == 1 else 'notes'}: ready all the same)" if notes else ""
    summary = f"{len(failed)} of {checked} items need a fix" if failed else f"All {checked} items ok{noted}"
    on_line(f"{summary} {seconds}")
    return not failed
