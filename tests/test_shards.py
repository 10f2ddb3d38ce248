"""PNG bytes and zip shards: what any PNG reader sees, and what comes back after a round trip."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dvc_workshop.mnist import Digits
from dvc_workshop.pipeline.download_mnist import write_labels, write_shards
from dvc_workshop.pipeline.preprocess import read_images, read_labels
from dvc_workshop.png import PngError, decode_png, encode_png
from dvc_workshop.shards import IMAGES_PER_SHARD, MIN_IMAGES_PER_PROCESS, usable_cpus

from .conftest import random_digits


def test_encoded_png_reads_back_identically_in_pillow() -> None:
    images, _ = random_digits(5, 3)
    images[0] = 0  # all black, and a typical digit: ink on an empty background
    images[1, 10:18, 12:16] = 255
    for image in images:
        data = encode_png(image)
        with Image.open(io.BytesIO(data)) as png:
            png.load()  # checks every chunk's CRC and the compressed stream
            assert png.format == "PNG" and png.mode == "L" and png.size == (28, 28)
            assert np.array_equal(np.asarray(png), image)
        assert np.array_equal(decode_png(data, 28), image)


@pytest.mark.parametrize("optimize", [False, True])
def test_decode_reads_pngs_from_other_writers(optimize: bool) -> None:
    """Pillow filters rows (Sub, Up, Paeth...): those take the Pillow route and still decode."""
    image = np.tile(np.arange(28, dtype=np.uint8) * 9, (28, 1))
    stream = io.BytesIO()
    Image.fromarray(image, mode="L").save(stream, format="PNG", optimize=optimize)
    assert np.array_equal(decode_png(stream.getvalue(), 28), image)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a png", "unreadable image"),
        (encode_png(np.zeros((28, 28), np.uint8))[:-30], "unreadable image"),
        (encode_png(np.zeros((20, 28), np.uint8)), "expected a 28x28 greyscale (L) PNG, got 28x20 L"),
    ],
    ids=["garbage", "truncated", "wrong size"],
)
def test_decode_rejects_what_is_not_a_28x28_greyscale_png(data: bytes, message: str) -> None:
    with pytest.raises(PngError, match=re.escape(message)):
        decode_png(data, 28)


def test_encode_refuses_arrays_that_are_not_greyscale_images() -> None:
    with pytest.raises(ValueError, match="2-D uint8"):
        encode_png(np.zeros((28, 28), np.float32))


def test_shards_round_trip_in_parallel_in_table_order(tmp_path: Path) -> None:
    """More images than one shard holds: several processes write and read, order is kept."""
    train = Digits(*random_digits(2 * IMAGES_PER_SHARD + 7, 4))
    test = Digits(*random_digits(11, 5))
    write_shards({"train": train, "test": test}, tmp_path)
    write_labels({"train": train, "test": test}, tmp_path / "labels.csv")
    assert sorted(p.name for p in tmp_path.glob("*.zip")) == [
        "test-00.zip", "train-00.zip", "train-01.zip", "train-02.zip"
    ]  # fmt: skip
    with zipfile.ZipFile(tmp_path / "train-02.zip") as shard:
        assert shard.namelist() == [f"train/{i:05d}.png" for i in range(10000, 10007)]
    angles = np.zeros(len(train.labels))
    counts, images = read_images(tmp_path, read_labels(tmp_path / "labels.csv"), angles)
    assert [len(part) for part in images["train"]] == [IMAGES_PER_SHARD, IMAGES_PER_SHARD, 7]
    assert np.array_equal(np.concatenate(images["train"]), train.images)
    assert np.array_equal(np.concatenate(images["test"]), test.images)
    assert images["train"][0].dtype == np.float32
    assert np.array_equal(counts, np.bincount(train.images.ravel(), minlength=256))


def test_shards_are_byte_identical_when_written_again(tmp_path: Path) -> None:
    digits = Digits(*random_digits(IMAGES_PER_SHARD + 1, 6))
    (tmp_path / "first").mkdir(), (tmp_path / "again").mkdir()
    write_shards({"train": digits}, tmp_path / "first")
    write_shards({"train": digits}, tmp_path / "again")
    for shard in (tmp_path / "first").iterdir():
        assert shard.read_bytes() == (tmp_path / "again" / shard.name).read_bytes()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity masks are Linux-only")
def test_shards_do_not_depend_on_the_number_of_processes(tmp_path: Path) -> None:
    digits = Digits(*random_digits(2 * MIN_IMAGES_PER_PROCESS + 3, 7))  # enough for two processes
    (tmp_path / "parallel").mkdir(), (tmp_path / "one").mkdir()
    write_shards({"train": digits}, tmp_path / "parallel")  # a spawned process per usable core
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})  # as under `taskset -c 0`: one core, so no pool
    try:
        assert usable_cpus() == 1
        write_shards({"train": digits}, tmp_path / "one")
    finally:
        os.sched_setaffinity(0, allowed)
    shards = sorted(p.name for p in (tmp_path / "parallel").iterdir())
    assert shards == sorted(p.name for p in (tmp_path / "one").iterdir()) and len(shards) == 5
    for name in shards:
        assert (tmp_path / "parallel" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
