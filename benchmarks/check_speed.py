"""Benchmark: `python -m dvc_workshop.lab check` in a played lab, after each of steps 1 to 8,
beside `dvc status` and `dvc status -c` alone. Target: a median of at most 2 s a run.

Run: pipenv run python benchmarks/check_speed.py [--runs 5] [--transcript FILE] [--calls]
     [--keep] [--revision REV]

An attendee runs `check` after every step, and `check --watch` after every change: it must
answer about as fast as the DVC commands it reads (`dvc status`, `dvc status --cloud`). A copy
of this working tree (tests.clones.copy_repo; --revision: a clone at that commit) is the
reference; `python -m dvc_workshop.lab start` makes a lab beside it, played in a fresh home with
only a git identity (as tests/test_lab_playthrough.py does), against fake-gcs-server on a free
port. After `solution N` for each step it times `check`, `dvc status` and `dvc status -c` in
turn, `--runs` times (interleaved: the machine's drift hits all three alike). It exits 0 whether
or not the target is met, and lists the steps that miss it.

--transcript FILE: `check --watch` runs through steps 2 to 4 in a terminal of its own (a pty:
DVC's colorama strips escape codes from a pipe), each step timed once its verdict is printed;
FILE gets what it showed, a separator line for each clear-screen code. --calls: one more
`check` per step, each command it starts timed, the slowest listed. --keep: leave the lab.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dvc_workshop.emulator.server import Emulator, raw_mnist  # noqa: E402
from tests.clones import copy_repo  # noqa: E402

TARGET_S, STEPS = 2.0, 8
LAB = [sys.executable, "-m", "dvc_workshop.lab"]
DVC = [sys.executable, "-m", "dvc"]
CLEAR, SEPARATOR = "\033[2J\033[H", "\n" + "-" * 30 + " screen cleared " + "-" * 30 + "\n"
# An attendee's laptop: their own identity only (no system git config, no inherited overrides).
DROPPED = ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
           "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "PIPENV_ACTIVE")  # fmt: skip

# Runs in the lab for --calls: `check`, with every subprocess.run it makes timed (git, dvc, the exercise).
CALLS = r"""
import runpy, subprocess, sys, time
real, start = subprocess.run, time.perf_counter()
def timed(args, *rest, **options):
    began = time.perf_counter()
    try:
        return real(args, *rest, **options)
    finally:
        shown = ["<code>" if "\n" in arg else arg for arg in args[:5]]  # python -c CODE
        print("CALL", f"{time.perf_counter() - began:.3f}", *shown, file=sys.stderr)
subprocess.run, sys.argv = timed, ["check", "check"]
try:
    runpy.run_module("dvc_workshop.lab", run_name="__main__")
except SystemExit:
    pass
print("TOTAL", f"{time.perf_counter() - start:.3f}", file=sys.stderr)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def attendee_env(home: Path, emulator: Emulator) -> dict[str, str]:
    """A `pipenv shell` opened while the emulator runs, in a home with a global git identity."""
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Ada Attendee\n\temail = ada@example.com\n")
    env = {key: value for key, value in os.environ.items() if key not in DROPPED}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", NO_GCE_CHECK="true", PIPENV_VERBOSITY="-1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # fmt: skip
    return {**env, **emulator.environment()}


