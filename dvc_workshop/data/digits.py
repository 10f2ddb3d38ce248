"""What every data source gives and every stage passes on: one split of MNIST digits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMAGE_SIZE = 28  # MNIST images are 28x28 pixels
SPLITS = ("train", "test")


@dataclass(frozen=True)
class Digits:
    """One split of MNIST: uint8 images (N x 28 x 28) and their labels (N)."""

    images: np.ndarray
    labels: np.ndarray

    def head(self, limit: int | None) -> Digits:
        """The first `limit` digits (all of them for None)."""
        return self if limit is None else Digits(self.images[:limit], self.labels[:limit])
