"""The image transforms of the preprocess stage: standardize, rotate, crop.

Each takes and returns numpy arrays of shape (N, height, width) and touches no files, so the
tests (and the workshop's standardization exercise) can check them on tiny arrays.
"""

from __future__ import annotations

import numpy as np
from skimage.transform import rotate as rotate_image


def standardize(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Shift and scale pixels to zero mean and unit variance (given the training statistics)."""
    return (images.astype(np.float32) - np.float32(mean)) / np.float32(std)


def random_angles(count: int, max_degrees: float, seed: int) -> np.ndarray:
    """One angle per image, uniform in [-max_degrees, +max_degrees], reproducible from `seed`."""
    return np.random.default_rng(seed).uniform(-max_degrees, max_degrees, size=count)


def rotate(images: np.ndarray, angles: np.ndarray, background: float) -> np.ndarray:
    """Turn each image counter-clockwise by its angle (degrees) about its centre.

    Bilinear interpolation (order=1); the corners that turn in from outside take `background`.
    """
    turned = [
        rotate_image(image, angle, order=1, mode="constant", cval=background, preserve_range=True)
        for image, angle in zip(images, angles, strict=True)
    ]
    return np.array(turned, dtype=np.float32).reshape(images.shape)


def center_crop(images: np.ndarray, size: int) -> np.ndarray:
    """Keep the centred `size` x `size` square of each image (MNIST digits sit in the middle)."""
    height, width = images.shape[1:]
    if not 1 <= size <= min(height, width):
        raise ValueError(f"crop size {size} does not fit {height}x{width} images")
    top, left = (height - size) // 2, (width - size) // 2
    return images[:, top : top + size, left : left + size]
