"""The README, run as an attendee would: every `bash` block, in order, in a fresh clone.

Tags after `bash` say how: `skip-ci` needs what CI lacks (real GCS credentials, pyenv),
`tests` is the test command CI itself runs, `stage-add` has its own test (test_guide.py),
`lab-start` and `lab` belong to the attendee's lab (test_lab_playthrough.py), and
`background` keeps running (the emulator) until the end of the walk-through.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, SHARED_MNIST, copy_repo, pipenv_env

SKIPPED_TAGS = {"skip-ci", "tests", "stage-add", "lab-start", "lab"}


def readme_blocks() -> list[tuple[str, str]]:
    text = (REPO_ROOT / "README.md").read_text()
    return [(tag.strip(), code) for tag, code in re.findall(r"```bash( [\w-]+)?\n(.*?)```", text, flags=re.S)]


def test_every_block_has_a_known_tag() -> None:
    tags = {tag for tag, _ in readme_blocks()}
    assert tags <= {"", "background", *SKIPPED_TAGS}, tags
    assert sum(tag == "" for tag, _ in readme_blocks()) >= 5


@pytest.mark.skipif(
    not SHARED_MNIST.is_dir(), reason="the README's full-MNIST step needs ../shared/data/mnist"
)
def test_readme_runs_top_to_bottom(tmp_path: Path) -> None:
    clone = copy_repo(tmp_path / "dvc-workshop", git_identity=False)  # the README sets it up
    (tmp_path / "shared").symlink_to(SHARED_MNIST.parent.parent)
    (tmp_path / "home").mkdir()  # its own new laptop: the README's `git config --global` lands here
    env = pipenv_env(tmp_path / "home")
    background: list[subprocess.Popen[bytes]] = []
    try:
        for number, (tag, code) in enumerate(readme_blocks(), start=1):
            if tag in SKIPPED_TAGS:
                continue
            if tag == "background":
                command = ["bash", "-c", code]
                background.append(
                    subprocess.Popen(
                        command, cwd=clone, env=env, stdout=subprocess.DEVNULL, start_new_session=True
                    )
                )
                deadline = time.monotonic() + 60
                while "endpointurl" not in _read(clone / ".dvc/config.local") and time.monotonic() < deadline:
                    time.sleep(0.2)
                continue
            command = ["bash", "-euo", "pipefail", "-c", code]
            result = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=1500)
            assert result.returncode == 0, (
                f"README block {number} failed:\n{code}\n{result.stdout}\n{result.stderr}"
            )
    finally:
        for process in background:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=60)
    assert "endpointurl" not in _read(clone / ".dvc/config.local")  # the emulator cleaned up after itself
    shown = subprocess.run(["dvc", "metrics", "show"], cwd=clone, env=env, capture_output=True, text=True)
    assert "test.accuracy" in shown.stdout.replace(" ", ".")


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
