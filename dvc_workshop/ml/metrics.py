"""Classification metrics of the evaluate stage, from scikit-learn.

Kept apart from the stage (and from TensorFlow), so the tests check every figure on small
hand-made inputs.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, log_loss, precision_recall_fscore_support

DECIMALS = 4  # enough to compare runs; fewer digits that flicker between machines
DIGITS = list(range(10))


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Loss, accuracy and per-class precision/recall/F1 of softmax outputs on labelled data."""
    predicted = probabilities.argmax(axis=1)
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=DIGITS, zero_division=0
    )
    return {
        "loss": round(float(log_loss(labels, probabilities, labels=DIGITS)), DECIMALS),
        "accuracy": round(float(accuracy_score(labels, predicted)), DECIMALS),
        "images": len(labels),
        "per_class": {
            str(digit): {
                "precision": round(float(precision[digit]), DECIMALS),
                "recall": round(float(recall[digit]), DECIMALS),
                "f1": round(float(f1[digit]), DECIMALS),
            }
            for digit in DIGITS
        },
    }
