"""`workshop room report`: the room's report as one self-contained page and a CSV: the day's
figures (actions/room_report.py) drawn by matplotlib as PNG images inside the page, and the
problems that held the room longest as a table. One file: mailed, opened offline, archived.

Planned for a 1400x900 window, two pictures a row; the page measures itself in the browser and
says so if anything is wider than the window (the workshop's browser test reads that).
"""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.data.atomic_files import atomic_output
from dvc_workshop.lab.actions.room_report import DayFigures, as_csv, figures
from dvc_workshop.lab.commands.room_notes import Bucket
from dvc_workshop.lab.steps.registry import STEPS

SIZE = (6.6, 3.3)  # inches at 100 dpi: two pictures side by side in 1400 pixels
PROBLEMS_SHOWN = 15
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem 1.5rem; color: #222; max-width: 1360px; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.05rem; margin: 1rem 0 .3rem; }
.pictures { display: grid; grid-template-columns: repeat(2, 660px); gap: 1rem; }
.pictures img { width: 660px; height: 330px; }
table { border-collapse: collapse; font-size: .9rem; } td, th { padding: .2rem .6rem; text-align: left; }
tr:nth-child(even) { background: #f3f3f3; } td.n { text-align: right; }
#warn { background: #c62828; color: white; padding: .3rem .6rem; font-weight: 600; }
"""
CHECK = """<script>
// Says on the page when it is wider than the window; the workshop's browser test reads the count.
function fit() {
  const wide = document.documentElement.scrollWidth > innerWidth + 1;
  document.body.dataset.wide = wide ? 1 : 0;
  const warn = document.getElementById('warn');
  warn.hidden = !wide; warn.textContent = 'wider than the window: enlarge it, or zoom out (Ctrl -)';
}
fit(); addEventListener('resize', fit);
</script>"""


def picture(draw) -> str:
    """One figure drawn by `draw(axes)`, as an <img> holding its PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=100, layout="constrained")
    draw(figure.subplots())
    png = io.BytesIO()
    figure.savefig(png, format="png")
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(png.getvalue()).decode()}">'


def whole_numbers(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def minutes_box(day: DayFigures, steps: list[int]):
    def draw(axes) -> None:
        axes.boxplot([list(day.minutes_on_step.get(step, {}).values()) or [float("nan")] for step in steps],
                     tick_labels=[str(step) for step in steps])  # fmt: skip
        axes.set(title="Minutes on each step (a step not done: so far)", xlabel="lab step", ylabel="minutes")

    return draw


def reached_lines(day: DayFigures, steps: list[int]):
    def draw(axes) -> None:
        from matplotlib import colormaps, dates

        colours = colormaps["tab20"]  # a colour each, for up to twenty steps
        arrivals = [when for by in day.reached.values() for when in by.values()]
        end = max([*arrivals, day.until] if day.until else arrivals, default=None)  # the room's last check
        for step in steps:
            times = sorted(when.astimezone() for when in day.reached.get(step, {}).values())
            if times:  # each line held to the room's last check: a count, not a spike
                counts = [*range(1, len(times) + 1), len(times)]
                axes.step([*times, end.astimezone()], counts, where="post", label=f"{step}",
                          color=colours((step - 1) % 20), linewidth=1.8)  # fmt: skip
        whole_numbers(axes.yaxis)
        axes.xaxis.set_major_formatter(dates.DateFormatter("%H:%M", tz=datetime.now().astimezone().tzinfo))
        axes.set(title="Attendees who reached each step, through the day", xlabel="time",
                 ylabel="attendees", ylim=(0, max(day.attendees, 1) + 0.5))  # fmt: skip
        if any(day.reached.values()):
            axes.legend(title="step", fontsize="x-small", ncols=2, loc="upper left")

    return draw


def hands_bars(day: DayFigures, steps: list[int]):
    def draw(axes) -> None:
        axes.bar([str(step) for step in steps], [day.hands.get(step, 0) for step in steps], color="#c62828")
        axes.set(title="Hands raised on each step (workshop help)", xlabel="lab step", ylabel="hands")
        whole_numbers(axes.yaxis)

    return draw


def doctor_bars(day: DayFigures):
    def draw(axes) -> None:
        kinds = list(day.doctor)
        axes.barh(kinds, [day.doctor[kind] for kind in kinds], color=["#2e7d32", "#c62828", "#9e9e9e"])
        axes.invert_yaxis()
        axes.set(title="Before the day: workshop doctor on each laptop", xlabel="laptops")
        whole_numbers(axes.xaxis)

    return draw


def title_of(step: int) -> str:
    return STEPS[step - 1].title if 1 <= step <= len(STEPS) else ""


def report_page(cache_url: str, day: DayFigures, room_steps: int | None, anonymous: bool) -> str:
    steps = [step.number for step in STEPS[: room_steps or len(STEPS)]]
    pictures = [picture(draw) for draw in (minutes_box(day, steps), reached_lines(day, steps),
                                            hands_bars(day, steps), doctor_bars(day))]  # fmt: skip
    rows = (
        "".join(
            f"<tr><td class=n>{step}</td><td>{html.escape(title_of(step))}</td>"
            f"<td>{html.escape(problem)}</td><td class=n>{people}</td><td class=n>{median:.1f}</td></tr>"
            for step, problem, people, median in day.problems[:PROBLEMS_SHOWN]
        )
        or "<tr><td colspan=5>No problem was recorded.</td></tr>"
    )
    names = "names left out (--anonymous)" if anonymous else "attendees by name"
    made = f"{datetime.now(timezone.utc).astimezone():%Y-%m-%d %H:%M}"
    title = f"Room {html.escape(cache_url)}: the day's report"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>
<body><h1>{title}</h1>
<p>{day.attendees} attendees, {len(steps)} lab steps; made {made} from the room's records, {names}.
The same figures, a value a row: the CSV beside this page.</p>
<div id="warn" hidden></div>
<div class="pictures">{"".join(pictures)}</div>
<h2>The problems that held the most attendees longest</h2>
<table><tr><th>step</th><th></th><th>problem</th><th>attendees</th><th>median minutes</th></tr>{rows}</table>
{CHECK}
</body></html>
"""


def report(
    cache: Bucket,
    page: Annotated[
        Path, typer.Option("--html", help="The page to write; its CSV goes beside it (.csv).")
    ] = Path("room-report.html"),
    anonymous: Annotated[bool, typer.Option("--anonymous", help="Attendees as numbers, not names.")] = False,
) -> None:
    """After the day: where the time went (minutes per step, the room's progress, the problems
    that held it longest, raised hands, the doctor), from the room's records."""
    from dvc_workshop.lab.model import records

    room, attendees, doctor = records.snapshot(cache)
    if not room:
        records.load_room(cache)  # no room's record there: its line says why
    day = figures(attendees, doctor, room, anonymous)
    table = page.with_suffix(".csv")
    with atomic_output(page) as scratch:
        scratch.write_text(report_page(cache, day, room.get("steps"), anonymous))
    with atomic_output(table) as scratch:
        scratch.write_text(as_csv(day))
    print(f"{page}: the day's report of room {cache} ({day.attendees} attendees); {table}: its figures, "
          "a value a row. Open the page in a browser; it holds its pictures.")  # fmt: skip
