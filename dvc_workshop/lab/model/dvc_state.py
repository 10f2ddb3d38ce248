"""DVC's answers about a lab, asked in this process through `dvc.repo.Repo` (what DVC's own
commands and dvclive use), one after another.

A check never contends with itself for DVC's lock: two `dvc status` processes in one lab do,
and DVC waits only a few seconds for its lock, so on a busy laptop one of them lost and the lab
looked busy. "Another dvc command is running" is said only when a live process holds the lock,
and it is named; an answer that is slow says slow, unless the emulator it waits for is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dvc_workshop.lab.model.emulator_settings import answers
from dvc_workshop.lab.model.problem import Problem, Unreadable

STATUS_TIMEOUT_S = 60  # `dvc status` reads the raw bucket (a gs:// dependency): seconds, not minutes
CLOUD_TIMEOUT_S = 20  # `dvc status -c`: well over its usual second, under an attendee's patience
WAIT = "wait for it to end, then workshop check again (workshop check --watch checks again by itself)"


class DvcState:
    """One lab's DVC project, opened once, asked in turn; each answer (or failure) kept."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.answers: dict[str, Any] = {}
        self.repo: Any = None  # dvc.repo.Repo, opened at the first question
        self.in_remote: dict[str, bool] = {}  # object -> whether the remote holds it, as asked

    def close(self) -> None:
        if self.repo is not None:
            self.repo.close()
            self.repo = None

    def status(self) -> dict[str, list]:
        """What `dvc status --json` says: each stage or .dvc file that changed, and how."""
        return self.ask("dvc status", lambda repo: self.from_root(repo.status()), STATUS_TIMEOUT_S)

    def cloud_status(self) -> dict[str, str]:
        """What `dvc status -c --json` says: each file not alike in the cache and the remote."""
        return self.ask(
            "dvc status -c", lambda repo: self.from_root(repo.status(cloud=True)), CLOUD_TIMEOUT_S
        )

    def from_root(self, answer: dict) -> dict:
        """DVC's answer with its paths as `dvc status` prints them in the lab's root: a stage of the
        root's dvc.yaml by its name, a file by its path in the lab. (In a process elsewhere DVC names
        some from there, ../lab-teammate/dvc.yaml:train, and others from the lab's root.)"""

        def in_lab(path: str) -> str:
            if "://" in path:
                return path  # a remote dependency: gs://...
            seen_from_here = Path(os.path.normpath(Path.cwd() / path))
            inside = seen_from_here == self.root or self.root in seen_from_here.parents
            return seen_from_here.relative_to(self.root).as_posix() if inside else Path(path).as_posix()

        def paths(change: dict) -> dict:  # {"changed outs": {path: state}, ...}
            return {kind: {in_lab(p): state for p, state in got.items()} if isinstance(got, dict) else got
                    for kind, got in change.items()}  # fmt: skip

        def changes(value: Any) -> Any:  # a stage's list of changes
            return (
                [paths(c) if isinstance(c, dict) else c for c in value] if isinstance(value, list) else value
            )

        found = {}
        for key, value in answer.items():
            file, colon, stage = key.rpartition(":")
            if colon and file.endswith("dvc.yaml"):
                file = in_lab(file)
                found[stage if file == "dvc.yaml" else f"{file}:{stage}"] = changes(value)
            else:
                found[in_lab(key)] = changes(value)
        return found

    def objects_in_remote(self, digests: set[str]) -> set[str]:
        """Which of these objects (md5 hashes; a folder's listing ends in .dir) the default remote
        holds; each object asked once a check, whichever version names it."""
        unknown = sorted(digests - self.in_remote.keys())
        if unknown:
            asked = hashlib.sha256(" ".join(unknown).encode()).hexdigest()[:8]  # each set its own answer
            held = self.ask(
                f"dvc status -c ({len(unknown)} objects, {asked})",
                lambda repo: set(repo.cloud.get_remote_odb(command="status").oids_exist(unknown)),
                CLOUD_TIMEOUT_S,
            )
            self.in_remote.update({digest: digest in held for digest in unknown})
        return {digest for digest in digests if self.in_remote[digest]}

    def queue(self) -> list[dict]:
        """What `dvc queue status` lists: each queued experiment's name and status."""
        return self.ask(
            "dvc queue status", lambda repo: repo.experiments.celery_queue.status(), STATUS_TIMEOUT_S
        )

    def opened(self) -> Any:
        from dvc.repo import Repo

        if self.repo is None:
            self.repo = Repo(str(self.root))
        return self.repo

    def ask(self, command: str, question: Callable[[Any], Any], timeout: float) -> Any:
        if command not in self.answers:
            try:
                self.answers[command] = self.within(command, question, timeout)
            except Problem as problem:
                self.answers[command] = problem
        answer = self.answers[command]
        if isinstance(answer, Problem):
            raise answer
        return answer

    def within(self, command: str, question: Callable[[Any], Any], timeout: float) -> Any:
        """The answer, asked in a thread that is left behind if it outlasts `timeout` (a remote
        that stopped answering): the check goes on, and says which."""
        quiet_dvc()
        from dvc.lock import LockError

        for attempt in (1, 2):
            finished, answer, error = in_thread(lambda: question(self.opened()), timeout)
            if not finished:
                raise slow(command, timeout)
            if error is None:
                return answer
            if isinstance(error, LockError):
                holder = lock_holder(self.root)
                if holder:
                    raise Unreadable(
                        f"another dvc command is running in this lab ({holder}), so DVC cannot answer yet",
                        WAIT,
                    )
                if attempt == 1:
                    continue  # the holder ended just now: ask again
            raise dvc_failed(command, error)
        raise AssertionError("unreachable")


