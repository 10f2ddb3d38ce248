"""`workshop room report`'s figures from the room's records (actions/room_report.py), checked
against a day written out by hand: who reached which step when, the problems and their minutes,
the hands, the doctor; the CSV holds the same values; --anonymous leaves no name anywhere. The
page itself, from a played day on the emulator, is drawn in headless Chromium in test_room_day.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

from dvc_workshop.lab.actions.room_report import as_csv, figures
from dvc_workshop.lab.commands.room_report import report_page

NINE = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


def at(minutes: float) -> str:
    return (NINE + timedelta(minutes=minutes)).isoformat()


def record(name: str, first: float, reached: dict[int, float], problems: list[tuple], hands: list) -> dict:
    return {
        "name": name, "first_check": at(first), "reached": {str(s): at(m) for s, m in reached.items()},
        "problems_log": [{"step": step, "problem": problem, "since": at(since), "until": until and at(until),
                          "checks": 2} for step, problem, since, until in problems],
        "hands_raised": [{"step": step, "at": at(first)} for step in hands], "updated": at(60),
    }  # fmt: skip


DAY = [
    record("zoe", 0, {1: 10, 2: 15, 3: 45}, [(3, "stage download_mnist has not run yet", 20, 40)], [3]),
    record("jean-luc", 5, {1: 25}, [(1, "Pipfile lacks 2 dev packages of its lock", 5, 25),
                                    (2, "not your folder gs://c/jean-luc", 25, None)], [1, 2]),
    record("li", 2, {1: 12, 2: 20}, [(1, "Pipfile lacks 2 dev packages of its lock", 2, 12),
                                     (3, "stage download_mnist has not run yet", 20, 50)], []),
]  # fmt: skip
DOCTOR = [{"name": "zoe", "ok": True}, {"name": "li", "ok": False, "failed": ["git"]}]


def test_the_days_figures_are_the_records() -> None:
    day = figures(DAY, DOCTOR, {"expected": ["zoe", "jean-luc", "li", "ana"]})
    assert day.minutes_on_step[1] == {"zoe": 10, "jean-luc": 20, "li": 10}
    assert day.minutes_on_step[2] == {"zoe": 5, "li": 8} and day.minutes_on_step[3] == {"zoe": 30}
    assert sorted(day.reached[2]) == ["li", "zoe"] and day.reached[3]["zoe"] == NINE + timedelta(minutes=45)
    # jean-luc's open problem runs to his last record (60); the download problem held two, 20 and 30 min.
    assert day.problems[0] == (3, "stage download_mnist has not run yet", 2, 25.0), day.problems
    assert (1, "Pipfile lacks 2 dev packages of its lock", 2, 15.0) in day.problems
    assert (2, "not your folder gs://c/<name>", 1, 35.0) in day.problems  # the name is anyone's
    assert day.hands == {1: 1, 2: 1, 3: 1}
    assert day.doctor == {"ready": 1, "not ready": 1, "not run": 2}


def test_the_csv_holds_the_same_values() -> None:
    rows = list(csv.DictReader(io.StringIO(as_csv(figures(DAY, DOCTOR, {})))))
    spent = {(r["step"], r["attendee"]): float(r["value"]) for r in rows if r["figure"] == "minutes on step"}
    assert spent == {("1", "zoe"): 10, ("1", "jean-luc"): 20, ("1", "li"): 10, ("2", "zoe"): 5,
                     ("2", "li"): 8, ("3", "zoe"): 30}  # fmt: skip
    median = [r for r in rows if r["figure"] == "problem median minutes" and r["step"] == "3"]
    assert [(r["problem"], r["value"]) for r in median] == [("stage download_mnist has not run yet", "25.0")]
    assert {r["problem"]: r["value"] for r in rows if r["figure"] == "doctor"} == {
        "ready": "1", "not ready": "1", "not run": "1"}  # jean-luc  # fmt: skip


def test_anonymous_leaves_no_name() -> None:
    day = figures(DAY, DOCTOR, {}, anonymous=True)
    assert sorted(day.minutes_on_step[1]) == ["attendee 1", "attendee 2", "attendee 3"]
    assert day.minutes_on_step[1]["attendee 1"] == 10  # zoe began first
    page, table = report_page("gs://c", day, None, anonymous=True), as_csv(day)
    assert page.count('src="data:image/png;base64,') == 4
    page = re.sub(r'src="data:image/png;base64,[^"]*"', "", page)  # (a picture's bytes may spell anything)
    for name in ("zoe", "jean-luc", ">li<", ",li,"):
        assert name not in page and name not in table, name


def test_the_step_one_is_on_counts_so_far_and_the_day_starts_with_the_lab() -> None:
    """jean-luc, stuck on step 2 at his last record (minute 60), counts 35 minutes on it so far;
    zoe's lab made at minute -5 (workshop start) counts from there, not from her first check."""
    stuck = {**DAY[1], "step": 2}
    early = {**DAY[0], "started": at(-5)}
    day = figures([early, stuck], [], {})
    assert day.minutes_on_step[2]["jean-luc"] == 35 and day.still_on == {"jean-luc": 2}
    assert day.minutes_on_step[1]["zoe"] == 15
    rows = list(csv.DictReader(io.StringIO(as_csv(day))))
    spent = [r for r in rows if r["figure"] == "minutes on step"]
    second = {(r["attendee"], r["unit"]) for r in spent if r["step"] == "2"}
    assert second == {("zoe", "min"), ("jean-luc", "min so far")}