def timed(args: list[str], lab: Path, env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one command in the lab, and its output (a failure is timed too)."""
    start = time.perf_counter()
    result = subprocess.run(args, cwd=lab, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, result.stdout + result.stderr


def play(step: int, lab: Path, env: dict[str, str], log: Path) -> None:
    """`solution step`, its output appended to `log`; a step that fails ends the benchmark."""
    with log.open("a") as stream:
        print(f"\n===== solution {step} =====", file=stream, flush=True)
        solved = subprocess.run([*LAB, "solution", str(step)], cwd=lab, env=env, stdout=stream, stderr=stream)
        if solved.returncode:
            sys.exit(f"solution {step} failed: see {log}\n" + "".join(log.read_text().splitlines(True)[-20:]))


class Watcher:
    """`check --watch` in the lab on a pseudo-terminal, as in an attendee's terminal; a thread
    copies what it shows into `self.shown`."""

    def __init__(self, lab: Path, env: dict[str, str]) -> None:
        master, terminal = os.openpty()
        self.process = subprocess.Popen(  # a background job ignores Ctrl+C; a terminal's does not
            [*LAB, "check", "--watch"], cwd=lab, env=env, stdin=subprocess.DEVNULL, stdout=terminal,
            stderr=terminal, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
        os.close(terminal)
        self.shown, self.copier = b"", threading.Thread(target=self.copy, args=(master,), daemon=True)
        self.copier.start()

    def copy(self, master: int) -> None:
        with open(master, "rb", buffering=0) as screen, contextlib.suppress(OSError):  # EIO: it ended
            while chunk := screen.read(65536):
                self.shown += chunk

    def settle(self, timeout: float = 180) -> None:
        """Wait until it has printed its verdict on the latest change (then it idles)."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            time.sleep(2)  # it polls each second: a change shows within one
            if self.shown == last and b"Watching the lab" in last.rpartition(CLEAR.encode())[2]:
                return
            last = self.shown
        print(f"  (check --watch printed no new verdict within {timeout:.0f} s)")

    def stop(self) -> str:
        """Ctrl+C, then what it showed, each clear-screen code a separator line."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        self.copier.join(timeout=10)
        text = self.shown.decode().replace("\r\n", "\n").replace("\033[0m", "")  # colorama resets at exit
        return text.replace(CLEAR, SEPARATOR)


def slowest_calls(lab: Path, env: dict[str, str]) -> str:
    """The commands one `check` starts, the slowest first (same kinds summed), and the rest."""
    _, output = timed([sys.executable, "-c", CALLS], lab, env)
    totals: dict[str, list[float]] = {}
    for line in output.splitlines():
        if line.startswith("CALL "):
            _, seconds, *args = line.split(" ")
            if args[1:3] == ["-m", "dvc"]:  # dvc status --json -> dvc status
                label = " ".join(["dvc", *(a for a in args[3:] if a != "--json")])
            else:
                label = "python -c (standardize)" if "-c" in args else f"{Path(args[0]).name} {args[1]}"
            totals.setdefault(label, []).append(float(seconds))
    total = float(next((line.split()[1] for line in output.splitlines() if line.startswith("TOTAL")), 0))
    ranked = sorted(totals.items(), key=lambda item: -sum(item[1]))[:4]
    parts = [f"{label} {sum(t):.2f} s" + (f" ({len(t)}x)" if len(t) > 1 else "") for label, t in ranked]
    rest = total - sum(sum(t) for t in totals.values())
    return f"{total:.2f} s: " + ", ".join(parts) + f"; the rest (check's own process) {rest:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Timed runs of each command per step.")
    parser.add_argument("--transcript", type=Path, help="Write what check --watch shows in steps 2-4.")
    parser.add_argument("--calls", action="store_true", help="List the slowest commands check starts.")
    parser.add_argument("--keep", action="store_true", help="Leave the lab and its emulator data.")
    parser.add_argument("--revision", help="Play this commit's lab, not the working tree's (e.g. HEAD).")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dvc-workshop-check-speed-"))
    reference, lab, log = work / "dvc-workshop", work / "my-lab", work / "solutions.log"
    if options.revision:  # a commit, not edits under way
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO_ROOT), str(reference)], check=True)
        subprocess.run(["git", "-C", str(reference), "checkout", "-q", options.revision], check=True)
    else:
        copy_repo(reference)
    emulator, watcher, rows, calls = Emulator(work / "buckets", free_port()), None, [], []
    emulator.start()
    try:
        emulator.create_buckets()
        sample, params = reference / "sources/mnist-sample.yaml", reference / "params.yaml"
        emulator.upload_raw(raw_mnist(None, sample, params))  # the sample, as `pipenv run emulator`
        env = attendee_env(work / "home", emulator)
        subprocess.run([*LAB, "start", "../my-lab"], cwd=reference, env=env, check=True, capture_output=True)
        for step in range(1, STEPS + 1):
            if step == 2 and options.transcript:  # its first verdict: the state after step 1
                watcher = Watcher(lab, env)
                watcher.settle()
            print(f"step {step}: solution ...", flush=True)
            play(step, lab, env, log)
            if watcher:
                watcher.settle()  # its own check is over before the timed ones start
                if step == 4:
                    options.transcript.parent.mkdir(parents=True, exist_ok=True)
                    options.transcript.write_text(watcher.stop())
                    watcher = None
            times: dict[str, list[float]] = {"check": [], "status": [], "status -c": []}
            for _ in range(options.runs):
                seconds, output = timed([*LAB, "check"], lab, env)
                times["check"].append(seconds)
                times["status"].append(timed([*DVC, "status"], lab, env)[0])
                times["status -c"].append(timed([*DVC, "status", "-c"], lab, env)[0])
            says = next((line.split(". ")[0] for line in output.splitlines() if " done. " in line), "?")
            rows.append((step, times, says))
            calls += [f"step {step}: {slowest_calls(lab, env)}"] if options.calls else []
    finally:
        if watcher:
            watcher.process.kill()
        emulator.stop()
        if options.keep:
            print(f"The lab, kept: {lab}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n`check` and DVC alone, in seconds: median of {options.runs} runs (check's max too)")
    print(f"{'step':<6}{'check':>8}{'max':>8}{'dvc status':>12}{'status -c':>11}  {'check says':<16}target")
    missed = []
    for step, times, says in rows:
        median = statistics.median(times["check"])
        missed += [] if median <= TARGET_S else [step]
        print(f"{step:<6}{median:>8.2f}{max(times['check']):>8.2f}{statistics.median(times['status']):>12.2f}"
              f"{statistics.median(times['status -c']):>11.2f}  {says:<16}"
              f"{'MISSED' if step in missed else 'met'} (<= {TARGET_S:.0f} s)")  # fmt: skip
    over = f"Steps over {TARGET_S:.0f} s: {', '.join(map(str, missed))}" if missed else "Every step meets it."
    print(f"\n{over}", *calls, sep="\n")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())  # what else ran meanwhile
    print(f"Load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    if options.transcript:
        print(f"check --watch, steps 2-4: {options.transcript}")


if __name__ == "__main__":
    main()
