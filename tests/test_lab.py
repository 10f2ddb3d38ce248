"""`workshop start`: the attendee's own repository, made from this one, with a bare origin beside it."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dvc_workshop.lab.model.emulator import Emulator
from dvc_workshop.lab.steps.registry import STEPS

from .conftest import REPO_ROOT, WORKSHOP, dvc, free_port, global_git_identity, pipenv_env, run


@pytest.fixture
def identity(tmp_path: Path) -> dict[str, str]:
    return global_git_identity(tmp_path)


def start(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = [*WORKSHOP, "start", str(folder)]
    return run(command, cwd=REPO_ROOT, check=False, **env)


def test_start_makes_the_lab_repository(tmp_path: Path, identity: dict[str, str]) -> None:
    lab = tmp_path / "my-lab"
    result = start(lab, **identity)
    assert result.returncode == 0, result.stderr

    # The code and parameters, without the DVC work the attendee is there to do.
    assert (lab / "params.yaml").read_bytes() == (REPO_ROOT / "params.yaml").read_bytes()
    assert (lab / "dvc_workshop/pipeline/train.py").is_file() and (lab / ".dvc/config").is_file()
    for left_out in ("dvc.yaml", "dvc.lock", "reports/metrics.json"):
        assert not (lab / left_out).exists(), left_out
    assert dvc("remote", "list", cwd=lab).stdout.strip() == ""
    assert "html_template" in (lab / ".dvc/config").read_text()  # other DVC settings stay
    ignored = (lab / ".gitignore").read_text()  # DVC writes the outputs' .gitignore files itself
    assert ".env" in ignored and "/data/" not in ignored and "/models/" not in ignored

    # The attendee's own project: the stage code and what it needs, not the reference's answers or
    # tools; the README points to the handout; pipenv, typed in the lab, uses the workshop's environment.
    tracked = set(run(["git", "ls-files"], cwd=lab).stdout.split())
    absent = ("docs/", "benchmarks/", ".ci/", "scripts/", "dvc_workshop/lab/", "dvc_workshop/emulator/",
              "CONTRIBUTING.md", "tests/conftest.py", "tests/test_lab.py", "pyproject.toml")  # fmt: skip
    assert not [path for path in tracked if path.startswith(absent)]
    present = {"dvc_workshop/pipeline/train.py", "dvc_workshop/cli.py", "params.yaml",
               "sources/mnist-sample.yaml", "tests/test_transforms.py", "Pipfile", "Pipfile.lock",
               ".dvcignore", ".dvc/config"}  # fmt: skip
    assert present <= tracked, present - tracked
    readme = (lab / "README.md").read_text()
    assert "This repository is the complete solution" not in readme and str(REPO_ROOT / "README.md") in readme
    assert (lab / ".venv").read_text().strip() == sys.prefix
    shell = {
        k: v for k, v in pipenv_env(tmp_path / "home").items() if k not in ("VIRTUAL_ENV", "PIPENV_ACTIVE")
    }
    venv = subprocess.run(["pipenv", "--venv"], cwd=lab, env=shell, capture_output=True, text=True)
    assert Path(venv.stdout.strip()) == Path(sys.prefix), venv.stdout + venv.stderr

    # standardize is the exercise: blank, and its tests say what to implement. (The attendee's own
    # pytest: none of this suite's options, which CI passes in PYTEST_ADDOPTS, reach it.)
    attendee = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    exercise = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "standardize"],
        cwd=lab, env=attendee, capture_output=True, text=True,
    )  # fmt: skip
    assert exercise.returncode == 1 and "implement standardize(images, mean, std)" in exercise.stdout, (
        exercise.stdout + exercise.stderr
    )

    # One commit, pushed to a bare origin beside it; nothing left to commit.
    git = ["git", "-C", str(lab)]
    assert run([*git, "log", "--format=%s"], cwd=lab, **identity).stdout == "Start of the DVC workshop lab\n"
    assert run([*git, "status", "--porcelain"], cwd=lab).stdout == ""
    origin = tmp_path / "my-lab-origin.git"
    assert run([*git, "remote", "get-url", "origin"], cwd=lab).stdout.strip() == str(origin)
    bare = run(["git", "-C", str(origin), "rev-parse", "--is-bare-repository"], cwd=lab).stdout
    assert bare.strip() == "true"
    assert (
        run([*git, "rev-parse", "HEAD"], cwd=lab).stdout
        == run(["git", "-C", str(origin), "rev-parse", "main"], cwd=lab).stdout
    )


def test_start_refuses_an_existing_folder(tmp_path: Path, identity: dict[str, str]) -> None:
    (tmp_path / "my-lab").mkdir()
    result = start(tmp_path / "my-lab", **identity)
    assert result.returncode == 2
    assert result.stderr == f"error: {tmp_path / 'my-lab'} already exists: choose a new folder for the lab\n"


def test_start_without_a_git_identity_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = start(tmp_path / "my-lab", HOME=str(home))  # a new laptop's home: no git identity
    assert result.returncode == 2
    assert result.stderr.startswith("error: git has no user.name yet: set your name and email first")
    assert sorted(tmp_path.iterdir()) == [home] and list(home.iterdir()) == []


def test_start_with_a_name_that_folds_to_nothing_asks_for_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = 李雷\n\temail = 李@example.com\n")
    result = start(tmp_path / "my-lab", HOME=str(home))
    assert result.returncode == 2 and "no letter a-z to make your folder's name of" in result.stderr
    assert "--name" in result.stderr.splitlines()[-1] and not (tmp_path / "my-lab").exists()


def test_check_and_solution_of_the_first_steps(
    tmp_path: Path, identity: dict[str, str], request: pytest.FixtureRequest
) -> None:
    """`solution 2` runs step 2's README blocks; `check` then finds steps 1 and 2 done, 3 not.

    Steps 1 and 2 read git, DVC's config and whether the emulator answers; test_lab_playthrough
    plays all ten."""
    lab = tmp_path / "my-lab"
    start(lab, **identity)
    emulator = Emulator(tmp_path / "buckets", free_port())  # empty: steps 1 and 2 only ask that it answers
    emulator.start()
    request.addfinalizer(emulator.stop)
    env = {**identity, "STORAGE_EMULATOR_HOST": emulator.url}
    lab_command = WORKSHOP
    # Step 1's exercise: the Pipfile lacks two dev packages of its lock; the check keeps the answer
    # for the hints, and names a line in the wrong place or of another version.
    checked = run([*lab_command, "check"], cwd=lab, check=False, **env).stdout
    assert "Step 1: Pipfile lacks 2 dev packages of its lock (the exercise of step 1)" in checked, checked
    assert "# TODO(lab step 1)" in (lab / "Pipfile").read_text()
    pipfile = (lab / "Pipfile").read_text()
    (lab / "Pipfile").write_text(
        pipfile.replace("[dev-packages]", '[dev-packages]\nruff = "==0.8"\npre-commit = "*"')
    )
    checked = run([*lab_command, "check"], cwd=lab, check=False, **env).stdout
    assert 'Step 1: Pipfile\'s ruff is "==0.8" under [dev-packages]; the lock was made with "*"' in checked
    (lab / "Pipfile").write_text(
        pipfile.replace("[dev-packages]", '[dev-packages]\nruff = "*"') + 'pre-commit = "*"\n'
    )
    checked = run([*lab_command, "check"], cwd=lab, check=False, **env).stdout
    assert "Step 1: Pipfile has no pre-commit under [dev-packages] (it is under [scripts])" in checked, (
        checked
    )
    (lab / "Pipfile").write_text(pipfile)
    first = run([*lab_command, "solution", "1"], cwd=lab, **env).stdout
    assert "Pipfile.lock is up-to-date." in first and "git diff" not in first, first
    assert run(["git", "status", "--porcelain"], cwd=lab).stdout == ""  # committed
    checked = run([*lab_command, "check"], cwd=lab, check=False, **env)
    before = checked.stdout
    assert checked.returncode == 1  # not all done
    assert run([*lab_command, "check", "1"], cwd=lab, **env).stdout == before  # step 1 done: exit 0
    assert run([*lab_command, "check", "2"], cwd=lab, check=False, **env).returncode == 1
    assert "Step 2: no default DVC remote" in before and "Hint: dvc remote add -d dvc-workshop" in before
    # Typed in a shell without the environment (pipenv run workshop check): its hint's dvc is not
    # on that shell's PATH, and the check says so before the hint.
    unset = ["env", "-u", "PIPENV_ACTIVE", "-u", "VIRTUAL_ENV"]  # not a pipenv shell, nor activated
    plain = run([*unset, "bash", "-c", f"{shlex.join(lab_command)} check; exit $?"], cwd=lab, check=False,
                **env, PATH="/usr/bin:/bin").stdout  # fmt: skip
    assert "has no dvc on its PATH (pipenv run workshop check?): type pipenv shell there" in plain, plain
    # Hints one at a time, the check's own first, the answer last (rustlings' way).
    first = run([*lab_command, "hint"], cwd=lab, **env).stdout
    assert (
        "Hint 1 of 4: for the problem found (no default DVC remote): dvc remote add -d dvc-workshop" in first
    )
    assert "Hint 2" not in first and "hint 2 again shows the next one" in first
    for _ in range(3):
        last = run([*lab_command, "hint"], cwd=lab, **env).stdout
    assert "Hint 4 of 4: the README's section 'Lab step 2: Your remote'" in last, last
    assert "(workshop solution 2 runs it)" in last
    solved = run([*lab_command, "solution", "2"], cwd=lab, **env)
    assert "$ dvc remote add -d dvc-workshop gs://dvc-workshop-cache/ada" in solved.stdout
    after = run([*lab_command, "check", "2"], cwd=lab, **env).stdout
    assert re.search(r"^ 2  Your remote +done$", after, re.M), after
    assert (
        "Step 3: download_mnist.source in params.yaml is sources/mnist-sample.yaml, not the raw bucket"
        in after
    )
    assert run(["git", "log", "-1", "--format=%s"], cwd=lab, **env).stdout.startswith("DVC remote: gs://")

    # reset 2: the remote gone again, committed; an uncommitted edit to .dvc/config kept in git stash.
    config = (lab / ".dvc/config").read_text()
    (lab / ".dvc/config").write_text(config + "# mine\n")
    reset = run([*lab_command, "reset", "2"], cwd=lab, **env).stdout
    assert ".dvc/config are in git stash list" in reset and "Committed as 'Reset lab step 2'" in reset, reset
    assert "Step 2: no default DVC remote" in run([*lab_command, "check"], cwd=lab, check=False, **env).stdout
    assert "before workshop reset 2" in run(["git", "stash", "list"], cwd=lab).stdout
    run(["git", "revert", "--no-edit", "HEAD"], cwd=lab, **env)  # the reset, taken back
    assert (lab / ".dvc/config").read_text() == config
    assert run([*lab_command, "check", "2"], cwd=lab, **env).returncode == 0

    # Out of order: refused, naming the first step not done, and nothing changes.
    status = run(["git", "status", "--porcelain", "--ignored"], cwd=lab).stdout
    ahead = run([*lab_command, "solution", "5"], cwd=lab, check=False, **env)
    assert ahead.returncode == 2 and ahead.stderr.startswith("error: lab step 3 is not done yet"), (
        ahead.stderr
    )
    assert "workshop solution 3 first" in ahead.stderr and "$ " not in ahead.stdout
    assert run(["git", "status", "--porcelain", "--ignored"], cwd=lab).stdout == status

    progress = (lab / ".git/workshop-progress.json").read_bytes()
    emulator.stop()  # it stops answering: step 1 says so at once, and nothing else is checked
    stopped = run([*lab_command, "check"], cwd=lab, check=False, **env).stdout
    assert f"Step 1: the emulator at {emulator.url} does not answer" in stopped
    assert stopped.count("(at the last check)") == len(STEPS), stopped  # each step as the last check found it
    assert re.search(r"^ 2  Your remote +done \(at the last check\)$", stopped, re.M), stopped
    # A failed read says nothing of the lab: the last known state said, the time on a step kept.
    assert f"found 2 of {len(STEPS)} done): it records nothing, in the lab or the room" in stopped, stopped
    assert (lab / ".git/workshop-progress.json").read_bytes() == progress

    inside = run([*lab_command, "check", "--lab", "dvc_workshop/ml"], cwd=lab, check=False, **env).stdout
    assert inside == stopped
    reference = run([*lab_command, "check"], cwd=REPO_ROOT, check=False, **env)
    assert reference.returncode == 2 and reference.stdout == ""  # 2: it could not check
    assert (
        reference.stderr
        == f"error: {REPO_ROOT} is not a lab (the workshop's own repository?): cd to your lab "
        "(pipenv run workshop start ../my-lab, in the workshop's folder, makes one)\n"
    )
    nowhere = run([*lab_command, "check", "--lab", "/"], cwd=lab, check=False, **env)
    assert nowhere.returncode == 2 and nowhere.stderr.startswith(
        "error: / is in no git repository: cd to your lab"
    )

    wrong = run([*lab_command, "solution", str(len(STEPS) + 1)], cwd=lab, check=False, **env)
    assert wrong.stderr == f"error: invalid step {len(STEPS) + 1}: the lab has steps 1 to {len(STEPS)}\n"
    assert wrong.returncode == 2


@contextlib.contextmanager
def ctrl_c_as_in_a_terminal() -> Iterator[None]:
    """SIGINT as a terminal's foreground command has it, for the processes started inside: a test
    run started in the background of a script (as scripts/fresh-machine.sh does) inherits SIGINT
    ignored, and Python then never turns Ctrl+C into KeyboardInterrupt."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_check_watch_checks_again_after_each_change(
    tmp_path: Path, identity: dict[str, str], request: pytest.FixtureRequest
) -> None:
    lab = tmp_path / "my-lab"
    start(lab, **identity)
    emulator = Emulator(tmp_path / "buckets", free_port())
    emulator.start()
    request.addfinalizer(emulator.stop)
    env = {**os.environ, **identity, "STORAGE_EMULATOR_HOST": emulator.url}
    command = [*WORKSHOP, "check", "--watch"]
    with ctrl_c_as_in_a_terminal():
        watcher = subprocess.Popen(command, cwd=lab, env=env, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True).start()

    def next_verdict() -> str:
        screen = []
        while not screen or "Watching the lab" not in screen[-1]:
            screen.append(lines.get(timeout=60))
        return "".join(screen)

    try:
        assert "Step 1: Pipfile lacks 2 dev packages of its lock" in next_verdict()
        for step in ("1", "2"):
            run([*WORKSHOP, "solution", step], cwd=lab, **identity, STORAGE_EMULATOR_HOST=emulator.url)
        verdict = next_verdict()  # the watch sees every file: a verdict may come between any two commands
        while "Step 1:" in verdict or "Step 2:" in verdict:  # (each wait ends within 60 s, or fails)
            verdict = next_verdict()
        assert (
            re.search(r"^ 2  Your remote +done$", verdict, re.M) and f"2 of {len(STEPS)} done" in verdict
        ), verdict
    finally:
        watcher.send_signal(signal.SIGINT)
    assert watcher.wait(timeout=30) == 0


