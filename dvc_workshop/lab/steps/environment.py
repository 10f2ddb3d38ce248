"""Lab step 1: this laptop ready (git's identity), the lab a repository with its origin, the
buckets reachable (the emulator answering, or Google credentials), and the Pipfile's exercise
done (pipfile.py)."""

from __future__ import annotations

import os

from dvc_workshop.emulator.settings import answers, is_local, written_settings
from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.steps.entry import Reset, Step
from dvc_workshop.lab.steps.pipfile import check_pipfile, pipfile_hints


def check(lab: Lab) -> None:
    for key in ("user.name", "user.email"):
        if not lab.git("config", key):
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
    if emulator := os.environ.get("STORAGE_EMULATOR_HOST"):
        if not answers(emulator):  # gcsfs would retry an endpoint that does not answer for minutes
            if not is_local(emulator):
                raise Problem(
                    f"the room's emulator at {emulator} does not answer",
                    "is this laptop on the venue's network? Ask the facilitator whether it runs "
                    "(not pipenv run emulator: that would be a room of your own)",
                )
            raise Problem(
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
    check_pipfile(lab)


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
    1,
    "Environment",
    check,
    hints,
    Reset(files=("Pipfile", "Pipfile.lock")),
)
