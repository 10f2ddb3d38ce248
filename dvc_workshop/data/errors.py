"""The project's one-line errors: a failure the attendee can fix is said in one line that names
the file, parameter or thing wrong, never a traceback (`WorkshopApp` in cli.py prints them).
The data plumbing raises most of them (a bad IDX file, a broken shard, an unknown source), so
they live here, in the stages' one dependency folder; the parameters, the stages and the lab tool
raise them too.
"""

from __future__ import annotations

import reprlib


class WorkshopError(Exception):
    """A failure the user can fix (bad input, missing source): reported in one line."""


def one_line(error: BaseException) -> str:
    """What went wrong, in words for the person who can fix it."""
    if isinstance(error, NotImplementedError):
        return f"not written yet: {error}"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename or 'a file'}: {error.strerror}"
    return str(error)


def short(value: object) -> str:
    """A value as it may appear in a one-line message: nested and long ones cut short."""
    text = reprlib.repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