def test_a_shell_without_the_emulators_settings_is_named_while_the_check_reads_them_from_env_file(
    tmp_path: Path, identity: dict[str, str], request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab tool takes the workshop's .env where the shell lacks it (its own reads work); step 1
    says so, since dvc typed in that shell would go to Google's storage (a venv activated by hand)."""
    from dvc_workshop.lab.model.emulator_settings import TAKEN_FROM_ENV_FILE
    from dvc_workshop.lab.model.lab import Lab
    from dvc_workshop.lab.model.problem import Problem
    from dvc_workshop.lab.steps import environment

    lab = tmp_path / "my-lab"
    assert start(lab, **identity).returncode == 0
    emulator = Emulator(tmp_path / "buckets", free_port())
    emulator.start()
    request.addfinalizer(emulator.stop)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", identity["GIT_CONFIG_GLOBAL"])
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    monkeypatch.setitem(TAKEN_FROM_ENV_FILE, "STORAGE_EMULATOR_HOST", emulator.url)
    with pytest.raises(Problem) as raised:
        environment.check(Lab(lab))
    assert "this shell does not have its settings" in raised.value.what
    assert raised.value.hint == f"export STORAGE_EMULATOR_HOST={emulator.url}"
    monkeypatch.delitem(
        TAKEN_FROM_ENV_FILE, "STORAGE_EMULATOR_HOST"
    )  # a shell that has them: no such problem
    with pytest.raises(Problem) as raised:
        environment.check(Lab(lab))
    assert "this shell" not in raised.value.what  # (the Pipfile's exercise, still to do)
