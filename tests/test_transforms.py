"""The preprocess stage's pure transforms, against hand-checked values and scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import rotate as skimage_rotate

from dvc_workshop.transforms import (
    center_crop,
    pixel_counts,
    random_angles,
    rotate,
    standardization_stats,
    standardize,
)


def standardized(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """`standardize`, with a hint for the workshop exercise that blanks it out."""
    try:
        return standardize(images, mean, std)
    except NotImplementedError:
        pytest.fail(
            "implement standardize(images, mean, std) in dvc_workshop/transforms.py: subtract the "
            "mean, divide by the standard deviation, return float32 (README: 'Exercise')",
            pytrace=False,
        )


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(6, 28, 28)).astype(np.uint8)


def test_standardize_gives_zero_mean_and_unit_variance_on_the_fitted_data(images) -> None:
    mean, std = standardization_stats(pixel_counts(images))
    scaled = standardized(images, mean, std)
    assert scaled.dtype == np.float32
    assert scaled.mean() == pytest.approx(0.0, abs=1e-5)
    assert scaled.std() == pytest.approx(1.0, abs=1e-5)


def test_standardize_applies_the_given_statistics_not_its_own() -> None:
    pixels = np.array([[[0, 10], [20, 30]]], dtype=np.uint8)
    assert standardized(pixels, mean=10.0, std=5.0).tolist() == [[[-2.0, 0.0], [2.0, 4.0]]]


def test_standardization_stats_are_the_pixel_mean_and_std() -> None:
    pixels = np.array([[[0, 255], [255, 0]]], dtype=np.uint8)
    assert standardization_stats(pixel_counts(pixels)) == (127.5, 127.5)


def test_pixel_counts_of_batches_add_up_to_the_stats_of_all(images) -> None:
    counts = pixel_counts(images[:2]) + pixel_counts(images[2:])
    mean, std = standardization_stats(counts)
    pixels = images.astype(np.float64)
    assert mean == pytest.approx(pixels.mean(), rel=1e-12) and std == pytest.approx(pixels.std(), rel=1e-12)


def test_rotating_before_standardizing_equals_the_other_order(images) -> None:
    """Rotation is linear with weights summing to 1, so the order does not matter (up to rounding)."""
    angles = random_angles(len(images), 15.0, seed=1)
    mean, std = standardization_stats(pixel_counts(images))
    background = float(standardize(np.zeros(1), mean, std)[0])
    first = standardized(rotate(images, angles), mean, std)
    assert np.allclose(first, rotate(standardized(images, mean, std), angles, fill=background), atol=1e-5)


def test_rotate_by_zero_degrees_is_the_identity(images) -> None:
    assert np.array_equal(rotate(images, np.zeros(len(images))), images.astype(np.float32))


def test_rotate_by_90_degrees_matches_numpy_rot90(images) -> None:
    turned = rotate(images, np.full(len(images), 90.0))
    assert np.allclose(turned, np.rot90(images, k=1, axes=(1, 2)), atol=1e-3)


@pytest.mark.parametrize("angle", [7.5, -12.0, 33.0, 180.0])
def test_rotate_matches_scikit_image_bilinear_rotation(images, angle) -> None:
    fill = -0.4
    ours = rotate(images, np.full(len(images), angle), fill=fill)
    reference = np.stack(
        [
            skimage_rotate(
                image.astype(np.float64), angle, order=1, mode="constant", cval=fill, preserve_range=True
            )
            for image in images
        ]
    )
    assert np.abs(ours - reference).max() < 1e-3


def test_rotate_gives_each_image_its_own_angle(images) -> None:
    angles = np.array([0.0, 90.0, 0.0, 90.0, 0.0, 90.0])
    turned = rotate(images, angles)
    assert np.array_equal(turned[0], images[0])
    assert np.allclose(turned[1], np.rot90(images[1]), atol=1e-3)


def test_random_angles_are_seeded_and_bounded() -> None:
    first, again, other = (
        random_angles(1000, 15, seed=3),
        random_angles(1000, 15, seed=3),
        random_angles(1000, 15, 4),
    )
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.min() >= -15 and first.max() <= 15 and first.std() > 5


def test_same_seed_gives_byte_identical_rotations(images) -> None:
    once = rotate(images, random_angles(len(images), 20, seed=1))
    twice = rotate(images, random_angles(len(images), 20, seed=1))
    assert once.tobytes() == twice.tobytes()


def test_center_crop_keeps_the_middle() -> None:
    grid = np.arange(36).reshape(1, 6, 6)
    assert center_crop(grid, 2).tolist() == [[[14, 15], [20, 21]]]
    assert center_crop(grid, 6).shape == (1, 6, 6)
    with pytest.raises(ValueError, match="crop size 7 does not fit 6x6"):
        center_crop(grid, 7)
