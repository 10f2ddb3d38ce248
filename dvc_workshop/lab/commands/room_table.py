"""The room at a glance, as a table or JSON: who is stuck, on what, for how long; who is ready.

Stuck has two signs: time on one step, and checks in a row that failed on the same problem (an
attendee who keeps trying is not one who is reading). Red first, then amber, then the rest, each
by time; everyone done last. Under the table, the problems most of the room has now (a thing to
explain to everyone at once), and before the day, whose laptop is ready (`workshop doctor`).
The page for the projector is `page.py`, from the same functions.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone

from dvc_workshop.lab.steps.registry import STEPS

STALE_MINUTES = 15  # no check for this long: the attendee may have stopped running it
# (minutes on one step, checks in a row failing on one problem): either one makes a tile this colour
AMBER, RED = (10, 3), (20, 5)
RANK = {"stuck": 0, "slow": 1, "ok": 2, "done": 3}
LEGEND = {
    "stuck": f"red: {RED[0]} min or more on a step, or {RED[1]} checks in a row failing on one problem",
    "slow": f"amber: {AMBER[0]} min or more on a step, or {AMBER[1]} checks in a row failing on one problem",
    "ok": "green: working on a step",
    "done": "blue: every step done",
}


def minutes_since(stamp: str | None, now: datetime) -> float:
    try:
        return (now - datetime.fromisoformat(stamp)).total_seconds() / 60
    except (TypeError, ValueError):
        return 0.0


def repeats(attendee: dict) -> int:
    value = attendee.get("repeats")
    return value if isinstance(value, int) else 0


def state(attendee: dict, now: datetime) -> str:
    """done, stuck (red), slow (amber) or ok (green), by the two signs of being stuck."""
    if attendee.get("step") is None:
        return "done"
    minutes, tries = minutes_since(attendee.get("since"), now), repeats(attendee)
    if minutes >= RED[0] or tries >= RED[1]:
        return "stuck"
    return "slow" if minutes >= AMBER[0] or tries >= AMBER[1] else "ok"


def in_order(attendees: list[dict], now: datetime) -> list[dict]:
    """Red first, then amber, then green, each longest on its step first; everyone done last."""
    return sorted(
        attendees,
        key=lambda a: (
            RANK[state(a, now)],
            -minutes_since(a.get("since"), now),
            -repeats(a),
            str(a.get("name")),
        ),
    )


def room_steps(room: dict | None) -> list:
    """The steps of the room's lab: every step, or up to where `room create --steps` ends it."""
    end = (room or {}).get("steps")
    return STEPS[:end] if isinstance(end, int) and end >= 1 else STEPS


def step_title(step: object) -> str:
    return STEPS[step - 1].title if isinstance(step, int) and 1 <= step <= len(STEPS) else ""


def common_problems(attendees: list[dict], top: int = 5) -> list[tuple[int, str]]:
    """The current problems shared by most attendees, two at least: one attendee's problem is in
    their own line (a name in a problem counted as any name)."""
    counts = Counter(
        f"step {a['step']}: {str(a.get('problem')).replace(str(a.get('name')), '<name>')}"
        for a in attendees
        if a.get("step") is not None and a.get("problem")
    )
    return [(count, problem) for problem, count in counts.most_common(top) if count >= 2]


HAND_LATE_MINUTES = 5  # a hand up longer turns red


def raised_hands(attendees: list[dict], now: datetime) -> list[tuple[dict, float]]:
    """The raised hands, each with the minutes it has waited, the one waiting longest first."""
    hands = [(a["hand"], minutes_since(a["hand"].get("raised"), now)) for a in attendees if a.get("hand")]
    return sorted(hands, key=lambda found: -found[1])


def hand_words(hand: dict) -> str:
    """What a hand says: the attendee's words, else the check's problem, at its step."""
    said = f'"{hand["words"]}"' if hand.get("words") else str(hand.get("problem") or "")
    return f"step {hand.get('step') or '-'}: {cut_at_word(said, 100)}"


