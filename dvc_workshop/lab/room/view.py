"""The room at a glance: who is stuck, on what, for how long; as a table, a page or JSON.

Attendees stuck longest come first (the facilitator's next visit), those done last; under the
table, the problems most of the room has now (a thing to explain to everyone at once).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from datetime import datetime, timezone

from dvc_workshop.lab.steps.registry import STEPS

STALE_MINUTES = 15  # no check for this long: the attendee may have stopped running it


def minutes_since(stamp: str | None, now: datetime) -> float:
    try:
        return (now - datetime.fromisoformat(stamp)).total_seconds() / 60
    except (TypeError, ValueError):
        return 0.0


def in_order(attendees: list[dict], now: datetime) -> list[dict]:
    """Stuck longest first; everyone done at the end, by name."""
    return sorted(
        attendees,
        key=lambda a: (a.get("step") is None, -minutes_since(a.get("since"), now), str(a.get("name"))),
    )


def common_problems(attendees: list[dict], top: int = 5) -> list[tuple[int, str]]:
    """The current problems shared by most attendees (a name in a problem counted as any name)."""
    counts = Counter(
        f"step {a['step']}: {str(a.get('problem')).replace(str(a.get('name')), '<name>')}"
        for a in attendees
        if a.get("step") is not None
    )
    return [(count, problem) for problem, count in counts.most_common(top)]


def attendees_count(count: int) -> str:
    return f"{count} attendee{'' if count == 1 else 's'}"


def duration(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def table(cache_url: str, attendees: list[dict], now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    done = sum(a.get("step") is None for a in attendees)
    lines = [f"Room {cache_url}: {attendees_count(len(attendees))}, {done} done ({now:%H:%M:%S} UTC)", ""]
    if not attendees:
        lines.append(
            f"No one yet: attendees join with workshop start ../my-lab --room {cache_url} --name <name>"
        )
    lines.append(f"{'name':<16} {'done':>4}  {'on step':<34} {'for':>7}  problem")
    for a in in_order(attendees, now):
        step = a.get("step")
        title = (
            f"{step} {STEPS[step - 1].title}"
            if isinstance(step, int) and 1 <= step <= len(STEPS)
            else "all done"
        )
        stale = minutes_since(a.get("updated"), now)
        note = f" (last check {duration(stale)} ago)" if stale >= STALE_MINUTES else ""
        problem = (a.get("problem") or "")[:70]
        since = duration(minutes_since(a.get("since"), now)) if step else ""
        name, done = str(a.get("name"))[:16], len(a.get("steps_done", []))
        lines.append(f"{name:<16} {done:>4}  {title[:34]:<34} {since:>7}  {problem}{note}")
    if problems := common_problems(attendees):
        lines += ["", "Most common problems now:"]
        lines += [f"{count:>4}  {problem[:100]}" for count, problem in problems]
    return "\n".join(lines)


def as_json(attendees: list[dict]) -> str:
    """For tools: every attendee with name, steps_done, step, problem, since, updated, versions."""
    return json.dumps(sorted(attendees, key=lambda a: str(a.get("name"))), indent=2)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{refresh}">
<title>Room {room}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; background: #fafafa; }}
h1 {{ font-size: 1.6rem; margin: 0 0 1rem; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .6rem; }}
.tile {{ background: white; border-left: .5rem solid #2e7d32; border-radius: .3rem; padding: .6rem .8rem;
         box-shadow: 0 1px 3px #0002; }}
.tile.slow {{ border-color: #f9a825; }} .tile.stuck {{ border-color: #c62828; }}
.tile.done {{ border-color: #1565c0; }}
.name {{ font-weight: 600; font-size: 1.15rem; }}
.bar {{ display: flex; gap: 2px; margin: .35rem 0; }}
.bar span {{ flex: 1; height: .5rem; background: #ddd; }} .bar span.on {{ background: #2e7d32; }}
.step {{ font-size: .9rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.problem {{ font-size: .85rem; color: #555; display: -webkit-box; -webkit-line-clamp: 2;
            -webkit-box-orient: vertical; overflow: hidden; }}
ol {{ font-size: 1rem; margin: 0 0 1rem; }}
</style></head><body>
<h1>Room {room}: {count}, {done} done <small>({stamp} UTC, refreshes every {refresh} s)</small></h1>
<ol>{problems}</ol>
<div class="grid">
{tiles}
</div>
</body></html>
"""

TILE = """<div class="tile {kind}" data-name="{name}" data-steps="{steps}">
<div class="name">{name}</div><div class="bar">{bar}</div>
<div class="step">{step}</div><div class="problem" title="{problem}">{problem}</div></div>"""


def page(cache_url: str, attendees: list[dict], refresh: int = 10, now: datetime | None = None) -> str:
    """A page for the projector: a tile per attendee (green, amber after 10 min on a step, red
    after 20), self-refreshing, with nothing from the network (offline rooms)."""
    now = now or datetime.now(timezone.utc)
    tiles = []
    for a in in_order(attendees, now):
        done, step = a.get("steps_done", []), a.get("step")
        minutes = minutes_since(a.get("since"), now)
        kind = "done" if step is None else "stuck" if minutes >= 20 else "slow" if minutes >= 10 else "ok"
        title = STEPS[step - 1].title if isinstance(step, int) and 1 <= step <= len(STEPS) else ""
        tiles.append(
            TILE.format(
                kind=kind,
                name=html.escape(str(a.get("name"))),
                steps=" ".join(map(str, done)),
                bar="".join(f'<span class="{"on" if s.number in done else ""}"></span>' for s in STEPS),
                step=html.escape(f"step {step}, {duration(minutes)}: {title}" if step else "all done"),
                problem=html.escape(a.get("problem") or ""),
            )
        )
    problems = "".join(
        f"<li>{count} &times; {html.escape(p)}</li>" for count, p in common_problems(attendees, 3)
    )
    return PAGE.format(
        refresh=refresh,
        room=html.escape(cache_url),
        count=attendees_count(len(attendees)),
        done=sum(a.get("step") is None for a in attendees),
        stamp=f"{now:%H:%M:%S}",
        tiles="\n".join(tiles),
        problems=problems
        or (
            ""
            if attendees
            else f"<li>No one yet: attendees join with workshop start ../my-lab --room "
            f"{html.escape(cache_url)} --name &lt;name&gt;</li>"
        ),
    )
