"""The lab's health, read before any step: a git operation left under way, HEAD off main, a
repository inside the lab, outputs git tracks where DVC must, a `.env` that no longer leads to the
workshop's settings. Each is made in a copy of finn's lab done through step 6 (conftest's
`lab_at`), with ordinary git commands; the check names it whatever the step, and its hints, run
as printed, bring the lab back to "6 of 6 done" without losing a commit or a file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from dvc_workshop.lab.model.emulator_settings import ENV_BEGIN, ENV_END, configure_project

from .conftest import LAB, REPO_ROOT, WORKSHOP, copy_repo, global_git_identity, run

DONE = 6  # the step finn's lab is copied at: tags, hooks and pushed data included
SIDE = "git checkout -q -b side && echo side >> README.md && git commit -qam side && git checkout -q main"
MINE = "git checkout -q -b mine && echo mine >> README.md && git commit -qam mine"
# The state each case leaves, what the check's problem line says of it, and what must still be there.
CASES = {
    "a rebase stopped at a conflict": (
        f"{SIDE} && {MINE} && (git rebase side >/dev/null 2>&1 || true)",
        "a rebase is under way (git pull --rebase?), stopped at a conflict in README.md: git rebase "
        "--continue once each file is fixed and added (in a rebase --ours is origin's side",
        "git rev-parse -q --verify mine^{commit}"),
    "a rebase left behind, its fix committed and main checked out": (
        f"{SIDE} && {MINE} && (git rebase side >/dev/null 2>&1 || true) && git checkout -q --theirs "
        "README.md && git add README.md && git commit -qm resolved && git checkout -q main",
        "a rebase is still under way in git's eyes", "git rev-parse -q --verify mine^{commit}"),
    "a cherry-pick stopped at a conflict": (
        f"{SIDE} && {MINE} && (git cherry-pick side >/dev/null 2>&1 || true)",
        "a cherry-pick is under way, stopped at a conflict in README.md", "git rev-parse -q --verify mine"),
    "a bisect started": ("git bisect start", "a bisect is under way", "true"),
    "on another branch": ("git checkout -q -b experiment", "on the branch experiment, not main", "true"),
    "commits made on a detached HEAD": (
        "git checkout -q HEAD~1 && echo detached >> README.md && git commit -qam detached",
        "HEAD is not on a branch (still at a tag?): it is at commit ",
        "git log --all --format=%s | grep -qx detached"),
    "a clone inside the lab, committed": (
        f"git clone -q ../{LAB}-origin.git inner && git add inner 2>/dev/null && git commit -qm inner",
        "git holds inner as a repository inside the lab", "test -d inner/.git"),
    "an output added to git": (
        "git add -f models/model.keras && git commit -qm 'The model, in git'",
        "git tracks models/model.keras, which DVC must track (an output of stage train)",
        "test -s models/model.keras"),
}  # fmt: skip


def check(lab: Path, env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run([*WORKSHOP, "check", str(DONE)], cwd=lab, env=env, capture_output=True,
                            text=True, timeout=180)  # fmt: skip
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return result.returncode, output


def follow_hints(lab: Path, env: dict[str, str], output: str) -> list[str]:
    """Each hint run as printed until the check says the steps are done again; the hints run."""
    ran: list[str] = []
    status = 1
    while status != 0:
        hint = output.split("\nHint: ", 1)[1].strip()
        assert hint not in ran and len(ran) < 4, f"{ran}\n{output}"  # no loop
        result = subprocess.run(["bash", "-eo", "pipefail", "-c", hint], cwd=lab, env=env,
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert result.returncode == 0, f"{hint}\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        ran.append(hint)
        status, output = check(lab, env)
    return ran


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_state_git_left_is_named_and_its_hint_brings_the_lab_back(lab_at, case: str) -> None:
    commands, problem, kept = CASES[case]
    lab, env = lab_at(DONE)
    env = {**env, "GIT_EDITOR": "true"}
    made = subprocess.run(["bash", "-eo", "pipefail", "-c", commands], cwd=lab, env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    status, output = check(lab, env)
    line = re.search(r"^Step \d+: (.*)$", output, re.M)  # at the first step not done, whatever it is
    assert status == 1 and line and problem in line.group(1), output
    follow_hints(lab, env, output)
    assert subprocess.run(["bash", "-c", kept], cwd=lab, env=env).returncode == 0, kept  # nothing lost
    state = run(["git", "status"], cwd=lab).stdout
    assert "On branch main" in state and "You are currently" not in state, state


@pytest.mark.slow
def test_a_lab_whose_env_link_is_gone_is_told_to_link_it_again(lab_at, tmp_path: Path) -> None:
    lab, env = lab_at(DONE)
    workshop = copy_repo(tmp_path / "workshop")  # the workshop's folder, while its emulator runs
    url = env["STORAGE_EMULATOR_HOST"]
    (workshop / ".env").write_text(f"{ENV_BEGIN}\nSTORAGE_EMULATOR_HOST={url}\n{ENV_END}\n")
    run(["git", "config", "workshop.reference", str(workshop)], cwd=lab)
    (lab / ".env").unlink(missing_ok=True)  # what an emulator stopped in the lab's folder did
    status, output = check(lab, env)
    assert status == 1 and f".env in the lab no longer leads to the workshop's {workshop}/.env" in output
    assert f"Hint: ln -sfn {workshop}/.env .env" in output
    follow_hints(lab, env, output)
    assert (lab / ".env").resolve() == (workshop / ".env").resolve()

    (lab / ".env").unlink()
    (lab / ".env").write_text("MY_OWN=1\n")  # a file of the attendee's own: kept beside
    status, output = check(lab, env)
    follow_hints(lab, env, output)
    assert (lab / ".env.mine").read_text() == "MY_OWN=1\n" and (lab / ".env").is_symlink()


def test_the_emulator_in_a_lab_says_where_it_runs_and_keeps_the_labs_env(tmp_path: Path) -> None:
    identity = global_git_identity(tmp_path)
    started = run([*WORKSHOP, "start", str(tmp_path / "my-lab")], cwd=REPO_ROOT, check=False, **identity)
    assert started.returncode == 0, started.stderr
    lab = tmp_path / "my-lab"
    link = os.readlink(lab / ".env")
    result = subprocess.run([sys.executable, "-m", "dvc_workshop.emulator"], cwd=lab, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "is not the workshop's folder (a lab?)" in line, line
    assert line.endswith(f"cd {REPO_ROOT} && pipenv run emulator"), line  # where the lab's .env leads
    assert os.readlink(lab / ".env") == link and not (lab / ".dvc/config.local").exists()


def test_settings_taken_back_through_a_link_leave_the_link(tmp_path: Path) -> None:
    (tmp_path / "repo/.dvc").mkdir(parents=True)
    (tmp_path / "repo/.dvc/config").write_text((REPO_ROOT / ".dvc/config").read_text())  # its remotes
    (tmp_path / "settings.env").write_text("MY_OWN=1\n")
    (tmp_path / "repo/.env").symlink_to(tmp_path / "settings.env")
    configure_project(tmp_path / "repo", {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:9"})
    assert "STORAGE_EMULATOR_HOST=http://127.0.0.1:9" in (tmp_path / "settings.env").read_text()
    configure_project(tmp_path / "repo", None)
    assert (tmp_path / "repo/.env").is_symlink() and (tmp_path / "settings.env").read_text() == "MY_OWN=1\n"
    (tmp_path / "settings.env").write_text("")
    configure_project(tmp_path / "repo", {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:9"})
    configure_project(tmp_path / "repo", None)  # nothing else in it: the link stays all the same
    assert (tmp_path / "repo/.env").is_symlink()


def test_the_folders_beside_the_lab_are_the_labs_own_for_the_check_and_its_watch(tmp_path: Path) -> None:
    from dvc_workshop.lab.actions.check_memo import lab_files
    from dvc_workshop.lab.model.lab import Lab

    identity = global_git_identity(tmp_path)
    started = run([*WORKSHOP, "start", str(tmp_path / "my-lab")], cwd=REPO_ROOT, check=False, **identity)
    assert started.returncode == 0, started.stderr
    lab = tmp_path / "my-lab"
    reading = partial(lab_files, Lab(lab))  # what check --watch reads every second
    before = reading()
    (lab / ".git/workshop-progress.json").write_text("{}")  # what the check writes: no change
    (lab / "dvc_workshop/ml/__pycache__").mkdir(exist_ok=True)  # nor what Python caches
    (lab / "dvc_workshop/ml/__pycache__/transforms.cpython-3.pyc").write_bytes(b"")
    assert reading() == before
    (lab / "sources/mnist-sample.yaml").unlink()  # a file deleted (a data output, say): a change
    assert reading() != before
    run(["git", "checkout", "-q", "sources/mnist-sample.yaml"], cwd=lab)
    before = reading()
    report = tmp_path / "my-lab-report"
    run(["git", "init", "-q", "-b", "main", str(report)], cwd=tmp_path)
    assert reading() != before  # step 12's project, made beside the lab
    checked = subprocess.run([*WORKSHOP, "check", "1"], cwd=report, capture_output=True, text=True,
                             timeout=120, env={**os.environ, **identity})  # fmt: skip
    assert " 1  Environment" in checked.stdout and "not a lab" not in checked.stderr, checked.stderr
    # From a subfolder, a hint goes to the lab's top folder first (its paths are from there).
    run(["git", "remote", "remove", "origin"], cwd=lab)
    inside = lab / "dvc_workshop/ml"
    checked = subprocess.run([*WORKSHOP, "check", "1"], cwd=inside, capture_output=True, text=True,
                             timeout=120, env={**os.environ, **identity})  # fmt: skip
    hint = checked.stdout.split("\nHint: ", 1)[1].strip()
    assert hint == "cd ../.. && git remote add origin ../my-lab-origin.git", checked.stdout
    subprocess.run(["bash", "-c", hint], cwd=inside, check=True)
    assert run(["git", "remote", "get-url", "origin"], cwd=lab).stdout.strip() == "../my-lab-origin.git"
    before = reading()
    (report / "my-digits.dvc").write_text("outs:\n- path: my-digits\n")
    assert reading() != before

    def origin() -> list[str]:
        return [line for line in reading() if line.startswith(str(tmp_path / "my-lab-origin.git"))]

    before = origin()
    run(["git", "commit", "-q", "--allow-empty", "-m", "more"], cwd=lab, **identity)
    run(["git", "push", "-q", "origin", "main"], cwd=lab, **identity)
    assert before and origin() != before  # a push, seen in the origin


def test_stages_written_in_a_subfolder_are_named_and_taken_out(tmp_path: Path) -> None:
    identity = global_git_identity(tmp_path)
    started = run([*WORKSHOP, "start", str(tmp_path / "my-lab")], cwd=REPO_ROOT, check=False, **identity)
    assert started.returncode == 0, started.stderr
    lab = tmp_path / "my-lab"
    (lab / "data").mkdir()
    (lab / "data/dvc.yaml").write_text("stages:\n  preprocess:\n    cmd: python -m x\n")  # typed in data/
    (lab / "data/dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    run(["git", "add", "data/dvc.yaml"], cwd=lab)
    run(["git", "commit", "-qm", "preprocess"], cwd=lab, **identity)
    env = {**os.environ, **identity}
    checked = subprocess.run([*WORKSHOP, "check", "1"], cwd=lab, capture_output=True, text=True, env=env)
    line = re.search(r"^Step \d+: (.*)$", checked.stdout, re.M)
    assert line and line.group(1).startswith("data/dvc.lock, data/dvc.yaml: stages defined in data/"), (
        checked.stdout
    )
    hint = checked.stdout.split("\nHint: ", 1)[1].strip()
    subprocess.run(["bash", "-eo", "pipefail", "-c", hint], cwd=lab, check=True, env=env)
    assert (
        not (lab / "data/dvc.yaml").exists()
        and "dvc.yaml" not in run(["git", "ls-files", "data"], cwd=lab).stdout
    )
    again = subprocess.run([*WORKSHOP, "check", "1"], cwd=lab, capture_output=True, text=True, env=env)
    assert "stages defined in" not in again.stdout, again.stdout
