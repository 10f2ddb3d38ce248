"""Crash-safe outputs: each is written beside its final path and renamed into place, so neither
DVC's cache nor the next stage ever sees a half-written file, and a run killed midway leaves the
last whole output (or none) behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError


def scratch_path(final: Path) -> Path:
    # A fixed name (not per-process), so a run killed midway is cleaned up by the next one;
    # the suffix is kept because some writers (Keras) insist on it.
    return final.with_name(f".tmp-{final.name}")


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextmanager
def atomic_output(final: Path, *, directory: bool = False) -> Iterator[Path]:
    """Yield a scratch path to write `final` into; it replaces `final` only on success."""
    for folder in (final.parent, *final.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise WorkshopError(
                f"{folder} is a file, so {final} cannot be written: move it, or write elsewhere"
            )
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = scratch_path(final)
    remove(scratch)
    if directory:
        scratch.mkdir()
    try:
        yield scratch
    except OSError as error:
        remove(scratch)
        if error.filename is None:  # a full disk, say, seen by zipfile: name what was being written
            raise OSError(error.errno, error.strerror, str(final)) from None
        raise
    except BaseException:
        remove(scratch)
        raise
    move_into_place(scratch, final)


def move_into_place(scratch: Path, final: Path) -> None:
    """Replace `final` (a file or a folder) by `scratch`, written completely beside it."""
    remove(final)
    os.replace(scratch, final)
