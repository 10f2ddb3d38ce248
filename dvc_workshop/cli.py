"""What every command line of the project shares (the stages', the lab tool's, the emulator's):
the typer app that says a WorkshopError in one line, the settings a stand-in for GCS needs, and
TensorFlow's start-up noise filtered out.

A workshop attendee who mistypes a parameter should read one line that names it, not a
traceback; `--verbose` brings the traceback back for whoever debugs the code itself.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from collections.abc import Callable, MutableMapping
from contextlib import suppress
from typing import Any

import typer

from dvc_workshop.data.errors import WorkshopError, one_line

VERBOSE = "--verbose"
VERBOSE_HELP = f"Add {VERBOSE} to see the full traceback when something goes wrong."


class WorkshopApp(typer.Typer):
    """The project's typer app (each stage's, the lab's): errors an attendee can fix in one line.

    A WorkshopError (or the lab's unwritten exercise, NotImplementedError) becomes `error: ...`
    on stderr and exit status 1 (or `error_status`), and so does a failed read or write (a full
    disk, a folder that is not writable), naming the path; `--verbose`, anywhere on the command
    line, shows the traceback.
    """

    def __init__(self, error_status: int = 1, **settings: Any) -> None:
        super().__init__(add_completion=False, pretty_exceptions_enable=False, **settings)
        self.error_status = error_status  # the lab's tools say 2: "could not check", apart from "not done"

    def command(self, *args: Any, **kwargs: Any) -> Callable:
        kwargs.setdefault("epilog", VERBOSE_HELP)
        return super().command(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        stand_in_storage(os.environ)
        verbose = VERBOSE in sys.argv[1:]
        if verbose:
            sys.argv.remove(VERBOSE)
        try:
            return super().__call__(*args, **kwargs)
        except (WorkshopError, NotImplementedError, OSError) as error:
            if verbose:
                raise
            typer.echo(f"error: {one_line(error)}", err=True)
            sys.exit(self.error_status)


# What gcsfs needs on any stand-in for GCS (the emulator, a venue's, fake-gcs-server by hand): no
# credentials (else pages of "default credentials were not found"), and no probe of each bucket
# over gRPC, which a stand-in does not speak (else a stall and "Could not determine bucket type").
STAND_IN_SETTINGS = {"FSSPEC_GS_TOKEN": "anon", "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}


def stand_in_storage(environ: MutableMapping[str, str]) -> None:
    """Whatever sets STORAGE_EMULATOR_HOST, the settings it needs come with it (for DVC and the
    stages this process runs, too); a value set by hand is kept."""
    if environ.get("STORAGE_EMULATOR_HOST"):
        for name, value in STAND_IN_SETTINGS.items():
            environ.setdefault(name, value)


# TensorFlow's C++ start-up lines that say nothing about this run, on every run: absl's notice that
# it logs to stderr, oneDNN being on (printed before TensorFlow reads TF_CPP_MIN_LOG_LEVEL) and an
# attribute that TensorFlow's own tf.data rewrite (under op determinism) leaves behind. Each is
# matched whole, by its source file and words; every other line, errors included, passes.
TENSORFLOW_NOISE = (
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    rb"I\d{4} [\d:.]+ +\d+ port\.cc:\d+\] oneDNN custom operations are on\. .*",
    rb"E\d{4} [\d:.]+ +\d+ node_def_util\.cc:\d+\] NodeDef mentions attribute use_unbounded_threadpool "
    rb"which is not in the op definition: .*",
)
# The filter, a child process of its own: if the stage dies (a TensorFlow abort, a kill), the
# child still gets what was written before, passes it on and ends when the pipe closes.
STDERR_FILTER = f"""
import re, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the stage's last words still pass
noise = re.compile(b"|".join({TENSORFLOW_NOISE!r}))
for line in sys.stdin.buffer:
    if not noise.fullmatch(line.rstrip(b"\\r\\n")):
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
"""


def quiet_tensorflow() -> None:
    """Before TensorFlow loads (train, evaluate): its INFO lines off (TF_CPP_MIN_LOG_LEVEL=1; 2
    would hide its warnings, 3 its errors) and, from here to the process's end, stderr through a
    filter that drops TENSORFLOW_NOISE. TF_CPP_MIN_LOG_LEVEL=0, set by hand, shows them all."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0":
        return
    sys.stderr.flush()
    try:
        original = os.dup(2)
        child = subprocess.Popen(
            [sys.executable, "-I", "-c", STDERR_FILTER], stdin=subprocess.PIPE, stdout=original
        )
    except OSError:  # no stderr to filter, or no process to spare: the noise stays, nothing else changes
        return
    assert child.stdin is not None
    os.dup2(child.stdin.fileno(), 2)
    child.stdin.close()

    def restore() -> None:  # at exit: the last lines out before DVC prints its next ones
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe: the filter reads to its end and exits
        with suppress(subprocess.TimeoutExpired):
            child.wait(timeout=10)

    atexit.register(restore)
