"""What a check says when a step is not done: the first difference, and the command that ends it."""

from __future__ import annotations

from dvc_workshop.data.errors import WorkshopError


class Problem(WorkshopError):
    """The first difference between a lab and what its step asks, and a command that reaches the
    step from there (None: the step's own hints apply).

    A WorkshopError, so that one met outside a check (reset, solution) is still one line."""

    def __init__(self, what: str, hint: str | None = None) -> None:
        super().__init__(f"{what}; {hint}" if hint else what)
        self.what, self.hint = what, hint


class Unreadable(Problem):
    """A read that failed for a reason outside the lab (the emulator, the remote or DVC's lock did
    not answer in time): it says nothing of the lab's state, so no progress or record changes."""


class UnderWay(Problem):
    """A git operation under way (a rebase, a merge...): the files are between two states, so the
    steps are not compared with them; the lab stays where the last check found it."""