def cut_at_word(text: str, limit: int) -> str:
    """Text short enough for its cell, cut between words (never mid-word), marked as cut."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1].rsplit(' ', 1)[0].rstrip(' ,;:(')}…"


def readiness(attendees: list[dict], doctor: list[dict], room: dict) -> dict[str, list[str]]:
    """Before the day: ready (the doctor all green), not ready (and on what), not run (the names
    expected or in the room with no doctor result)."""
    results = {str(d.get("name")): d for d in doctor}
    known = {*room.get("expected", []), *(str(a.get("name")) for a in attendees)}
    return {
        "ready": sorted(name for name, d in results.items() if d.get("ok")),
        "not ready": [
            f"{name} ({cut_at_word('; '.join(d.get('failed') or ['?']), 120)})"
            for name, d in sorted(results.items())
            if not d.get("ok")
        ],
        "not run": sorted(known - set(results)),
    }


def attendees_count(count: int) -> str:
    return f"{count} attendee{'' if count == 1 else 's'}"


def duration(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def table(cache_url: str, attendees: list[dict], doctor: list[dict] = (), room: dict | None = None,
          now: datetime | None = None) -> str:  # fmt: skip
    now = now or datetime.now(timezone.utc)
    done = sum(a.get("step") is None for a in attendees)
    lines = [f"Room {cache_url}: {attendees_count(len(attendees))}, {done} done ({now:%H:%M:%S} UTC)", ""]
    if not attendees:
        lines.append(
            f"No one yet: attendees join with workshop start ../my-lab --room {cache_url} --name THEIR-NAME"
        )
    if hands := raised_hands(attendees, now):
        lines += [
            f"Raised hands, the one waiting longest first (room help done {cache_url} NAME lowers one):"
        ]
        lines += [f"{'!!' if waited > HAND_LATE_MINUTES else '  '}{str(hand.get('name'))[:16]:<16} "
                  f"{duration(waited):>7}  {hand_words(hand)}" for hand, waited in hands]  # fmt: skip
        lines.append("")
    width = max(len(f"{s.number} {s.title}") for s in STEPS)
    lines.append(f"{'':<2}{'name':<16} {'done':>4}  {'on step':<{width}} {'for':>7} {'tries':>5}  problem")
    marks = {"stuck": "!!", "slow": "! ", "ok": "  ", "done": "  "}
    for a in in_order(attendees, now):
        step = a.get("step")
        title = f"{step} {step_title(step)}" if step_title(step) else "all done"
        stale = minutes_since(a.get("updated"), now)
        note = f" (last check {duration(stale)} ago)" if stale >= STALE_MINUTES else ""
        since = duration(minutes_since(a.get("since"), now)) if step else ""
        tries = f"{repeats(a)}x" if step and repeats(a) else ""
        name, count = str(a.get("name"))[:16], len(a.get("steps_done", []))
        lines.append(
            f"{marks[state(a, now)]}{name:<16} {count:>4}  {title:<{width}} {since:>7} {tries:>5}  "
            f"{a.get('problem') or ''}{note}"
        )
    lines += ["", f"!! {LEGEND['stuck']}; ! {LEGEND['slow']}"]
    if problems := common_problems(attendees):
        lines += ["", "Most common problems now:"]
        lines += [f"{count:>4}  {problem}" for count, problem in problems]
    if doctor or (room or {}).get("expected"):
        lines += ["", "Before the day (workshop doctor --room ... --name NAME):"]
        ready = readiness(attendees, doctor, room or {})
        lines += [f"  {kind} ({len(names)}): {', '.join(names) or '-'}" for kind, names in ready.items()]
    return "\n".join(lines)


def as_json(attendees: list[dict]) -> str:
    """For tools: every attendee with name, steps_done, step, problem, since, repeats, updated,
    versions (not `lab`, the hash that ties the name to one lab)."""
    shown = [{key: value for key, value in a.items() if key != "lab"} for a in attendees]
    return json.dumps(sorted(shown, key=lambda a: str(a.get("name"))), indent=2)
