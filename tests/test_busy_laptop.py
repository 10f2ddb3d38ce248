"""`workshop check` on a busy laptop: beside 4 CPU-bound processes (a training run, a browser, a
video call on 2 cores) it must give exactly the verdict it gives on an idle one, only later.

A lab is played to step 4 against the emulator on 127.0.0.1 (steps 3 and 4 done: DVC's status
and the remote read), then checked as it is (step 5 not done) and with step 4's outputs gone from
the workspace and the cache (step 4 not done: the remote has them, which only `dvc status -c`
tells). Each verdict, the step table and its Step/Hint lines, must be the idle one, and never
"another dvc command is running" nor "did not answer": the check asks DVC one question at a
time, in its own process, so it has no lock to lose and no time limit a busy CPU could exceed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dvc_workshop.emulator.server import Emulator, raw_mnist

from .conftest import REPO_ROOT, WORKSHOP, global_git_identity
from .test_remote import free_port

pytestmark = pytest.mark.slow
HOGS = 4  # CPU-bound processes beside the check (0: the test must then still pass, idle twice)
NEVER = ("another dvc command is running", "did not answer", "Traceback")
VERDICT = re.compile(r"^(\s*\d+\s.*\s(done|not done|not checked)|\d+ of \d+ done\..*|Step \d+: .*|Hint: .*)$")


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory):
    """A lab at the end of step 4, its emulator running, and the environment of its shell."""
    root = tmp_path_factory.mktemp("busy")
    emulator = Emulator(root / "buckets", free_port())
    emulator.start()
    try:
        emulator.create_buckets()
        emulator.upload_raw(
            raw_mnist(None, REPO_ROOT / "sources/mnist-sample.yaml", REPO_ROOT / "params.yaml")
        )
        env = {**os.environ, **global_git_identity(root), **emulator.environment()}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        lab = root / "my-lab"
        subprocess.run([*WORKSHOP, "start", str(lab)], cwd=REPO_ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        for step in range(2, 5):
            subprocess.run([*WORKSHOP, "solution", str(step)], cwd=lab, env=env, check=True,
                           capture_output=True)  # fmt: skip
        yield lab, env
    finally:
        emulator.stop()


def check(lab: Path, env: dict[str, str]) -> tuple[list[str], str, float]:
    """`workshop check`'s verdict lines (table, count, Step, Hint), its whole output, its time."""
    start = time.monotonic()
    result = subprocess.run([*WORKSHOP, "check"], cwd=lab, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    took = time.monotonic() - start
    output = result.stdout + result.stderr
    assert result.returncode == 1 and not result.stderr, output  # a step not done, said on stdout
    return [line for line in result.stdout.splitlines() if VERDICT.match(line)], output, took


def busy_check(lab: Path, env: dict[str, str], hogs: int = HOGS) -> tuple[list[str], str, float]:
    """The check with `hogs` CPU-bound processes running beside it from before it starts."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    try:
        time.sleep(0.5)  # they are spinning before the check starts
        return check(lab, env)
    finally:
        for process in spinning:
            process.kill()
        for process in spinning:
            process.wait()


def without_preprocess_data(played_lab: Path) -> Path:
    """A copy of the lab, step 4's outputs deleted from its workspace and its DVC cache emptied:
    only the remote has them."""
    lab = played_lab.with_name("data-only-in-the-remote")
    shutil.copytree(played_lab, lab, symlinks=True)
    origin = played_lab.with_name(f"{played_lab.name}-origin.git")
    subprocess.run(["git", "remote", "set-url", "origin", str(origin)], cwd=lab, check=True)
    shutil.rmtree(lab / "data/preprocess")
    shutil.rmtree(lab / ".dvc/cache")
    return lab


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("as played", "Step 5: dvc.yaml has no stage train"),
        ("data only in the remote", "Step 4: data/preprocess of preprocess are not here (the remote has them)"),
    ],
)
def test_a_busy_laptop_gets_the_idle_verdict(played, case: str, expected: str) -> None:
    lab, env = played
    if case == "data only in the remote":
        lab = without_preprocess_data(lab)
    idle, idle_output, idle_s = check(lab, env)
    busy, busy_output, busy_s = busy_check(lab, env)
    print(f"{case}: idle {idle_s:.1f} s, beside {HOGS} CPU-bound processes {busy_s:.1f} s")
    for output in (idle_output, busy_output):
        assert not [phrase for phrase in NEVER if phrase in output], output
    assert len(idle) == 10 + 3 and expected in idle, idle_output  # the table, a count, Step, Hint
    assert busy == idle, f"idle:\n{idle_output}\nbusy:\n{busy_output}"
