"""A local Google Cloud Storage for the workshop: `pipenv run emulator`.

Runs fake-gcs-server on 127.0.0.1, creates the raw and cache buckets, puts raw MNIST IDX files
into the raw bucket and points the project at it, so `dvc push`, `dvc pull`, `dvc status -c` and
`dvc repro` work with no Google account. Stopping it (Ctrl+C) leaves those settings: what runs
here then says the emulator does not answer, until it runs again, and nothing goes to Google's
servers unasked (`pipenv run workshop room use --off` takes the settings out).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.actions.handout import handout_lines
from dvc_workshop.lab.actions.room_create import create_room
from dvc_workshop.lab.commands.stopping import stop_on_signals
from dvc_workshop.lab.model.emulator import Emulator, raw_mnist, raw_objects
from dvc_workshop.lab.model.emulator_settings import answers, configure_project, is_local, written_settings
from dvc_workshop.lab.model.layout import (
    CACHE_BUCKET,
    CACHE_URL,
    EMULATOR_PORT,
    RAW_BUCKET,
    RAW_PREFIX,
    RAW_URL,
    REFERENCE,
)
from dvc_workshop.lab.model.records import rooms_held

LOOPBACK = "127.0.0.1"

app = WorkshopApp()


@app.command()
def main(
    port: Annotated[int, typer.Option(help="Port to serve the GCS API on.")] = EMULATOR_PORT,
    host: Annotated[
        str,
        typer.Option(help="Address to serve on: this laptop's on the venue's network serves a room there."),
    ] = LOOPBACK,
    data_dir: Annotated[Path, typer.Option(help="Where the buckets are kept between runs.")] = Path(
        ".gcs-emulator"
    ),
    raw: Annotated[
        str | None, typer.Option(help="Folder of the four MNIST IDX .gz files for the raw bucket.")
    ] = None,
    sample: Annotated[Path, typer.Option(help="Sample used when --raw is not given.")] = Path(
        "sources/mnist-sample.yaml"
    ),
    params: Annotated[Path, typer.Option(help="Parameters file (the sample's split).")] = Path("params.yaml"),
) -> None:
    """Serve the raw and cache buckets locally and point DVC at them until stopped (Ctrl+C)."""
    repo = Path.cwd()
    if not (repo / ".dvc").is_dir():
        raise WorkshopError("run the emulator from the repository's root folder (where .dvc/ is)")
    if not (repo / "dvc_workshop/lab").is_dir():  # a lab, or a clone of one: they lack the lab tool
        raise WorkshopError(
            f"{repo} is not the workshop's folder (a lab?): the emulator runs there, where every lab's "
            f".env leads, in a terminal of its own: cd {REFERENCE} && pipenv run emulator"
        )
    if host in ("0.0.0.0", "::", ""):
        raise WorkshopError(
            f"--host {host!r}: give this laptop's own address on the venue's network, which attendees "
            "reach it at (hostname -I or ipconfig lists them), e.g. --host 192.168.1.20"
        )
    running = written_settings(repo).get("STORAGE_EMULATOR_HOST")
    if running and running != f"http://{host}:{port}" and not is_local(running):  # (itself: a restart)
        raise WorkshopError(
            f"this folder uses the room at {running} (workshop room use): stay on the venue's network, "
            "or stop using it: pipenv run workshop room use --off"
        )
    if running and answers(running):
        raise WorkshopError(f"this folder already uses the emulator at {running} (another terminal, or "
                            "workshop room use): use it, or stop it there first")  # fmt: skip
    emulator = Emulator(data_dir, port, host)
    stop_on_signals()  # Ctrl+C, kill, a closed terminal: all stop it the same way
    emulator.start()
    try:
        os.environ.update(emulator.environment())  # the room's own functions make the default room
        files = None if raw else raw_objects(raw_mnist(None, sample, params))
        mnist = Path(raw) if raw else None
        create_room(RAW_URL, CACHE_URL, mnist, replace=bool(raw), files=files, on_line=print)
        configure_project(repo, emulator.environment())
        rooms = [room for room in rooms_held() if room != CACHE_URL]  # a restart: the rooms made here since
        also = f"; it holds room{'s' if len(rooms) > 1 else ''} {', '.join(rooms)} too" if rooms else ""
        print(f"GCS emulator on {emulator.url}: gs://{RAW_BUCKET}/{RAW_PREFIX} and gs://{CACHE_BUCKET}, "
              f"the default room ({CACHE_URL}){also}")  # fmt: skip
        print("DVC here uses it (.dvc/config.local), and so does each `pipenv shell` opened from now (.env).")
        if host != LOOPBACK:
            print(f"Anyone who reaches {host} can read and write these buckets, with no account: serve "
                  "them on the venue's own network only, never on a public one.")  # fmt: skip
            use_line = f"pipenv run workshop room use {emulator.url}"
            for room in rooms or [CACHE_URL]:  # the facilitator's room(s) it holds, else its default one
                for line in handout_lines(room, logins=False, use_line=use_line):
                    print(line)
        print("Leave this terminal open; Ctrl+C stops the emulator (the settings stay until it runs again).")
        emulator.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            print(f"Emulator stopped; data kept in {data_dir}. This folder and its labs still point at "
                  f"{emulator.url}: DVC and the workshop's commands there say it does not answer until "
                  "pipenv run emulator runs again (Google's buckets instead: pipenv run workshop room use "
                  "--off).")  # fmt: skip
