"""`workshop start`: the attendee's lab, a DVC project of their own made from the reference.

It holds what such a project would: the stage code (`dvc_workshop/` less the lab tool and the
emulator), `params.yaml`, `sources/`, the exercise's test, `Pipfile`/`Pipfile.lock`, `.dvc/`
without remotes, `.gitignore`/`.dvcignore` and a short README that points to the handout; not
the reference's README (the answers), docs, benchmarks, CI or scripts. No `dvc.yaml` or
`dvc.lock` (the attendee writes the stages), what each step's entry lays (`Step.setup`, in the
registry's order: `standardize` blank with a TODO, dev packages out of the Pipfile), one commit,
and a bare repository beside it as `origin`, so `git push` and `dvc exp push` work offline. A
`.venv` file names the workshop's environment, so `pipenv shell` and `pipenv run` typed in the lab
use it. The attendee's name (the room's, or --name, or git's) is recorded in git config, where the
checks, hints and `solution` read it.
"""

from __future__ import annotations

import io
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.actions.membership import claim_name, lab_key, write_room_file
from dvc_workshop.lab.model.lab import LAB_MARK, NAME_KEY
from dvc_workshop.lab.model.layout import (
    CACHE_URL,
    EXAMPLE_NAME,
    RAW_PREFIX,
    RAW_URL,
    REFERENCE,
    START_MESSAGE,
)
from dvc_workshop.lab.model.runner import Runner
from dvc_workshop.lab.steps.registry import STEPS, number_of

# What a lab holds of the reference's last commit (a folder: all of it), less LEFT_OUT.
LAB_FILES = (
    "dvc_workshop/",
    "params.yaml",
    "sources/",
    "tests/__init__.py",
    "tests/test_transforms.py",
    "pytest.ini",
    "Pipfile",
    "Pipfile.lock",
    ".dvc/",
    ".dvcignore",
    ".gitignore",
    ".gitattributes",
)
# (dvc_workshop/utils/ stays: the original handout's download script, whose commands work in a lab.)
LEFT_OUT = ("dvc_workshop/lab/", "dvc_workshop/emulator/")
OUTPUTS_BLOCK = "# Pipeline outputs"  # the end of the reference's .gitignore, which DVC writes in a lab
THIS_LAPTOP = "\n# This laptop's: the workshop's environment (pipenv reads its path here)\n/.venv\n"


def in_lab(name: str) -> bool:
    def under(prefixes: tuple[str, ...]) -> bool:
        return any(name == p or (p.endswith("/") and name.startswith(p)) for p in prefixes)

    return under(LAB_FILES) and not under(LEFT_OUT)


def remove_remotes(repo: Path) -> None:
    """No DVC remotes, no default remote: adding their own is the attendee's first DVC step."""
    from dvc.config import Config

    with Config(dvc_dir=str(repo / ".dvc"), validate=False).edit("repo") as settings:
        settings.get("remote", {}).clear()
        settings.get("core", {}).pop("remote", None)


