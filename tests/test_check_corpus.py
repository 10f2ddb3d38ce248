"""`workshop check` on broken labs: whatever the state, one answer within seconds, nothing changed.

A lab is played to step 4 (download and preprocess stages, with the exercise) against the
emulator, then copied and broken one way per case: files the check reads made invalid, merge
conflicts, attendee code that raises, loops or does not import, missing files, wrong names, a
detached HEAD, no repository, a dead endpoint. Each answer must be the step table with a problem
line (or one `error:` line), never a traceback, in under 15 s, and the lab byte-identical after.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import WORKSHOP, free_port

pytestmark = pytest.mark.slow
EXERCISE = "dvc_workshop/ml/transforms.py"


def replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def change(lab: Path) -> None:
        text = (lab / name).read_text()
        assert old in text, (name, old)
        (lab / name).write_text(text.replace(old, new, 1))

    return change


def dvc_running(lab: Path) -> None:
    """What `dvc repro` holds while it writes the download stage's outputs (DVC's lock on them,
    in .dvc/tmp/rwlock), by a process that is alive: this one."""
    (lab / ".dvc/tmp").mkdir(exist_ok=True)
    writing = {str(lab / out): {"pid": os.getpid(), "cmd": "dvc repro"} for out in
               ("data/download_mnist/Images", "data/download_mnist/labels.csv")}  # fmt: skip
    (lab / ".dvc/tmp/rwlock").write_text(json.dumps({"write": writing, "read": {}}))


def write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def change(lab: Path) -> None:
        (lab / name).write_bytes(text if isinstance(text, bytes) else text.encode())

    return change


def conflict(name: str) -> Callable[[Path], None]:
    def change(lab: Path) -> None:
        text = (lab / name).read_text()
        (lab / name).write_text(f"<<<<<<< HEAD\n{text}=======\n{text}>>>>>>> teammate\n")

    return change


def standardize_body(body: str) -> Callable[[Path], None]:
    answer = "return (images.astype(np.float32) - np.float32(mean)) / np.float32(std)"
    return replace(EXERCISE, answer, body)


def git_in(*args: str) -> Callable[[Path], None]:
    return lambda lab: subprocess.run(["git", *args], cwd=lab, check=True, capture_output=True)


CORPUS: dict[str, tuple[Callable[[Path], None], str]] = {
    "dvc.yaml not YAML": (write("dvc.yaml", "stages:\n  download_mnist: [unclosed\n"),
                          "dvc.yaml is not valid YAML"),
    "dvc.yaml in conflict": (conflict("dvc.yaml"), "dvc.yaml has merge conflict markers"),
    "dvc.yaml stages a list": (write("dvc.yaml", "stages:\n- download_mnist\n"),
                               "dvc.yaml: stages: must map"),
    "dvc.yaml stage empty": (write("dvc.yaml", "stages:\n  download_mnist:\n"), "dvc.yaml: stages: must map"),
    "dvc.yaml not UTF-8": (write("dvc.yaml", b"stages: \xff\n"), "dvc.yaml cannot be read"),
    "dvc.yaml deleted": (lambda lab: (lab / "dvc.yaml").unlink(), "dvc.yaml has no stage download_mnist"),
    "dvc.lock not YAML": (write("dvc.lock", "schema: '2.0\n"), "dvc.lock is not valid YAML"),
    "dvc.lock in conflict": (conflict("dvc.lock"), "dvc.lock has merge conflict markers"),
    "dvc.lock deleted": (lambda lab: (lab / "dvc.lock").unlink(), "there is no dvc.lock"),
    "params.yaml not YAML": (write("params.yaml", "train: {epochs: 8\n"),
                             "params.yaml is not valid YAML"),
    "params.yaml in conflict": (conflict("params.yaml"), "params.yaml has merge conflict markers"),
    ".dvc/config broken": (write(".dvc/config", "[core\nremote = x\n"), ".dvc/config cannot be read"),
    ".dvc/config.local broken": (write(".dvc/config.local", "['remote \"x\"'\n"),
                                 ".dvc/config.local cannot be read"),
    "a .dvc file not YAML": (write("extra.dvc", "outs: [unclosed\n"), "extra.dvc is not valid YAML"),
    "a .dvc file of another shape": (write("extra.dvc", "outs: 5\n"), "extra.dvc is not what dvc add writes"),
    "the exercise raises": (standardize_body("return (images - meen) / std"),
                           f"standardize fails: {EXERCISE}, line"),
    "the exercise with a syntax error": (standardize_body("return (images - mean / std"),
                                 "SyntaxError: '(' was never closed"),
    "the exercise loops": (standardize_body("while True:\n        pass"), "did not return within 10 s"),
    "transforms does not import": (replace(EXERCISE, "import numpy as np", "import numpyy as np"),
                                   "ModuleNotFoundError: No module named 'numpyy'"),
    "the exercise in float64": (standardize_body("return (images - mean) / std"),
                            "gives the right values as float64: return float32"),
    "the exercise of the wrong shape": (standardize_body("return images.ravel().astype(np.float32)"),
                                "returns shape (6,)"),
    "a stage name typo": (replace("dvc.yaml", "  download_mnist:", "  dowload_mnist:"),
                          "no stage download_mnist, but a stage dowload_mnist: a typo?"),
    "detached HEAD": (git_in("checkout", "-q", "--detach"), "Step 5: HEAD is not on a branch"),
    "no origin": (git_in("remote", "remove", "origin"), "the lab has no git remote origin"),
    "the remote only in config.local": (
        write(".dvc/config.local", "[core]\n    remote = mine\n['remote \"mine\"']\n    url = gs://dvc-workshop-cache/x\n"),
        "the remote is in .dvc/config.local"),
    "no repository": (lambda lab: shutil.rmtree(lab / ".git"), "is in no git repository"),
    "a dead endpoint": (lambda lab: None, "does not answer"),
    "a dvc command running": (dvc_running, "another dvc command is running in this lab (PID"),
}  # fmt: skip


def snapshot(lab: Path) -> tuple[str, dict[str, str]]:
    """git's view of the lab and the bytes of .dvc/ (its temporary folder aside)."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=lab, capture_output=True, text=True
    )
    files = {
        str(path.relative_to(lab)): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted((lab / ".dvc").rglob("*"))
        if path.is_file() and "tmp" not in path.relative_to(lab / ".dvc").parts
    }
    return status.stdout, files


@pytest.mark.parametrize("case", CORPUS)
def test_check_answers_any_broken_lab_at_once_and_changes_nothing(lab_at, case: str) -> None:
    lab, env = lab_at(4)  # a copy of the lab at the end of step 4, with an emulator of its own
    breakage, expected = CORPUS[case]
    breakage(lab)
    if case == "a dead endpoint":
        env = {**env, "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{free_port()}"}
    before = snapshot(lab) if (lab / ".git").exists() else None
    start = time.monotonic()
    result = subprocess.run([*WORKSHOP, "check"], cwd=lab, env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    took = time.monotonic() - start
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert took < 15, f"{took:.1f} s:\n{output}"
    if result.stderr:
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, output  # could not check
        assert result.stderr.startswith("error: "), output
    else:
        assert result.returncode == 1, output  # a step not done
        assert "\nStep " in result.stdout and "\nHint: " in result.stdout, output
    assert expected in output, output
    print(f"{case}: {took:.1f} s: {(result.stderr or result.stdout.split(chr(10) + 'Step ')[-1]).strip()}")
    if before is not None:
        assert snapshot(lab) == before
