"""Benchmark: `workshop check` in a played lab after each of lab steps 1 to 12, idle and beside 4
CPU-bound processes, with `dvc status` and `dvc status -c` alone as the baseline.

Targets (issue 33), medians on an idle 2-core machine: a check where nothing changed since the
last one (its memo, actions/check_memo.py) at most 0.5 s; a check that reads the lab anew (its
memo deleted first, as after any change) at most `dvc status` + 0.5 s; beside 4 CPU-bound
processes, that check within 3x its idle median; and the same verdict (the step table, the Step
and Hint lines) in every run.

Run: pipenv run python benchmarks/check_speed.py [--runs 5] [--hogs 4] [--profile] [--keep]
     [--revision REV]

An attendee runs `check` after every step, often while a training run or a browser keeps the
laptop busy. A copy of this working tree (tests.clones.copy_repo; --revision: a clone at that
commit) is the reference, and the lab tool is its code (PYTHONPATH), run as `workshop` in the
lab; `workshop start` makes a lab beside it, played in a fresh home with only a git identity (as
tests/test_lab_playthrough.py does), against fake-gcs-server on a free port. After `solution N`
for each step it times `check` anew, `check` again (nothing changed: the memo's answer), `dvc
status` and `dvc status -c` in turn, `--runs` times (interleaved: the machine's drift hits all
alike), then the same again with `--hogs` processes spinning (`python -c "while True: pass"`,
started before the batch, killed after it).
It exits 0 whether or not the targets are met, and lists the steps that miss them.

--profile: one more idle `check` per step in one Python process, each step's check and each
question to DVC timed (steps include the DVC questions they ask). --keep: leave the lab.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dvc_workshop.lab.model.emulator import Emulator, raw_mnist  # noqa: E402
from tests.clones import copy_repo  # noqa: E402

MEMO_TARGET_S, OVER_STATUS_S, BUSY_RATIO, STEPS = 0.5, 0.5, 3.0, 12
MEMO = ".git/workshop-check-memo.json"  # layout.CHECK_MEMO_FILE: deleted, the check reads the lab anew
WORKSHOP = [str(Path(sys.executable).with_name("workshop"))]  # in a lab, python -m finds the lab's package
DVC = [sys.executable, "-m", "dvc"]
VERDICT = re.compile(r"^(\s*\d+\s.*\s(done|not done|not checked)|Step \d+: .*|Hint: .*|error: .*)$")
# An attendee's laptop: their own identity only (no system git config, no inherited overrides).
DROPPED = ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
           "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "PIPENV_ACTIVE")  # fmt: skip

# --profile: the check in this one process (argv: lab), each step's check and each DVC question timed.
PROFILE = r"""
import os, sys, time
began = time.perf_counter()
sys.path = [p for p in sys.path if p not in ("", ".")]  # the reference's package (PYTHONPATH), not the lab's
from pathlib import Path
from dvc_workshop.lab.actions.check import check_steps
from dvc_workshop.lab.actions.check_place import find_lab
from dvc_workshop.lab.model.dvc_state import DvcState
from dvc_workshop.lab.steps.registry import STEPS
steps, asked = {}, {}
def timing(key, call, table):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            table[key(*args)] = table.get(key(*args), 0) + time.perf_counter() - start
    return timed
for step in STEPS:
    object.__setattr__(step, "check", timing(lambda lab, n=step.number: n, step.check, steps))
DvcState.within = timing(lambda self, command, *rest: command, DvcState.within, asked)
os.chdir(sys.argv[1])  # as in the attendee's shell
imported = time.perf_counter()
check_steps(find_lab(Path(".")))
print(f"imports {imported - began:.2f} s; steps " + ", ".join(f"{n} {s:.2f}" for n, s in steps.items()
      if s >= 0.01) + "; DVC " + (", ".join(f"{c} {s:.2f}" for c, s in asked.items()) or "not asked"))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def attendee_env(home: Path, emulator: Emulator, reference: Path) -> dict[str, str]:
    """A `pipenv shell` opened while the emulator runs, in a home with a global git identity; the
    lab tool's code is the reference's (its `start` archives the reference's HEAD)."""
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Ada Attendee\n\temail = ada@example.com\n")
    env = {key: value for key, value in os.environ.items() if key not in DROPPED}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", NO_GCE_CHECK="true", PIPENV_VERBOSITY="-1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=str(reference))  # fmt: skip
    return {**env, **emulator.environment()}


