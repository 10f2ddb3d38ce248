"""Lab step 1: this laptop ready (git's identity), the lab a repository with its origin, the
buckets reachable (the emulator answering, or Google credentials), and the Pipfile's exercise
done (pipfile.py), which `workshop start` lays: dev packages out of the lab's Pipfile."""

from __future__ import annotations

import os
from pathlib import Path

from dvc_workshop.lab.mechanisms.entry import Reset, Step
from dvc_workshop.lab.mechanisms.pipfile import check_pipfile, pipfile_hints
from dvc_workshop.lab.model.emulator_settings import TAKEN_FROM_ENV_FILE, answers, is_local, written_settings
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import PIPFILE_LEFT_OUT
from dvc_workshop.lab.model.problem import Problem, Unreadable


def setup(folder: Path) -> None:
    """The exercise laid in a new lab: the dev packages of PIPFILE_LEFT_OUT out of its Pipfile (not
    its lock), a TODO line above [dev-packages]."""
    pipfile = folder / "Pipfile"
    lines, section = [], ""
    for line in pipfile.read_text().splitlines(keepends=True):
        section = line.strip() if line.startswith("[") else section
        if section == "[dev-packages]" and line.split("=")[0].strip() in PIPFILE_LEFT_OUT:
            continue
        if line.strip() == "[dev-packages]":
            missing = f"{len(PIPFILE_LEFT_OUT)} packages of the lock are missing here"
            lines.append(f"# TODO(lab step {STEP.number}): {missing}\n")
        lines.append(line)
    pipfile.write_text("".join(lines))


def check(lab: Lab) -> None:
    for key in ("user.name", "user.email"):
        if not lab.git_output("config", key):
            example = {"user.name": '"Ada Attendee"', "user.email": "ada@example.com"}[key]
            raise Problem(f"git has no {key}", f"git config --global {key} {example} (with your own)")
    if not lab.origin:
        origin = lab.root.with_name(f"{lab.root.name}-origin.git")
        if origin.is_dir():
            raise Problem("the lab has no git remote origin", f"git remote add origin {lab.relative(origin)}")
        raise Problem(
            f"the lab has no git remote origin, and there is no {lab.relative(origin)} beside it",
            f"git init --bare {lab.relative(origin)} && "
            f"git remote add origin {lab.relative(origin)} && git push -u origin main",
        )
    if (emulator := os.environ.get("STORAGE_EMULATOR_HOST")) and TAKEN_FROM_ENV_FILE and answers(emulator):
        raise Problem(
            f"the emulator runs ({emulator}), but this shell does not have its settings (opened before it "
            "started, or not by pipenv shell, which reads .env): dvc typed here goes to Google's storage",
            "export " + " ".join(f"{key}={value}" for key, value in TAKEN_FROM_ENV_FILE.items()),
        )
    if emulator:
        if not answers(emulator):  # gcsfs would retry an endpoint that does not answer for minutes
            if not is_local(emulator):
                raise Unreadable(
                    f"the room's emulator at {emulator} does not answer",
                    "is this laptop on the venue's network? Ask the facilitator whether it runs "
                    "(not pipenv run emulator: that would be a room of your own)",
                )
            raise Unreadable(
                f"the emulator at {emulator} does not answer",
                "start it (pipenv run emulator, in a second terminal, in the workshop's folder)",
            )
    elif answers(running := (written := written_settings(lab.reference)).get("STORAGE_EMULATOR_HOST", "")):
        raise Problem(
            f"the emulator runs ({running}), but this shell was opened before it started: pipenv shell "
            "reads .env once",
            "export " + " ".join(f"{key}={value}" for key, value in written.items()),
        )
    elif "GOOGLE_APPLICATION_CREDENTIALS" not in os.environ:
        os.environ.setdefault("NO_GCE_CHECK", "true")  # read at import: no probe of a cloud VM's metadata
        from google.auth import default
        from google.auth.exceptions import DefaultCredentialsError

        try:
            default()
        except DefaultCredentialsError:
            raise Problem(
                "no emulator and no GCS credentials in this shell",
                f"start the emulator (pipenv run emulator, in {lab.reference}), then open a new pipenv "
                "shell; or: gcloud auth application-default login",
            ) from None
    check_pipfile(lab, STEP.number)


def hints(lab: Lab, problem: Problem | None) -> list[str]:
    """The Pipfile's hints for a Pipfile problem; otherwise this laptop's."""
    if problem and ("Pipfile" in problem.what):
        return pipfile_hints(lab)
    return [
        "git needs your name and email once: the two git config --global lines of the README",
        "the buckets: pipenv run emulator in a second terminal, in the workshop's folder, then a new "
        "pipenv shell (it reads the emulator's address from .env); or, with real GCS, gcloud auth "
        "application-default login",
        *pipfile_hints(lab),
    ]


STEP = Step(
    "Environment",
    check,
    hints,
    Reset(files=("Pipfile", "Pipfile.lock")),
    setup=setup,
)
