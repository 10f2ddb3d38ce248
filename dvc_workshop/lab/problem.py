"""What a check says when a step is not done: the first difference, and the command that ends it."""

from __future__ import annotations

from dvc_workshop.cli import WorkshopError


class Problem(WorkshopError):
    """The first difference between a lab and what its step asks, and a command that reaches the
    step from there (None: the step's own hints apply).

    A WorkshopError, so that one met outside a check (reset, solution) is still one line."""

    def __init__(self, what: str, hint: str | None = None) -> None:
        super().__init__(f"{what}; {hint}" if hint else what)
        self.what, self.hint = what, hint
