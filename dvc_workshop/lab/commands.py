"""The commands `workshop check` runs in a lab (git, dvc, the exercise), each with a time limit,
and the slow ones started early, to run beside the checks until their answer is asked for.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from dvc_workshop.cli import WorkshopError


class Problem(WorkshopError):
    """The first thing not done in a step: what is wrong, and how to get on (None: the step's hint).

    A WorkshopError, so that one met outside a check (reset, solution) is still one line."""

    def __init__(self, what: str, hint: str | None = None) -> None:
        super().__init__(f"{what}; {hint}" if hint else what)
        self.what, self.hint = what, hint


class Commands:
    """Commands in one repository: a command that runs out of time is a Problem, never a hang."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        # Commands already running, and since when (their time limit counts from their start).
        self.started: dict[tuple[str, ...], tuple[subprocess.Popen[str], float]] = {}

    def start(self, *args: str) -> None:
        """Start a command now, to run beside the checks until its answer is asked for (run):
        the `dvc status` calls take most of a check, and do not wait for each other."""
        if args not in self.started:
            self.started[args] = (self.popen(args), time.monotonic())

    def popen(self, args: tuple[str, ...]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            args, cwd=self.root, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def stop(self) -> None:
        """End what was started and never asked for (a check stopped at an earlier step)."""
        for process, _ in self.started.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A command in the lab (or its answer, if started), with a time limit: a remote that
        stops answering is a Problem."""
        result = self.answer(*args, timeout=timeout)
        if result is None:
            command = " ".join(["dvc", *args[3:]] if args[1:3] == ("-m", "dvc") else args)
            raise Problem(
                f"{command} did not answer within {timeout:.0f} s",
                "is the emulator still running (its terminal)? Start it again, then check again",
            )
        return result

    def answer(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
        """A command's answer (started now, or before with `start`), or None: it ran out of time."""
        process, began = self.started.pop(args, None) or (self.popen(args), time.monotonic())
        try:
            stdout, stderr = process.communicate(timeout=max(0.1, began + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
        return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)

    def git(self, *args: str) -> str:
        """git's output, or "" where git says no (no such tag, no upstream...)."""
        result = self.run("git", *args)
        return result.stdout.strip() if result.returncode == 0 else ""

    def dvc(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "dvc", *args, timeout=timeout)
