"""The room's page for the projector: a tile per attendee, sized so that the whole room fits one
screen (3 attendees get big tiles, 100 small ones), and beside the tiles the legend, every step's
whole title with how many attendees are on it, the problems most of the room has, and who is
ready before the day. It refreshes itself and loads nothing from the network (offline rooms).
"""

from __future__ import annotations

import html
import math
from collections import Counter
from datetime import datetime, timezone

from dvc_workshop.lab.commands.room_table import (
    HAND_LATE_MINUTES,
    LEGEND,
    attendees_count,
    common_problems,
    duration,
    hand_words,
    in_order,
    minutes_since,
    raised_hands,
    readiness,
    repeats,
    room_steps,
    state,
    step_title,
)

# The tiles' area on the screen the page is planned for (1400x900 less the side panel): its
# columns are chosen for tiles of about TILE_SHAPE (width/height); any other screen scales them.
AREA, TILE_SHAPE = (1000, 820), 1.5

STYLE = """
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font-family: system-ui, sans-serif; background: #f4f4f4; display: flex; flex-direction: column;
       padding: .6rem; gap: .5rem; }
h1 { font-size: 1.3rem; margin: 0; } h1 small { font-weight: normal; color: #555; font-size: .9rem; }
main { flex: 1; display: flex; gap: .8rem; min-height: 0; }
.grid { flex: 1; display: grid; gap: .35rem; min-width: 0; grid-template-columns: repeat(COLS, 1fr);
        grid-template-rows: repeat(ROWS, minmax(0, 1fr)); }
.tile { container-type: size; background: white; border-left: .45rem solid #2e7d32; border-radius: .3rem;
        padding: .2rem .4rem; box-shadow: 0 1px 2px #0002; overflow: hidden; min-width: 0; }
.tile > div { margin-bottom: 2cqh; }
.tile.slow { border-color: #f9a825; background: #fffbea; }
.tile.stuck { border-color: #c62828; background: #fdecea; }
.tile.done { border-color: #1565c0; }
.name { font-weight: 600; font-size: clamp(9px, 17cqh, 26px); white-space: nowrap; overflow: hidden;
        text-overflow: ellipsis; }
.bar { display: flex; gap: 1px; height: clamp(3px, 6cqh, 8px); flex: none; }
.bar span { flex: 1; background: #ddd; } .bar span.on { background: #2e7d32; }
.step { font-size: clamp(8px, 12cqh, 18px); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.problem { font-size: clamp(8px, 10.5cqh, 16px); color: #444; overflow: hidden; }
.title { font-size: clamp(8px, 7cqh, 18px); font-weight: 600; display: none; }
@container (max-height: 70px) { .problem { display: none; } }
@container (min-height: 140px) { .title { display: block; } }
aside { width: 22rem; flex: none; overflow: hidden; font-size: .82rem; display: flex; flex-direction: column;
        gap: .5rem; }
aside h2 { font-size: .95rem; margin: 0 0 .2rem; }
aside ol, aside ul { margin: 0; padding-left: 2.2rem; } aside li { margin: .1rem 0; }
.key { display: inline-block; width: .8rem; height: .8rem; border-radius: .15rem; vertical-align: -.1rem; }
#warn { background: #c62828; color: white; padding: .3rem .6rem; font-weight: 600; }
.stale, .late { color: #b00020; font-weight: bold; }
"""

CHECK = """<script>
// Says on the page when tiles fall off the screen (a smaller window than planned), and keeps the
// count in data- attributes for the workshop's own browser test.
function fit() {
  const out = (e) => {
    const r = e.getBoundingClientRect();
    return r.bottom > innerHeight + 1 || r.right > innerWidth + 1;
  };
  const off = [...document.querySelectorAll('.tile')].filter(out).length;
  const side = document.querySelector('aside');
  const cut = (side.scrollHeight > side.clientHeight + 1 || out(side)) ? 1 : 0;
  document.body.dataset.offscreen = off; document.body.dataset.cut = cut;
  const warn = document.getElementById('warn');
  warn.hidden = !(off || cut);
  warn.textContent = (off ? off + ' tiles' : 'the side panel')
    + ' off the screen: enlarge the window, or zoom out (Ctrl -)';
}
fit(); addEventListener('resize', fit);
</script>"""


def columns(count: int) -> tuple[int, int]:
    """Columns and rows that give `count` tiles of TILE_SHAPE the largest size in AREA."""

    def size(cols: int) -> float:
        rows = math.ceil(max(count, 1) / cols)
        return min(AREA[0] / cols / TILE_SHAPE, AREA[1] / rows)

    count = max(count, 1)  # an empty room: one empty place
    cols = max(range(1, count + 1), key=size)
    return cols, math.ceil(count / cols)


