"""Lab step 12: Data from another project: dvc import (being written)."""

from __future__ import annotations

from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.steps.entry import Reset, Step, fixed


def check(lab: Lab) -> None:
    raise Problem("this step is being written", "workshop hint 12")


STEP = Step(
    12, "Data from another project: dvc import", check, fixed("being written"), Reset(nothing="being written")
)
