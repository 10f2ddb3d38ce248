"""What every stage CLI shares: one-line errors for bad input, and crash-safe outputs.

A workshop attendee who mistypes a parameter should read one line that names it, not a
traceback; `--verbose` brings the traceback back for whoever debugs the code itself.
Outputs are written beside their final path and renamed into place, so neither DVC's cache
nor the next stage ever sees a half-written file.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer


class WorkshopError(Exception):
    """A failure the user can fix (bad input, missing source): reported in one line."""


VerboseOption = Annotated[
    bool, typer.Option("--verbose", help="Show the full traceback when something goes wrong.")
]


def stage_app() -> typer.Typer:
    """A typer app for one stage: a single command, no shell-completion clutter."""
    return typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def one_line_errors(command: Callable[..., None]) -> Callable[..., None]:
    """A stage command whose WorkshopError is `error: ...` on stderr and exit code 1, or the full
    traceback when the command is given `--verbose` (its `verbose` parameter)."""

    @functools.wraps(command)  # typer reads the wrapped command's parameters
    def command_reporting_errors(**options: object) -> None:
        try:
            command(**options)
        except (WorkshopError, NotImplementedError) as error:  # the latter: the lab's exercise, unwritten
            if options.get("verbose"):
                raise
            unwritten = "not written yet: " if isinstance(error, NotImplementedError) else ""
            typer.echo(f"error: {unwritten}{error}", err=True)
            raise typer.Exit(1) from None

    return command_reporting_errors


def _scratch_path(final: Path) -> Path:
    # A fixed name (not per-process), so a run killed midway is cleaned up by the next one;
    # the suffix is kept because some writers (Keras) insist on it.
    return final.with_name(f".tmp-{final.name}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextmanager
def atomic_output(final: Path, *, directory: bool = False) -> Iterator[Path]:
    """Yield a scratch path to write `final` into; it replaces `final` only on success."""
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = _scratch_path(final)
    _remove(scratch)
    if directory:
        scratch.mkdir()
    try:
        yield scratch
    except BaseException:
        _remove(scratch)
        raise
    _remove(final)
    os.replace(scratch, final)
