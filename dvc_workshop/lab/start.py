"""`workshop start`: the attendee's lab repository, made from this one.

This repository is the complete solution. The lab starts from its code and parameters without
the DVC work the attendee is there to do: no `dvc.yaml` or `dvc.lock` (they write the stages),
no DVC remotes (they add their own), `standardize` blank with a TODO (the exercise), the outputs
left out of `.gitignore` (DVC writes its own), one initial commit, and a bare git repository
beside it as `origin`, so that `git push` and `dvc exp push` work offline. A lab that joins a
room (`--room gs://CACHE --name NAME`) records the room's buckets and the name in its git config,
where the checks, hints and `solution` read them.
"""

from __future__ import annotations

import ast
import io
import shutil
import subprocess
import tarfile
import textwrap
from pathlib import Path

from dvc_workshop.cli import WorkshopError
from dvc_workshop.lab.steps import EXERCISE_HINT

REFERENCE = Path(__file__).resolve().parents[2]
LEFT_OUT = ("dvc.yaml", "dvc.lock", "reports/metrics.json")  # what the attendee's pipeline writes
EXERCISE = Path("dvc_workshop/ml/transforms.py"), "standardize"  # the function whose body is blanked
BLANK = 'raise NotImplementedError("standardize: the exercise of lab step 4 (README)")'
START_MESSAGE = "Start of the DVC workshop lab"
OUTPUTS_BLOCK = "# Pipeline outputs"  # the end of .gitignore that a lab leaves out


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise WorkshopError(f"git {' '.join(args)} failed in {folder}: {result.stderr.strip()}")
    return result.stdout


def blank_function(path: Path, name: str) -> None:
    """Replace the body of function `name` (its docstring kept) by a TODO and NotImplementedError."""
    source = path.read_text()
    (function,) = (node for node in ast.walk(ast.parse(source)) if getattr(node, "name", None) == name)
    first = function.body[1] if ast.get_docstring(function) else function.body[0]
    lines = source.splitlines(keepends=True)
    indent = " " * first.col_offset
    todo = textwrap.wrap(f"TODO(lab step 4): {EXERCISE_HINT}.", 90)
    lines[first.lineno - 1 : function.end_lineno] = [f"{indent}# {line}\n" for line in todo] + [
        f"{indent}{BLANK}\n"
    ]
    path.write_text("".join(lines))


def remove_remotes(repo: Path) -> None:
    """No DVC remotes, no default remote: adding their own is the attendee's first DVC step."""
    from dvc.config import Config

    config = Config(dvc_dir=str(repo / ".dvc"), validate=False)
    with config.edit("repo") as settings:
        settings.get("remote", {}).clear()
        settings.get("core", {}).pop("remote", None)


def copy_start_state(folder: Path) -> None:
    """The reference's committed files (never its uncommitted edits), less what the attendee
    writes, into `folder`."""
    committed = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=REFERENCE, capture_output=True)
    if committed.returncode != 0:
        raise WorkshopError(f"git archive failed in {REFERENCE}: {committed.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(committed.stdout)) as archive:
        members = [member for member in archive.getmembers() if member.name not in LEFT_OUT]
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python 3.10.12+
        archive.extractall(folder, members=members, **safe)
    blank_function(folder / EXERCISE[0], EXERCISE[1])
    remove_remotes(folder)
    ignored = (folder / ".gitignore").read_text()
    (folder / ".gitignore").write_text(ignored[: ignored.index(OUTPUTS_BLOCK)].rstrip() + "\n")


def join_room(cache_url: str, name: str) -> dict:
    """The room's record (its buckets), read before the lab is made: a wrong bucket, no access or
    no room stops `workshop start` at once."""
    from dvc_workshop.lab.room import check_name, load_room

    check_name(name)
    return load_room(cache_url)


def write_room_file(lab: Path, room: dict) -> None:
    from dvc_workshop.lab.state import ROOM_FILE

    (lab / ROOM_FILE).write_text(
        "# The workshop room this lab is in (workshop start --room): the lab's checks, hints and\n"
        "# solutions use its buckets. Your name, your folder in the cache bucket: git config workshop.name\n"
        f"cache: {room['cache']}\nraw: {room['raw']}\n"
    )


def start_lab(folder: Path, room: dict | None = None) -> Path:
    """Make the lab at `folder` (in `room`, if given) and its bare origin beside it; return the
    origin's path."""
    folder = folder.resolve()
    if folder == REFERENCE or REFERENCE in folder.parents:
        raise WorkshopError(f"{folder} is inside this repository: make the lab beside it, e.g. ../my-lab")
    if not folder.name or folder.parent == folder:
        raise WorkshopError(f"{folder} cannot hold a lab: name a new folder, e.g. ../my-lab")
    origin = folder.with_name(f"{folder.name}-origin.git")
    for path in (folder, origin):
        if path.exists():
            raise WorkshopError(f"{path} already exists: choose a new folder for the lab")
    for key in ("user.name", "user.email"):
        if subprocess.run(["git", "config", key], cwd=REFERENCE, capture_output=True).returncode != 0:
            raise WorkshopError(f"git has no {key} yet: set your name and email first (README, Environment)")
    scratch = folder.with_name(f".tmp-{folder.name}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        copy_start_state(scratch)
        git(scratch, "init", "-q", "-b", "main")
        git(scratch, "config", "workshop.reference", str(REFERENCE))  # where `solution` reads the steps
        if room:
            write_room_file(scratch, room)
            git(scratch, "config", "workshop.name", room["name"])
        git(scratch, "add", "-A")
        git(scratch, "commit", "-qm", START_MESSAGE)
        git(folder.parent, "init", "-q", "--bare", "-b", "main", str(origin))
        git(scratch, "remote", "add", "origin", str(origin))
        git(scratch, "push", "-q", "-u", "origin", "main")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(origin, ignore_errors=True)
        raise
    scratch.rename(folder)
    return origin
