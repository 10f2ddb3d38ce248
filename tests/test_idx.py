"""IDX parsing: the happy path and every way a raw MNIST file can be broken."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, check_pair, encode_idx, parse_idx
from dvc_workshop.data.sources import load_idx

from .conftest import SHARED_MNIST, random_digits, write_idx_folder


def test_round_trip_of_images_and_labels() -> None:
    images, labels = random_digits(7, seed=0)
    assert np.array_equal(parse_idx(encode_idx(images), IMAGES_MAGIC), images)
    assert np.array_equal(parse_idx(encode_idx(labels), LABELS_MAGIC), labels)


def test_header_is_the_documented_big_endian_layout() -> None:
    data = encode_idx(np.zeros((3, 28, 28), dtype=np.uint8))
    assert struct.unpack(">IIII", data[:16]) == (0x803, 3, 28, 28)
    assert len(data) == 16 + 3 * 28 * 28


def test_wrong_magic_is_rejected() -> None:
    labels_file = encode_idx(np.arange(10, dtype=np.uint8))
    with pytest.raises(IdxError, match="wrong magic number 0x00000801, expected 0x00000803"):
        parse_idx(labels_file, IMAGES_MAGIC)


def test_truncated_pixel_data_is_rejected() -> None:
    data = encode_idx(random_digits(5, seed=0)[0])
    with pytest.raises(IdxError, match="truncated: header promises shape \\(5, 28, 28\\)"):
        parse_idx(data[:-100], IMAGES_MAGIC)


def test_header_promising_more_images_than_present_is_rejected() -> None:
    data = bytearray(encode_idx(random_digits(5, seed=0)[0]))
    data[4:8] = struct.pack(">I", 6)
    with pytest.raises(IdxError, match="truncated"):
        parse_idx(bytes(data), IMAGES_MAGIC)


def test_trailing_bytes_and_short_headers_are_rejected() -> None:
    data = encode_idx(np.arange(4, dtype=np.uint8))
    with pytest.raises(IdxError, match="3 unexpected bytes"):
        parse_idx(data + b"abc", LABELS_MAGIC)
    with pytest.raises(IdxError, match="too short"):
        parse_idx(b"", LABELS_MAGIC)
    with pytest.raises(IdxError, match="header cut short"):
        parse_idx(encode_idx(np.zeros((2, 28, 28), dtype=np.uint8))[:10], IMAGES_MAGIC)


def test_image_and_label_counts_must_agree() -> None:
    images, labels = random_digits(5, seed=0)
    with pytest.raises(IdxError, match="5 images but 4 labels"):
        check_pair(images, labels[:4])


def test_labels_must_be_digits() -> None:
    images, labels = random_digits(5, seed=0)
    labels[2] = 12
    with pytest.raises(IdxError, match="label 12 is not a digit"):
        check_pair(images, labels)


def test_load_idx_reads_a_folder_of_gzip_files(idx_folder) -> None:
    splits = load_idx(str(idx_folder))
    assert splits["train"].images.shape == (30, 28, 28)
    assert splits["test"].labels.shape == (20,)
    assert np.array_equal(splits["test"].images, random_digits(20, 2)[0])


def test_load_idx_names_the_broken_file(tmp_path) -> None:
    folder = write_idx_folder(tmp_path, {"train": random_digits(3, 1), "test": random_digits(3, 2)})
    good = (folder / "t10k-images-idx3-ubyte.gz").read_bytes()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(WorkshopError, match="t10k-images-idx3-ubyte.gz: not a complete gzip file"):
        load_idx(str(folder))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 8))
    with pytest.raises(WorkshopError, match="t10k-images-idx3-ubyte.gz: header cut short"):
        load_idx(str(folder))


def test_load_idx_checks_every_file_exists_before_reading(tmp_path) -> None:
    folder = write_idx_folder(tmp_path, {"train": random_digits(3, 1), "test": random_digits(3, 2)})
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(WorkshopError, match="missing source file: .*t10k-labels-idx1-ubyte.gz"):
        load_idx(str(folder))


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="full MNIST not present at ../shared/data/mnist")
def test_full_mnist_has_the_canonical_split() -> None:
    splits = load_idx(str(SHARED_MNIST))
    assert splits["train"].images.shape == (60000, 28, 28)
    assert splits["test"].images.shape == (10000, 28, 28)
    # Published class counts of the MNIST test set, for a check beyond the shapes.
    assert np.bincount(splits["test"].labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
