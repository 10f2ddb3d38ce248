"""The one runner of commands in a lab (git, a dvc command that changes it, the exercise's child):
each with a time limit, so a command that stops answering is a one-line Problem, never a hang.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.problem import Unreadable


class Runner:
    """Commands run in one repository; a slow one can be started early to run beside the checks."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        # Commands already running, and since when (their time limit counts from their start).
        self.started: dict[tuple[str, ...], tuple[subprocess.Popen[str], float]] = {}

    def start_early(self, *args: str) -> None:
        """Start a command now, to run beside the checks until its answer is asked for (`run`)."""
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
        self.started.clear()

    def completed_within(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
        """A command's answer (started now, or before with `start`), or None: it ran out of time."""
        process, began = self.started.pop(args, None) or (self.popen(args), time.monotonic())
        try:
            stdout, stderr = process.communicate(timeout=max(0.1, began + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
        return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)

    def completed(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A command's answer; one that runs out of time is a Problem that says so."""
        result = self.completed_within(*args, timeout=timeout)
        if result is None:
            command = " ".join(["dvc", *args[3:]] if args[1:3] == ("-m", "dvc") else args)
            raise Unreadable(
                f"{command} did not answer within {timeout:.0f} s (a busy laptop, or a slow network)",
                "check again in a moment (workshop check --watch checks again by itself)",
            )
        return result

    def git_output(self, *args: str) -> str:
        """git's output, or "" where git says no (no such tag, no upstream...)."""
        result = self.completed("git", *args)
        return result.stdout.strip() if result.returncode == 0 else ""

    def dvc(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A dvc command in its own process, as the attendee would type it."""
        return self.completed(sys.executable, "-m", "dvc", *args, timeout=timeout)

    def run_or_fail(self, *args: str, timeout: float = 120) -> str:
        """A git or dvc command that has to work, its output; its failure is one line (its own)."""
        result = (
            self.dvc(*args[1:], timeout=timeout)
            if args[0] == "dvc"
            else self.completed(*args, timeout=timeout)
        )
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines() or ["(no message)"]
            raise WorkshopError(f"{' '.join(args)} failed in {self.root}: {lines[-1]}")
        return result.stdout
