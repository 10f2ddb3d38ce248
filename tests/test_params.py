"""params.yaml validation: the repository's file is valid, and each bad value is named; and the
file is written as DVC writes it back, so that `dvc exp run -S` changes one line of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dvc_workshop.params import (
    DownloadParams,
    ParamsError,
    PreprocessParams,
    TrainParams,
    load_section,
    parse_section,
)

from .conftest import REPO_ROOT, dvc, git

SECTIONS = {"download_mnist": DownloadParams, "preprocess": PreprocessParams, "train": TrainParams}


def repo_params() -> dict:
    return yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


@pytest.mark.parametrize("section", SECTIONS)
def test_repository_params_are_valid(section) -> None:
    params = load_section(REPO_ROOT / "params.yaml", section, SECTIONS[section])
    assert isinstance(params, SECTIONS[section])


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        (
            "preprocess",
            "crop_size",
            40,
            "preprocess.crop_size: must be at most 28, got 40",
        ),
        ("preprocess", "crop_size", 0, "preprocess.crop_size"),
        ("preprocess", "max_rotation", -5.0, "preprocess.max_rotation: must be at least 0.0, got -5.0"),
        ("train", "epochs", -1, "train.epochs: must be at least 1, got -1"),
        ("train", "epochs", 2.5, "train.epochs: expected an integer, got 2.5"),
        ("train", "epochs", True, "train.epochs: expected an integer, got True"),
        ("train", "learning_rate", "fast", "train.learning_rate: expected a number, got 'fast'"),
        ("train", "learning_rate", 0, "train.learning_rate: must be greater than 0.0, got 0"),
        ("train", "dropout", 1.0, "train.dropout: must be less than 1.0, got 1.0"),
        ("train", "filters", [], r"train.filters: must not be empty, got \[\]"),
        ("train", "filters", [32, "x"], "train.filters.1: expected an integer, got 'x'"),
        ("train", "filters", [32, 0], "train.filters.1: must be at least 1, got 0"),
        ("train", "validation_fraction", 1.5, "train.validation_fraction"),
        (
            "download_mnist",
            "source",
            "s3://bucket/mnist",
            "download_mnist.source: unknown source 's3://bucket/mnist'",
        ),
        ("download_mnist", "source", "  ", "download_mnist.source: must not be empty"),
        ("download_mnist", "test_fraction", 0.0, "download_mnist.test_fraction: must be greater than 0.0"),
        (
            "download_mnist",
            "limit_per_split",
            0,
            "download_mnist.limit_per_split: must be at least 1, got 0",
        ),
        ("download_mnist", "seed", -3, "download_mnist.seed: must be at least 0, got -3"),
    ],
)
def test_invalid_values_name_the_parameter(section, key, value, message) -> None:
    raw = {**repo_params()[section], key: value}
    with pytest.raises(ParamsError, match=f"invalid parameter {message}"):
        parse_section(section, raw, SECTIONS[section])


def test_unknown_and_missing_parameters_are_named() -> None:
    raw = repo_params()["train"]
    with pytest.raises(ParamsError, match="invalid parameter train.epoch: unknown parameter"):
        parse_section("train", {**raw, "epoch": 3}, TrainParams)
    del raw["batch_size"]
    with pytest.raises(ParamsError, match="invalid parameter train.batch_size: missing"):
        parse_section("train", raw, TrainParams)


def test_remote_and_local_sources_are_accepted() -> None:
    raw = repo_params()["download_mnist"]
    sources = ["gs://dvc-workshop-raw/mnist", "remote://dvc-workshop-raw/mnist", "https://example.org/mnist"]
    for source in [*sources, "../shared/data/mnist", "sources/mnist-sample.yaml"]:
        assert parse_section("download_mnist", {**raw, "source": source}, DownloadParams).source == source


def test_unreadable_params_files_are_reported(tmp_path) -> None:
    with pytest.raises(ParamsError, match="params file not found"):
        load_section(tmp_path / "nope.yaml", "train", TrainParams)
    (tmp_path / "bad.yaml").write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match="bad.yaml is not valid YAML"):
        load_section(tmp_path / "bad.yaml", "train", TrainParams)
    (tmp_path / "empty.yaml").write_text("preprocess: {}\n")
    with pytest.raises(ParamsError, match="has no 'train' section"):
        load_section(tmp_path / "empty.yaml", "train", TrainParams)


def params_diff(repo: Path) -> list[str]:
    """The lines of params.yaml that differ from the last commit, as `git diff` shows them."""
    diff = git(repo, "diff", "--unified=0", "HEAD", "--", "params.yaml").splitlines()
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


# `dvc exp run -S` loads params.yaml with ruamel's round trip, replaces every value (lists and
# null too) and dumps it again (dvc/utils/hydra.py apply_overrides): a flow list `[16, 64]` came
# back one entry a line and `null` empty, 8 lines of diff for one parameter.
@pytest.mark.slow  # real DVC: 7 s a case
@pytest.mark.parametrize(
    ("override", "diff"),
    [
        ("train.dropout=0.35", ["-  dropout: 0.3", "+  dropout: 0.35"]),
        ("train.filters=[16,32]", ["-  - 64", "+  - 32"]),  # the list's entries, one a line
        ("download_mnist.limit_per_split=300", [
            "-  limit_per_split:  # empty: every image; an integer N keeps only the first N of each split",
            "+  limit_per_split: 300 # empty: every image; an integer N keeps only the first N of each split",
        ]),
    ],
)  # fmt: skip
def test_dvc_exp_run_set_param_changes_only_its_line(tmp_path: Path, override: str, diff: list[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Ada Attendee")  # in the repository: DVC's libgit2 reads it there
    git(repo, "config", "user.email", "ada@example.com")
    dvc("init", "-q", cwd=repo)
    shutil.copy(REPO_ROOT / "params.yaml", repo / "params.yaml")
    stage = {"cmd": "echo", "params": list(SECTIONS)}  # fast: the stage only depends on the params
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"echo": stage}}))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "params")
    dvc("exp", "run", "-n", "one-line", "-S", override, cwd=repo)
    assert params_diff(repo) == diff
    git(repo, "reset", "-q", "--hard")  # back to the commit; `dvc exp apply` writes the same file
    dvc("exp", "apply", "one-line", cwd=repo)
    assert params_diff(repo) == diff
