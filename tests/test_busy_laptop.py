"""`workshop check` on a busy laptop: beside 4 CPU-bound processes (a training run, a browser, a
video call on 2 cores) it must give exactly the verdict it gives on an idle one, only later.

A lab is played to step 4 against the emulator on 127.0.0.1 (steps 3 and 4 done: DVC's status
and the remote read), then checked as it is (step 5 not done) and, in a copy, with the outputs of
steps 3 and 4 gone from the workspace and the cache (step 3 not done: the remote has them, which
only `dvc status -c` tells). Each verdict, the step table and its Step/Hint lines, must be the
idle one, and never "another dvc command is running" nor "did not answer": the check asks DVC one
question at a time, in its own process, so it has no lock to lose to itself, and its time limits
(10 s for the exercise, 20 and 60 s for DVC) are far above what a busy CPU adds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dvc_workshop.lab.model.layout import CHECK_MEMO_FILE
from dvc_workshop.lab.steps.registry import STEPS

from .conftest import WORKSHOP

pytestmark = pytest.mark.slow
HOGS, BUSY_RUNS = 4, 2  # CPU-bound processes beside the check (with 0 it must pass too), checks beside them
NEVER = ("another dvc command is running", "did not answer", "Traceback")
VERDICT = re.compile(r"^(\s*\d+\s.*\s(done|not done|not checked)|\d+ of \d+ done\..*|Step \d+: .*|Hint: .*)$")


def check(lab: Path, env: dict[str, str]) -> tuple[list[str], str, float]:
    """`workshop check`'s verdict lines (table, count, Step, Hint), its whole output, its time:
    a check that reads the lab anew each time (its memo deleted), as after any change."""
    (lab / CHECK_MEMO_FILE).unlink(missing_ok=True)
    start = time.monotonic()
    result = subprocess.run([*WORKSHOP, "check"], cwd=lab, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    took = time.monotonic() - start
    output = result.stdout + result.stderr
    assert result.returncode == 1 and not result.stderr, output  # a step not done, said on stdout
    return [line for line in result.stdout.splitlines() if VERDICT.match(line)], output, took


def busy_checks(lab: Path, env: dict[str, str]) -> list[tuple[list[str], str, float]]:
    """The check, BUSY_RUNS times, with HOGS CPU-bound processes spinning from before it starts."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(HOGS)]
    try:
        time.sleep(0.5)  # they are spinning before the check starts
        return [check(lab, env) for _ in range(BUSY_RUNS)]
    finally:
        for process in spinning:
            process.kill()
        for process in spinning:
            process.wait()


def data_only_in_the_remote(played_lab: Path) -> Path:
    """A copy of the lab, the outputs of steps 3 and 4 deleted from its workspace and its DVC
    cache emptied: only the remote has them."""
    lab = played_lab.with_name("data-only-in-the-remote")
    shutil.copytree(played_lab, lab, symlinks=True)
    origin = played_lab.with_name(f"{played_lab.name}-origin.git")
    subprocess.run(["git", "remote", "set-url", "origin", str(origin)], cwd=lab, check=True)
    shutil.rmtree(lab / "data")
    shutil.rmtree(lab / ".dvc/cache")
    return lab


# What each case's idle verdict must say (so that "the same verdict" is not a trivial one).
CASES = {
    "as played": "Step 5: dvc.yaml has no stage train",
    "data only in the remote": "of download_mnist are not here (the remote has them)\nHint: dvc pull",
}


@pytest.mark.parametrize("case", CASES)
def test_a_busy_laptop_gets_the_idle_verdict(lab_at, case: str) -> None:
    lab, env = lab_at(4)  # a copy of the lab at the end of step 4, with an emulator of its own
    if case == "data only in the remote":
        lab = data_only_in_the_remote(lab)
    idle, idle_output, idle_s = check(lab, env)
    busy = busy_checks(lab, env)
    times = ", ".join(f"{took:.1f}" for _, _, took in busy)
    print(f"{case}: idle {idle_s:.1f} s, beside {HOGS} CPU-bound processes {times} s")
    for output in (idle_output, *(output for _, output, _ in busy)):
        assert not [phrase for phrase in NEVER if phrase in output], output
    assert len(idle) == len(STEPS) + 3 and CASES[case] in "\n".join(idle), (
        idle_output
    )  # table, count, Step, Hint
    for verdict, output, _ in busy:
        assert verdict == idle, f"idle:\n{idle_output}\nbusy:\n{output}"
