"""`workshop room report`'s figures: where the day's time went, from the room's records alone.

Each attendee's record carries the lab's history (model/progress.py): when its first check ran,
when a check first found each step done, each problem with when it began and ended, the hands
raised. From those: the minutes each attendee spent on each step (from the step before's end, or
the first check, to the step's), when the room reached each step, the problems that held the
most attendees longest, the hands per step, and the doctor's results before the day. The same
figures, one row per value, go to a CSV for the facilitator's own analysis.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class DayFigures:
    """The day's figures, each by lab step."""

    attendees: int = 0
    minutes_on_step: dict[int, dict[str, float]] = field(default_factory=dict)  # step -> name -> minutes
    still_on: dict[str, int] = field(default_factory=dict)  # name -> the step not done at their last check
    until: datetime | None = None  # the room's last check: where the day's lines end
    reached: dict[int, dict[str, datetime]] = field(default_factory=dict)  # step -> name -> when
    problems: list[tuple[int, str, int, float]] = field(default_factory=list)  # step, problem, people, median
    hands: dict[int, int] = field(default_factory=dict)  # step -> hands raised
    doctor: dict[str, int] = field(default_factory=dict)  # ready / not ready / not run -> laptops


def at(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def minutes(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() / 60 if start and end and end >= start else None


def aliases(attendees: list[dict], anonymous: bool) -> dict[str, str]:
    """Each attendee's name in the report: their own, or "attendee N" in the order they began."""
    began = sorted(attendees, key=lambda a: str(a.get("started") or a.get("first_check") or "~"))
    names = [str(a.get("name")) for a in began]
    width = len(str(len(names)))
    return {name: f"attendee {n:0{width}}" if anonymous else name for n, name in enumerate(names, 1)}


def figures(attendees: list[dict], doctor: list[dict], room: dict, anonymous: bool = False) -> DayFigures:
    """The day's figures from the records of `room report` (records.snapshot's parts)."""
    names = aliases(attendees, anonymous)
    day = DayFigures(attendees=len(attendees))
    held: dict[tuple[int, str], dict[str, float]] = defaultdict(dict)  # (step, problem) -> name -> minutes
    hands: Counter[int] = Counter()
    for record in attendees:
        name, own = names[str(record.get("name"))], str(record.get("name"))
        reached = {int(step): when for step, when in (record.get("reached") or {}).items() if at(when)}
        before = at(record.get("started")) or at(
            record.get("first_check")
        )  # the lab made, or its first check
        for step in sorted(reached):
            when = at(reached[step])
            day.reached.setdefault(step, {})[name] = when
            if (spent := minutes(before, when)) is not None:
                day.minutes_on_step.setdefault(step, {})[name] = spent
            before = max(before, when) if before else when
        on = record.get("step")  # the step they are on: its minutes so far, to their last check
        if (
            isinstance(on, int)
            and on not in reached
            and (spent := minutes(before, at(record.get("updated"))))
        ):
            day.minutes_on_step.setdefault(on, {})[name] = spent
            day.still_on[name] = on
        for entry in record.get("problems_log") or []:
            if not isinstance(entry, dict) or entry.get("step") is None:
                continue
            end = at(entry.get("until")) or at(record.get("updated"))
            problem = str(entry.get("problem")).replace(own, "<name>")  # one problem, whoever had it
            key = (int(entry["step"]), problem)
            held[key][name] = held[key].get(name, 0) + (minutes(at(entry.get("since")), end) or 0)
        hands.update(int(hand["step"]) for hand in record.get("hands_raised") or [] if hand.get("step"))
    day.problems = sorted(
        ((step, problem, len(by), statistics.median(by.values())) for (step, problem), by in held.items()),
        key=lambda row: (-row[2] * row[3], row[0]),
    )
    day.hands = dict(sorted(hands.items()))
    day.until = max((when for record in attendees if (when := at(record.get("updated")))), default=None)
    results = {str(d.get("name")): bool(d.get("ok")) for d in doctor}
    known = {*room.get("expected", []), *(str(a.get("name")) for a in attendees)}
    day.doctor = {"ready": sum(results.values()), "not ready": len(results) - sum(results.values()),
                  "not run": len(known - set(results))}  # fmt: skip
    return day


def as_csv(day: DayFigures) -> str:
    """The figures one value a row (figure, step, attendee, problem, value, unit): ready for a
    spreadsheet's pivot table or pandas."""
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(["figure", "step", "attendee", "problem", "value", "unit"])
    for step, by in sorted(day.minutes_on_step.items()):
        rows.writerows(["minutes on step", step, name, "", f"{spent:.1f}",
                        "min so far" if day.still_on.get(name) == step else "min"]
                       for name, spent in sorted(by.items()))  # fmt: skip
    for step, by in sorted(day.reached.items()):
        rows.writerows(["reached", step, name, "", when.isoformat(), "time"] for name, when in sorted(
            by.items()))  # fmt: skip
    for step, problem, people, median in day.problems:
        rows.writerow(["problem attendees", step, "", problem, people, "attendees"])
        rows.writerow(["problem median minutes", step, "", problem, f"{median:.1f}", "min"])
    rows.writerows(["hands raised", step, "", "", count, "hands"] for step, count in day.hands.items())
    rows.writerows(["doctor", "", "", kind, count, "laptops"] for kind, count in day.doctor.items())
    return out.getvalue()