def timed(args: list[str], lab: Path, env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one command in the lab, and its output (a failure is timed too)."""
    start = time.perf_counter()
    result = subprocess.run(args, cwd=lab, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, result.stdout + result.stderr


def verdict(output: str) -> str:
    """What the check says: its step table, the Step and Hint lines (or its error line)."""
    return "\n".join(line for line in output.splitlines() if VERDICT.match(line))


def play(step: int, lab: Path, env: dict[str, str], log: Path) -> None:
    """`solution step`, its output appended to `log`; a step that fails ends the benchmark."""
    with log.open("a") as stream:
        print(f"\n===== solution {step} =====", file=stream, flush=True)
        solved = subprocess.run([*WORKSHOP, "solution", str(step)], cwd=lab, env=env, stdout=stream,
                                stderr=stream)  # fmt: skip
        if solved.returncode:
            sys.exit(f"solution {step} failed: see {log}\n" + "".join(log.read_text().splitlines(True)[-20:]))


def batch(runs: int, hogs: int, lab: Path, env: dict[str, str]) -> dict[str, list]:
    """`runs` times check, dvc status and dvc status -c in turn, with `hogs` processes spinning."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    try:
        time.sleep(0.5 if hogs else 0)  # spinning before the first command starts
        found: dict[str, list] = {"check": [], "memo": [], "status": [], "status -c": [], "verdicts": []}
        for _ in range(runs):
            (lab / MEMO).unlink(missing_ok=True)
            for kind in ("check", "memo"):
                seconds, output = timed([*WORKSHOP, "check"], lab, env)
                found[kind].append(seconds)
                found["verdicts"].append(verdict(output))
            found["status"].append(timed([*DVC, "status"], lab, env)[0])
            found["status -c"].append(timed([*DVC, "status", "-c"], lab, env)[0])
        return found
    finally:
        for process in spinning:
            process.kill()
            process.wait()


def where_missed(steps: list[int]) -> str:
    return f"missed at steps {', '.join(map(str, steps))}" if steps else "met at every step"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Timed runs of each command per step and load.")
    parser.add_argument("--hogs", type=int, default=4, help="CPU-bound processes beside the busy runs.")
    parser.add_argument("--profile", action="store_true", help="Time each step's check, in process.")
    parser.add_argument("--keep", action="store_true", help="Leave the lab and its emulator data.")
    parser.add_argument("--revision", help="Play this commit's lab tool, not the working tree's (e.g. HEAD).")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dvc-workshop-check-speed-"))
    reference, lab, log = work / "dvc-workshop", work / "my-lab", work / "solutions.log"
    if options.revision:  # a commit, not edits under way
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO_ROOT), str(reference)], check=True)
        subprocess.run(["git", "-C", str(reference), "checkout", "-q", options.revision], check=True)
    else:
        copy_repo(reference)
    loads = [os.getloadavg()]  # what else runs meanwhile
    emulator, rows, profiles = Emulator(work / "buckets", free_port()), [], []
    emulator.start()
    try:
        emulator.create_buckets()
        sample, params = reference / "sources/mnist-sample.yaml", reference / "params.yaml"
        emulator.upload_raw(raw_mnist(None, sample, params))  # the sample, as `pipenv run emulator`
        env = attendee_env(work / "home", emulator, reference)
        subprocess.run([*WORKSHOP, "start", "../my-lab"], cwd=reference, env=env, check=True,
                       capture_output=True)  # fmt: skip
        for step in range(1, STEPS + 1):
            print(f"step {step}: solution ...", flush=True)
            play(step, lab, env, log)
            idle, busy = batch(options.runs, 0, lab, env), batch(options.runs, options.hogs, lab, env)
            rows.append((step, idle, busy))
            if options.profile:
                result = subprocess.run([sys.executable, "-c", PROFILE, str(lab)], cwd=work, env=env,
                                        capture_output=True, text=True)  # fmt: skip
                profiles.append(f"step {step}: " + (result.stdout or result.stderr).strip().splitlines()[-1])
    finally:
        emulator.stop()
        loads.append(os.getloadavg())
        if options.keep:
            print(f"The lab, kept: {lab}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n`check` anew (idle, beside {options.hogs} CPU-bound processes), `check` again, nothing changed")
    print(f"(its memo, idle / busy), and DVC alone (idle / busy), in seconds: medians of {options.runs} runs")
    print(f"{'step':<5}{'idle':>6}{'busy':>7}{'ratio':>7}{'memo':>13}  {'same verdict':<13}{'dvc status':>12}"
          f"{'status -c':>13}  check says")  # fmt: skip
    slow, spread, changed, unmemoed = [], [], [], []
    for step, idle, busy in rows:
        median, busy_median = statistics.median(idle["check"]), statistics.median(busy["check"])
        memo = f"{statistics.median(idle['memo']):.2f} / {statistics.median(busy['memo']):.2f}"
        same = set(busy["verdicts"]) | set(idle["verdicts"]) == {idle["verdicts"][0]}
        slow += [] if median <= statistics.median(idle["status"]) + OVER_STATUS_S else [step]
        unmemoed += [] if statistics.median(idle["memo"]) <= MEMO_TARGET_S else [step]
        spread += [] if busy_median <= BUSY_RATIO * median else [step]
        changed += [] if same else [(step, idle["verdicts"], busy["verdicts"])]
        says = next((line for line in idle["verdicts"][0].splitlines() if line[:5] == "Step "), "all done")
        status = f"{statistics.median(idle['status']):.2f} / {statistics.median(busy['status']):.2f}"
        cloud = f"{statistics.median(idle['status -c']):.2f} / {statistics.median(busy['status -c']):.2f}"
        print(f"{step:<5}{median:>6.2f}{busy_median:>7.2f}{busy_median / median:>6.1f}x{memo:>13}  "
              f"{'yes' if same else 'NO':<13}{status:>12}{cloud:>13}  {says[:60]}")  # fmt: skip
    print(f"\nNothing changed (memo), idle median <= {MEMO_TARGET_S} s: {where_missed(unmemoed)}")
    print(f"Anew, idle median <= dvc status + {OVER_STATUS_S} s: {where_missed(slow)}")
    print(f"Busy, median <= {BUSY_RATIO:.0f}x idle: {where_missed(spread)}")
    print("Busy, the same verdict: " + (f"not at steps {', '.join(str(c[0]) for c in changed)}"
          if changed else "at every step"))  # fmt: skip
    for step, idle_said, busy_said in changed:
        others = sorted(set(idle_said + busy_said) - {idle_said[0]})
        print(f"\nstep {step}, idle said:\n{idle_said[0]}", *(f"also:\n{text}" for text in others), sep="\n")
    print("", *profiles, sep="\n")
    before, after = (", ".join(f"{value:.1f}" for value in load) for load in loads)
    print(f"Load average (1, 5, 15 min): before {before}, after {after}, on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