def in_thread(call: Callable[[], Any], timeout: float) -> tuple[bool, Any, BaseException | None]:
    """(finished, answer, error) of `call`, run in a daemon thread that is left behind after
    `timeout`: the process can still end."""
    found: dict[str, Any] = {}

    def calling() -> None:
        try:
            found["answer"] = call()
        except BaseException as error:  # handed to the caller's thread
            found["error"] = error

    thread = threading.Thread(target=calling, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), found.get("answer"), found.get("error")


def quiet_dvc() -> None:
    """DVC's and gcsfs's warnings and progress bars stay out of the check's answer (its errors
    come back as exceptions); an emulator needs gcsfs's bucket-type probe off."""
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    for name in ("dvc", "dvc_objects", "dvc_data", "gcsfs", "google", "fsspec"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL)
        logger.propagate = False


def dvc_failed(command: str, error: BaseException) -> Problem:
    message = " ".join(str(error).split()) or type(error).__name__
    if getattr(error, "__cause__", None) and str(error.__cause__) not in message:
        message = f"{message}: {' '.join(str(error.__cause__).split())}"
    return Problem(f"{command} fails: {message}", f"run {command} yourself to see its whole message")


def slow(command: str, timeout: float) -> Problem:
    """Slow, or waiting for an emulator that is gone: which, said as such."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator and not answers(emulator):
        return Unreadable(
            f"the emulator at {emulator} does not answer",
            "start it again (pipenv run emulator, in the workshop's folder), then check again",
        )
    where = "the emulator" if emulator else "the remote"
    return Unreadable(
        f"{command} did not answer within {timeout:.0f} s, though {where} answers: "
        "a busy laptop or a slow network",
        "check again in a moment (workshop check --watch checks again by itself)",
    )


def lock_holder(root: Path) -> str | None:
    """The live process that holds DVC's lock in this lab (repository lock, or the read/write
    lock on outputs that `dvc repro` takes), named; None when nobody alive holds it."""
    holders = []
    with contextlib.suppress(OSError, ValueError, IndexError):
        holders.append((int((root / ".dvc/tmp/lock").read_text().split()[0]), None))
    try:
        rwlock = json.loads((root / ".dvc/tmp/rwlock").read_text())
        for kind in ("write", "read"):
            for entries in rwlock.get(kind, {}).values():
                for entry in entries if isinstance(entries, list) else [entries]:
                    holders.append((int(entry["pid"]), entry.get("cmd")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    for pid, command in holders:
        if pid != os.getpid() and alive(pid):
            return f"PID {pid}: {command or process_command(pid) or 'a dvc command'}"
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's, but there
    return True


def process_command(pid: int) -> str | None:
    """A process's command line, shortened (`ps`, on Linux and macOS)."""
    try:
        found = subprocess.run(
            ["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    words = found.stdout.split()
    if "-m" in words and "dvc" in words:  # python -m dvc repro -> dvc repro
        words = words[words.index("dvc") :]
    return " ".join(words)[:60] or None
