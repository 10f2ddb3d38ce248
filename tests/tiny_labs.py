"""Tiny labs for the fast tests of the lab tool's mechanisms: a few files committed as a lab's first
commit, this repository as its reference (its dvc.yaml the targets), real git; and a hint's shell
line run as printed. No DVC: each lab takes a few git commands, milliseconds.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from dvc_workshop.lab.mechanisms.stage_target import check_definition
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import START_MESSAGE
from dvc_workshop.lab.model.problem import Problem

from .conftest import REPO_ROOT, git

REFERENCE_STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
IDENTITY = {"user.name": "Ada Attendee", "user.email": "ada@example.com"}


def make_lab(root: Path, files: dict[str, str]) -> Lab:
    """A lab as `workshop start` leaves one: these files in its first commit, this repository its
    reference (its dvc.yaml the targets), ada its attendee."""
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    with (root / ".git/config").open("a") as config:  # as `git config` writes them, in one go
        config.write(f"[user]\n\tname = {IDENTITY['user.name']}\n\temail = {IDENTITY['user.email']}\n")
        config.write(f"[workshop]\n\treference = {REPO_ROOT}\n\tname = ada\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", START_MESSAGE)
    return Lab(root)


def entry(name: str, **changes: object) -> dict:
    """The reference's own dvc.yaml entry of stage `name`, some fields changed (None: left out)."""
    stage = copy.deepcopy(REFERENCE_STAGES[name])
    for key, value in changes.items():
        if value is None:
            stage.pop(key, None)
        else:
            stage[key] = value
    return stage


def lab_with(tmp_path: Path, name: str, extra: dict[str, str] | None = None, **changes: object) -> Lab:
    """A lab whose dvc.yaml has stage `name` as the reference has it, but for `changes`."""
    dvc_yaml = yaml.safe_dump({"stages": {name: entry(name, **changes)}}, sort_keys=False)
    return make_lab(tmp_path / "lab", {"dvc.yaml": dvc_yaml, **(extra or {})})


def problem_of(lab: Lab, name: str, reveal: bool = True) -> Problem:
    with pytest.raises(Problem) as raised:
        check_definition(lab, name, reveal)
    return raised.value


def bash(command: str, cwd: Path) -> str:
    """A hint's shell line run as printed (bash -euo pipefail, as `workshop solution` runs blocks)."""
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{command}\n{result.stderr}"
    return result.stdout


PARAMS = (REPO_ROOT / "params.yaml").read_text()


def line_starting(prefix: str) -> str:
    """The reference's params.yaml line that starts so (the first one)."""
    return next(line for line in PARAMS.splitlines() if line.startswith(prefix))


def params_with(*changes: tuple[str, str]) -> str:
    """The reference's params.yaml with some of its lines changed (each found exactly once)."""
    text = PARAMS
    for old, new in changes:
        assert text.count(f"\n{old}\n") == 1, old
        text = text.replace(f"\n{old}\n", f"\n{new}\n")
    return text


# The reference's download stage as its `dvc stage add -f` line: a hint that reaches it.
DOWNLOAD_LINE = (
    "dvc stage add -f -n download_mnist -p download_mnist -d '${download_mnist.source}' "
    "-d dvc_workshop/pipeline/download_mnist.py -d dvc_workshop/data -d dvc_workshop/params.py "
    "-d dvc_workshop/cli.py -o data/download_mnist/Images -o data/download_mnist/labels.csv "
    "python -m dvc_workshop.pipeline.download_mnist --images-dir data/download_mnist/Images "
    "--labels data/download_mnist/labels.csv"
)