def copy_start_state(folder: Path, name: str) -> None:
    """The reference's committed files (never its uncommitted edits) that a lab holds, into `folder`."""
    committed = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=REFERENCE, capture_output=True)
    if committed.returncode != 0:
        raise WorkshopError(f"git archive failed in {REFERENCE}: {committed.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(committed.stdout)) as tar:
        members = [member for member in tar.getmembers() if member.isfile() and in_lab(member.name)]
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python 3.10.12+
        tar.extractall(folder, members=members, **safe)
    for step in STEPS:  # what each step lays in a new lab (its exercise), in the registry's order
        if step.setup:
            step.setup(folder)
    remove_remotes(folder)
    ignored = (folder / ".gitignore").read_text()
    (folder / ".gitignore").write_text(ignored[: ignored.index(OUTPUTS_BLOCK)].rstrip() + "\n" + THIS_LAPTOP)
    (folder / "README.md").write_text(lab_readme(name))


def lab_readme(name: str) -> str:
    return textwrap.dedent(f"""\
        # {name}: my DVC project

        The lab of the DVC workshop: the MNIST pipeline's code and parameters, to which I add the
        DVC work myself (a remote, the stages, versions, experiments). The handout, step by step:
        {REFERENCE / "README.md"}, section "The lab".

        In a `pipenv shell`, here: `workshop check` says where I stand, `workshop hint` gives a
        hint for the problem it found.
        """)


def link_environment(lab: Path) -> None:
    """The `.venv` file pipenv reads (the workshop's environment, not a new empty one), and the
    emulator's settings (`.env`, which pipenv also reads) linked from the workshop's folder."""
    if sys.prefix != sys.base_prefix:  # a virtual environment runs this: the workshop's
        (lab / ".venv").write_text(f"{sys.prefix}\n")
    if os.name != "nt":
        (lab / ".env").symlink_to(REFERENCE / ".env")


def lab_paths(folder: Path) -> tuple[Path, Path]:
    """The lab's folder and its origin's, both new and outside the workshop's repository."""
    folder = folder.resolve()
    if folder == REFERENCE or REFERENCE in folder.parents:
        raise WorkshopError(
            f"{folder} is inside the workshop's repository: make the lab beside it, e.g. ../my-lab"
        )
    if not folder.name or folder.parent == folder:
        raise WorkshopError(f"{folder} cannot hold a lab: name a new folder, e.g. ../my-lab")
    origin = folder.with_name(f"{folder.name}-origin.git")
    for path in (folder, origin):
        if path.exists():
            raise WorkshopError(f"{path} already exists: choose a new folder for the lab")
    return folder, origin


def start_lab(folder: Path, name: str, room: dict | None = None) -> Path:
    """Make the lab at `folder` (in `room`, if given) and its bare origin beside it; return the
    origin's path. Nothing is left half-made: it is built in a scratch folder, then renamed."""
    folder, origin = lab_paths(folder)
    reference = Runner(REFERENCE)
    for key in ("user.name", "user.email"):
        if not reference.git_output("config", key):
            raise WorkshopError(f"git has no {key} yet: set your name and email first (README, Environment)")
    scratch = folder.with_name(f".tmp-{folder.name}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    lab = Runner(scratch)
    try:
        copy_start_state(scratch, folder.name)
        lab.run_or_fail("git", "init", "-q", "-b", "main")
        lab.run_or_fail("git", "config", LAB_MARK, str(REFERENCE))  # the lab's mark: a clone has none
        lab.run_or_fail("git", "config", NAME_KEY, name)
        if room:
            write_room_file(scratch, room)
        lab.run_or_fail("git", "add", "-A")
        lab.run_or_fail("git", "commit", "-qm", START_MESSAGE)
        Runner(folder.parent).run_or_fail("git", "init", "-q", "--bare", "-b", "main", str(origin))
        lab.run_or_fail("git", "remote", "add", "origin", str(origin))
        lab.run_or_fail("git", "push", "-q", "-u", "origin", "main")
        link_environment(scratch)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(origin, ignore_errors=True)
        raise
    scratch.rename(folder)
    return origin


def start(folder: Path, room_url: str | None, name: str | None, rejoin: bool = False) -> list[str]:
    """`workshop start`: the lab made; the lines that say what to do next, in the attendee's names."""
    from dvc_workshop.lab.model.emulator_settings import is_local
    from dvc_workshop.lab.model.lab import name_from
    from dvc_workshop.lab.model.storage import check_name

    if room_url and not name:
        raise WorkshopError("--room needs --name: your folder in the room's bucket, e.g. --name ada")
    git = Runner(REFERENCE)
    chosen = check_name(name) if name else name_from(git.git_output("config", "user.name"), git.git_output(
        "config", "user.email"))  # fmt: skip
    user = git.git_output("config", "user.name")
    if chosen is None and user:  # (no user.name at all: the lab's making says what to set first)
        raise WorkshopError(
            f"git's user name {user!r} and email have no letter a-z to make your folder's name of: choose "
            f"one, 1-40 letters a-z, digits, - or _: workshop start {shlex.quote(str(folder))} --name ..."
        )
    chosen = chosen or EXAMPLE_NAME
    lab_paths(folder)
    # The room read and the name claimed before anything is made (the folder's path is the lab's).
    key = secrets.token_hex(16)  # the lab's own (membership.lab_key), before the lab exists
    room, rejoined = claim_name(room_url, chosen, folder.resolve(), rejoin, key) if room_url else (None, [])
    origin = start_lab(folder, chosen, room)
    lab_key(folder, key)
    lines = list(rejoined)
    if Runner(REFERENCE).git_output("status", "--porcelain", "--untracked-files=no"):
        lines.append(
            f"(The lab holds {REFERENCE.name}'s last commit: its uncommitted changes were not copied.)"
        )
    lab = os.path.relpath(folder.resolve())
    lines.append(
        f"Your lab is {lab} (origin: {os.path.relpath(origin)}); your name in it: {chosen}"
        f"{'' if name else ' (from git config user.name; workshop start --name chooses another)'}."
    )
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator and not is_local(emulator):
        first = f"the room's emulator at {emulator} serves the buckets: stay on the venue's network"
    elif emulator:
        first = f"keep the emulator running (pipenv run emulator, at {emulator}): it serves the buckets"
    elif room:
        first = "once, with the account your facilitator gave access: gcloud auth application-default login"
    else:
        first = (
            "in a second terminal, in this folder: pipenv run emulator"
            "  (real GCS: gcloud auth application-default login)"
        )
    lines += [
        f"Next (lab step {number_of('environment')}):",
        f"  1. {first}",
        f"  2. cd {lab} && pipenv shell  (the workshop's environment: {lab}/.venv names it)",
        "  3. then: workshop check",
    ]
    cache, raw = (room["cache"], room["raw"]) if room else (CACHE_URL, RAW_URL)
    remote = f"dvc remote add -d dvc-workshop {cache}/{chosen}"
    lines.append(f"Your remote, in lab step {number_of('remote')}: {remote}")
    if room and raw != RAW_URL:
        lines.append(
            f"The raw data, in lab step {number_of('download')}: {raw}/{RAW_PREFIX} "
            f"(where the README says {RAW_URL}/{RAW_PREFIX})"
        )
    return lines
