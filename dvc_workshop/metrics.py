"""Classification metrics from predicted probabilities, in plain numpy.

Kept apart from the evaluate stage (and from TensorFlow) so the tests can check every figure
against an independent implementation on small hand-made inputs.
"""

from __future__ import annotations

import numpy as np

DECIMALS = 4  # enough to compare runs; fewer digits that flicker between machines


def confusion_matrix(actual: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """counts[i, j]: how many images of class i were predicted as class j."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (actual, predicted), 1)
    return counts


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Loss, accuracy and per-class precision/recall/F1 of softmax outputs on labelled data."""
    classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    counts = confusion_matrix(labels, predicted, classes)
    hits = np.diag(counts).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(hits / counts.sum(axis=0))
        recall = np.nan_to_num(hits / counts.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    per_class = {
        str(digit): {
            "precision": round(float(precision[digit]), DECIMALS),
            "recall": round(float(recall[digit]), DECIMALS),
            "f1": round(float(f1[digit]), DECIMALS),
        }
        for digit in range(classes)
    }
    return {
        "loss": round(float(-np.log(picked).mean()), DECIMALS),
        "accuracy": round(float((predicted == labels).mean()), DECIMALS),
        "images": len(labels),
        "per_class": per_class,
    }