def tile(a: dict, now: datetime, steps: list) -> str:
    done, step = a.get("steps_done", []), a.get("step")
    minutes, tries = minutes_since(a.get("since"), now), repeats(a)
    where = (
        f"step {step} · {duration(minutes)}" + (f" · {tries}&times;" if tries > 1 else "")
        if step
        else "all done"
    )
    title = html.escape(step_title(step))
    bar = "".join(f'<span class="{"on" if s.number in done else ""}"></span>' for s in steps)
    name, problem = html.escape(str(a.get("name"))), html.escape(a.get("problem") or "")
    return (f'<div class="tile {state(a, now)}" data-name="{name}" data-steps="{" ".join(map(str, done))}" '
            f'title="{name}: {problem}"><div class="name">{name}</div><div class="bar">{bar}</div>'
            f'<div class="step">{where}</div><div class="title">{title}</div>'
            f'<div class="problem">{problem}</div></div>')  # fmt: skip


def first(names: list[str], shown: int = 12) -> str:
    """A list of names that fits the panel: the first few, then how many more."""
    more = f", and {len(names) - shown} more (room show lists them)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more if names else "-"


def side_panel(cache_url: str, attendees: list[dict], doctor: list[dict], room: dict, now: datetime) -> str:
    colours = {"stuck": "#c62828", "slow": "#f9a825", "ok": "#2e7d32", "done": "#1565c0"}
    legend = "".join(f'<li><span class="key" style="background:{colours[k]}"></span> {html.escape(t)}</li>'
                     for k, t in LEGEND.items())  # fmt: skip
    here = Counter(a.get("step") for a in attendees)
    steps = "".join(f"<li>{html.escape(s.title)} <b>({here[s.number]})</b></li>" for s in room_steps(room))
    hands = "".join(
        f"<li{' class=late' if waited > HAND_LATE_MINUTES else ''}>{html.escape(str(hand.get('name')))}, "
        f"{duration(waited)}: {html.escape(hand_words(hand))}</li>"
        for hand, waited in raised_hands(attendees, now)
    )
    parts = [f"<section><h2>Raised hands</h2><ol>{hands}</ol></section>"] if hands else []
    parts += [f'<section><h2>Legend</h2><ul style="list-style:none;padding:0">{legend}</ul></section>',
             f"<section><h2>Steps (attendees on each)</h2><ol>{steps}</ol></section>"]  # fmt: skip
    shared = common_problems(attendees, 4)
    problems = "".join(f"<li>{count} &times; {html.escape(problem)}</li>" for count, problem in shared)
    if problems or not attendees:
        join = f"workshop start ../my-lab --room {cache_url} --name THEIR-NAME"
        problems = problems or f"<li>No one yet: attendees join with {html.escape(join)}</li>"
        parts.append(f"<section><h2>Most common problems now</h2><ul>{problems}</ul></section>")
    if doctor or room.get("expected"):
        ready = readiness(attendees, doctor, room)
        lines = "".join(
            f"<li>{kind} ({len(names)}): {html.escape(first(names))}</li>" for kind, names in ready.items()
        )
        parts.append(f"<section><h2>Before the day (workshop doctor)</h2><ul>{lines}</ul></section>")
    return "<aside>" + "".join(parts) + "</aside>"


def page(cache_url: str, attendees: list[dict], doctor: list[dict] = (), room: dict | None = None,
         refresh: int | None = 10, now: datetime | None = None, stale: str | None = None) -> str:  # fmt: skip
    """The room as read at `now`; `stale`: why a later read failed (the page says it is not updated)."""
    now = now or datetime.now(timezone.utc)
    cols, rows = columns(len(attendees))
    done = sum(a.get("step") is None for a in attendees)
    title = f"Room {html.escape(cache_url)}"
    reload = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    when = f"refreshes every {refresh} s" if refresh else "a snapshot: --watch refreshes it"
    if stale:
        when = f'<b class="stale">NOT UPDATED since then, {html.escape(stale)}</b>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">{reload}
<title>{title}</title><style>{STYLE.replace("COLS", str(cols)).replace("ROWS", str(rows))}</style></head>
<body><h1>{title}: {attendees_count(len(attendees))}, {done} done
<small>({now:%H:%M:%S} UTC, {when})</small></h1>
<div id="warn" hidden></div>
<main><div class="grid">
{"".join(tile(a, now, room_steps(room)) for a in in_order(attendees, now))}
</div>{side_panel(cache_url, attendees, list(doctor), room or {}, now)}</main>
{CHECK}
</body></html>
"""
