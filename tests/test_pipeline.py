"""The real `dvc repro` in a fresh git repository: what runs, what is cached, what is stable."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import pytest

from .conftest import dvc, git, set_params

pytestmark = pytest.mark.slow

STAGES = ["download_mnist", "preprocess", "train", "evaluate"]


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", output)


def test_repro_caches_everything_and_reruns_only_what_changed(repo_copy: Path) -> None:
    set_params(repo_copy, "download_mnist", limit_per_split=400)
    set_params(repo_copy, "train", epochs=2, batch_size=32)  # 360 images: 12 steps an epoch
    git(repo_copy, "commit", "-qam", "small run")

    first = dvc("repro", cwd=repo_copy)
    assert stages_run(first.stdout) == STAGES
    metrics = json.loads((repo_copy / "reports/metrics.json").read_text())["test"]
    assert metrics["images"] == 400 and metrics["accuracy"] > 0.5
    assert (repo_copy / "reports/per_class.csv").read_text().count("\n") == 11  # header + 10 digits
    assert "test.accuracy" in dvc("metrics", "show", cwd=repo_copy).stdout.replace(" ", ".")
    git(repo_copy, "add", "-A")
    git(repo_copy, "commit", "-qm", "results")

    # Nothing changed: nothing runs, and the workspace stays exactly as committed.
    assert "Data and pipelines are up to date" in dvc("status", cwd=repo_copy).stdout
    again = dvc("repro", cwd=repo_copy)
    assert stages_run(again.stdout) == [] and "didn't change, skipping" in again.stdout
    assert git(repo_copy, "status", "--porcelain") == ""

    dag = dvc("dag", "--dot", cwd=repo_copy).stdout
    edges = re.findall(r'"(\w+)" -> "(\w+)"', dag)
    chain = list(itertools.pairwise(STAGES))  # evaluate also reads the test split
    assert sorted(edges) == sorted([*chain, ("preprocess", "evaluate")])

    # A train parameter reruns train and evaluate only.
    set_params(repo_copy, "train", dense_units=64)
    assert stages_run(dvc("repro", cwd=repo_copy).stdout) == ["train", "evaluate"]
    # Going back needs no training at all: DVC's run cache restores the earlier outputs.
    git(repo_copy, "checkout", "params.yaml")
    back = dvc("repro", cwd=repo_copy)
    assert stages_run(back.stdout) == [] and "Stage 'train' is cached" in back.stdout
    assert git(repo_copy, "status", "--porcelain") == ""

    # Editing preprocess.py reruns preprocess, and whatever its changed output feeds.
    module = repo_copy / "dvc_workshop/pipeline/preprocess.py"
    source = module.read_text()
    module.write_text(source.replace('"std": std}', '"std": std, "edited": True}'))
    assert stages_run(dvc("repro", cwd=repo_copy).stdout) == ["preprocess", "train", "evaluate"]
    # An edit that leaves the output byte-identical stops there: train sees the same data.
    module.write_text(source + "\n# a comment\n")
    assert stages_run(dvc("repro", cwd=repo_copy).stdout) == ["preprocess"]
    git(repo_copy, "checkout", ".")

    # Cold run: no cache, no outputs. Same bytes, so dvc.lock and the metrics do not change.
    for path in ("data", "models", "dvclive", "reports", ".dvc/cache"):
        shutil.rmtree(repo_copy / path)
    cold = dvc("repro", cwd=repo_copy)
    assert stages_run(cold.stdout) == STAGES
    assert git(repo_copy, "status", "--porcelain") == ""
