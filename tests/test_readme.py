"""The doc pages, run as an attendee would: every `bash` block, in order, in one fresh clone.

The pages run in the order of DOC_PAGES: the README (the handout), the docs/ reference pages,
then CONTRIBUTING.md. They share the clone, so later pages rely on earlier ones: the README's
first block runs the pipeline that docs/remotes.md pushes and pulls and docs/experiments.md
experiments on, and docs/remotes.md's `background` block (the emulator) serves the buckets its
next block uses, then keeps running until the end of the walk-through.

Tags after `bash` say how: `skip-ci` needs what CI lacks (real GCS credentials, the network,
another Python), `tests` is the test command CI itself runs, `stage-add` has its own test
(test_guide.py), `lab-start` and `lab` belong to the attendee's lab (test_lab_playthrough.py),
and `background` keeps running (the emulator). `tests`, `lab-start` and `lab` belong in the
README alone: CI (`.ci/run`) and the lab (`dvc_workshop.lab`) read them from there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from .clones import installed_source
from .conftest import DOC_PAGES, REPO_ROOT, SHARED_MNIST, copy_repo, doc_blocks, page_blocks, pipenv_env

pytestmark = pytest.mark.slow

SKIPPED_TAGS = {"skip-ci", "tests", "stage-add", "lab-start", "lab"}
KNOWN_TAGS = {"", "background", *SKIPPED_TAGS}
README_ONLY_TAGS = {"tests", "lab-start", "lab"}


def test_every_page_is_in_the_walk_through() -> None:
    docs = {f"docs/{page.name}" for page in (REPO_ROOT / "docs").glob("*.md")}
    assert {"README.md", *docs, "CONTRIBUTING.md"} == set(DOC_PAGES)
    assert [tag for tag, _ in page_blocks("README.md")[:2]] == ["", "tests"]  # what CI and attendees read


@pytest.mark.parametrize("page", DOC_PAGES)
def test_every_block_has_a_known_tag(page: str) -> None:
    tags = {tag for tag, _ in page_blocks(page)}
    assert tags <= KNOWN_TAGS, (page, tags - KNOWN_TAGS)
    if page != "README.md":
        assert not tags & README_ONLY_TAGS, (page, tags & README_ONLY_TAGS)


def test_enough_blocks_run_in_the_walk_through() -> None:
    assert sum(tag == "" for _, _, tag, _ in doc_blocks()) >= 5
    assert [tag for _, _, tag, _ in doc_blocks()].count("stage-add") == 1  # test_guide.py reads it


@pytest.mark.skipif(
    not SHARED_MNIST.is_dir(), reason="the full-MNIST block (docs/performance.md) needs ../shared/data/mnist"
)
def test_readme_runs_top_to_bottom(tmp_path: Path) -> None:
    clone = copy_repo(tmp_path / "dvc-workshop", git_identity=False)  # the README sets it up
    (tmp_path / "shared").symlink_to(SHARED_MNIST.parent.parent)
    (tmp_path / "home").mkdir()  # its own new laptop: the README's `git config --global` lands here
    env = own_environment(tmp_path / "venv", pipenv_env(tmp_path / "home"))
    background: list[subprocess.Popen[bytes]] = []
    try:
        for page, number, tag, code in doc_blocks():
            if tag in SKIPPED_TAGS:
                continue
            if tag == "background":
                command = ["bash", "-c", code]
                background.append(
                    subprocess.Popen(
                        command,
                        cwd=clone,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        start_new_session=True,
                    )
                )
                deadline = time.monotonic() + 60
                while "endpointurl" not in _read(clone / ".dvc/config.local") and time.monotonic() < deadline:
                    time.sleep(0.2)
                    if background[-1].poll() is not None:  # it stopped: say why, not what fails later
                        stderr = background[-1].stderr.read().decode()
                        pytest.fail(f"{page} block {number} stopped:\n{code}\n{stderr}")
                continue
            command = ["bash", "-euo", "pipefail", "-c", code]
            result = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=1500)
            assert result.returncode == 0, (
                f"{page} block {number} failed:\n{code}\n{result.stdout}\n{result.stderr}"
            )
    finally:
        for process in background:
            with contextlib.suppress(ProcessLookupError):  # it stopped already (and the failure says why)
                os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=60)
    assert installed_source() == REPO_ROOT  # the tests' environment (other workers') kept its install
    assert "endpointurl" in _read(
        clone / ".dvc/config.local"
    )  # stopped, it leaves its settings: never Google's
    shown = subprocess.run(["dvc", "metrics", "show"], cwd=clone, env=env, capture_output=True, text=True)
    assert "test.accuracy" in shown.stdout.replace(" ", ".")


def own_environment(venv: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` with a virtualenv of the walk-through's own in front: it sees the tests' packages (a
    .pth line), so the README's `pipenv sync` downloads nothing, and pip installs the clone's
    dvc-workshop in it, leaving the tests' environment, which other tests run from meanwhile
    (pytest -n), as it was (pip uninstalls nothing outside the environment it installs into)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    tests_packages = sysconfig.get_path("purelib")
    own_packages = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (own_packages / "tests-environment.pth").write_text(f"{tests_packages}\n")
    scripts = sysconfig.get_path("scripts", vars={"base": str(venv), "platbase": str(venv)})
    return {**env, "VIRTUAL_ENV": str(venv), "PATH": f"{scripts}{os.pathsep}{env['PATH']}"}


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
