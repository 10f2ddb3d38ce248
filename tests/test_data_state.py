"""The pure parts of mechanisms/data_state.py, in seconds: the stage's parameters valid, run,
committed, not git-ignored, checked in a tiny lab (real git, real sed), never DVC itself; each
hint that needs no DVC is run as printed and must reach what it promises.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dvc_workshop.lab.mechanisms.data_state import (
    check_committed,
    check_not_ignored,
    check_params,
    check_ran,
    commit_command,
    count,
    gitignore_beside,
)
from dvc_workshop.lab.mechanisms.stage_target import target
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem

from .conftest import REPO_ROOT, git
from .tiny_labs import bash, lab_with, make_lab


def test_the_commit_command_quotes_its_files_and_message_and_commits(tmp_path: Path) -> None:
    command = commit_command(["dvc.yaml", "my notes.txt"], "Stage train: ada's")
    assert command == "git add dvc.yaml 'my notes.txt' && git commit -m 'Stage train: ada'\"'\"'s'"
    lab = make_lab(tmp_path / "lab", {"dvc.yaml": "stages: {}\n"})
    (lab.root / "my notes.txt").write_text("notes\n")
    bash(command, lab.root)
    assert git(lab.root, "log", "-1", "--format=%s").strip() == "Stage train: ada's"
    assert git(lab.root, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("out", "gitignore"),
    [
        ("data/preprocess/", "data/.gitignore"),
        ("models/model.keras", "models/.gitignore"),
        ("metrics.json", ".gitignore"),
    ],
)
def test_an_output_s_gitignore_is_the_one_beside_it(out: str, gitignore: str) -> None:
    assert gitignore_beside(out) == gitignore


def test_count_says_file_or_files() -> None:
    assert [count([]), count(["a"]), count(["a", "b"])] == ["0 files", "1 file", "2 files"]


def test_an_invalid_parameter_is_named_and_git_checkout_puts_it_back(tmp_path: Path) -> None:
    params = (REPO_ROOT / "params.yaml").read_text()
    lab = lab_with(tmp_path, "train", extra={"params.yaml": params})
    (lab.root / "params.yaml").write_text(params.replace("  epochs: 8", "  epochs: 0"))
    with pytest.raises(Problem) as raised:
        check_params(lab, target(lab, "train"))
    assert raised.value.what == (
        "params.yaml: invalid parameter train.epochs: must be at least 1, got 0 "
        "(git diff params.yaml shows the change): dvc repro would stop there"
    )
    assert raised.value.hint == "git checkout params.yaml"
    bash(raised.value.hint, lab.root)
    check_params(Lab(lab.root), target(lab, "train"))


def test_a_stage_that_never_ran_says_so_with_or_without_dvc_lock(tmp_path: Path) -> None:
    lab = lab_with(tmp_path, "train")
    with pytest.raises(
        Problem, match=r"^there is no dvc.lock: stage train has not run yet \(or dvc.lock was"
    ):
        check_ran(lab, "train")
    (lab.root / "dvc.lock").write_text("schema: '2.0'\nstages:\n  download_mnist:\n    cmd: python\n")
    with pytest.raises(Problem) as raised:
        check_ran(Lab(lab.root), "train")
    assert (raised.value.what, raised.value.hint) == (
        "stage train has not run yet: dvc.lock has no entry for it",
        "dvc repro",
    )


def test_a_git_ignored_metrics_file_is_named_and_the_hint_commits_it(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", {"reports/.gitignore": "/metrics.json\n/per_class.csv\n"})
    (lab.root / "reports/metrics.json").write_text('{"accuracy": 0.97}\n')
    with pytest.raises(Problem) as raised:
        check_not_ignored(lab, ["reports/metrics.json", "dvc.lock"], "Stage evaluate")
    assert raised.value.what == (
        "reports/metrics.json is git-ignored (line 1 of reports/.gitignore: /metrics.json), "
        "so git cannot commit it"
    )
    assert raised.value.hint == (
        "sed -i.bak '/^\\/metrics\\.json$/d' reports/.gitignore && rm reports/.gitignore.bak && "
        "git add reports/.gitignore reports/metrics.json && git commit -m 'Stage evaluate'"
    )
    bash(raised.value.hint, lab.root)
    assert git(lab.root, "ls-files", "reports").split() == ["reports/.gitignore", "reports/metrics.json"]
    assert (lab.root / "reports/.gitignore").read_text() == "/per_class.csv\n"
    check_not_ignored(Lab(lab.root), ["reports/metrics.json"], "Stage evaluate")


def test_a_file_a_negated_pattern_brings_back_is_not_ignored(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", {".gitignore": "/reports/*\n!/reports/metrics.json\n"})
    (lab.root / "reports").mkdir()
    (lab.root / "reports/metrics.json").write_text("{}\n")
    check_not_ignored(lab, ["reports/metrics.json"], "Stage evaluate")


def test_an_uncommitted_parameter_change_is_committed_by_the_hint(tmp_path: Path) -> None:
    params = (REPO_ROOT / "params.yaml").read_text()
    extra = {
        "params.yaml": params,
        "models/.gitignore": "/model.keras\n",
        "dvclive/.gitignore": "/plots\n/metrics.json\n",
    }
    lab = lab_with(tmp_path, "train", extra=extra)
    stage = target(lab, "train")
    check_committed(lab, "train", stage)
    (lab.root / "params.yaml").write_text(params.replace("  epochs: 8", "  epochs: 3"))
    lab = Lab(lab.root)
    with pytest.raises(Problem) as raised:
        check_committed(lab, "train", stage)
    assert raised.value.what == "params.yaml has changes that are not committed (stage train)"
    assert raised.value.hint == "git add params.yaml && git commit -m 'New results of train'"
    bash(raised.value.hint, lab.root)
    check_committed(Lab(lab.root), "train", stage)


def test_an_output_s_gitignore_line_not_committed_is_written_and_committed(tmp_path: Path) -> None:
    extra = {"models/.gitignore": "/other\n", "dvclive/.gitignore": "/plots\n/metrics.json\n"}
    lab = lab_with(tmp_path, "train", extra=extra)
    stage = target(lab, "train")
    with pytest.raises(Problem) as raised:
        check_committed(lab, "train", stage)
    assert raised.value.what == (
        "models/.gitignore in the last commit does not list /model.keras: git would offer models/model.keras"
    )
    assert raised.value.hint == (
        "echo /model.keras >> models/.gitignore && git add models/.gitignore && "
        "git commit -m 'Ignore models/model.keras'"
    )
    bash(raised.value.hint, lab.root)
    assert (lab.root / "models/.gitignore").read_text() == "/other\n/model.keras\n"
    check_committed(Lab(lab.root), "train", stage)
