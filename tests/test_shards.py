"""PNG shards: what any PNG reader sees, and what comes back after a round trip."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dvc_workshop.data.digits import Digits
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.data.parallel import MIN_IMAGES_PER_PROCESS, usable_cpus
from dvc_workshop.data.shards import IMAGES_PER_SHARD, read_images, read_shard, write_images, write_shard

from .conftest import random_digits


def write_shards(splits: dict[str, Digits], folder: Path) -> None:
    write_images(splits, folder, folder / "labels.csv")


def test_shard_members_are_pngs_any_reader_opens(tmp_path: Path) -> None:
    images, _ = random_digits(5, 3)
    images[0] = 0  # all black, and a typical digit: ink on an empty background
    images[1, 10:18, 12:16] = 255
    names = [f"train/{i:05d}.png" for i in range(5)]
    write_shard(tmp_path / "train-00.zip", names, images)
    with zipfile.ZipFile(tmp_path / "train-00.zip") as shard:
        assert shard.namelist() == names
        for name, image in zip(names, images, strict=True):
            assert shard.getinfo(name).compress_type == zipfile.ZIP_STORED
            with Image.open(io.BytesIO(shard.read(name))) as png:
                png.load()  # checks every chunk's CRC and the compressed stream
                assert png.format == "PNG" and png.mode == "L" and png.size == (28, 28)
                assert np.array_equal(np.asarray(png), image)
    assert np.array_equal(read_shard(tmp_path / "train-00.zip", names), images)


def shard_with(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train/00000.png", data)
    return path


def png(mode: str, size: tuple[int, int]) -> bytes:
    stream = io.BytesIO()
    Image.new(mode, size).save(stream, format="PNG")
    return stream.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a png", "bad.zip:train/00000.png: unreadable image"),
        (png("L", (28, 28))[:-30], "bad.zip:train/00000.png: unreadable image"),
        (png("L", (28, 20)), "expected a 28x28 greyscale (L) PNG, got 28x20 L"),
        (png("RGB", (28, 28)), "expected a 28x28 greyscale (L) PNG, got 28x28 RGB"),
        (bytes(100_000), "100000 bytes, too large for a digit"),
    ],
    ids=["garbage", "truncated", "wrong size", "colour", "too large"],
)
def test_read_refuses_what_is_not_a_28x28_greyscale_png(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(WorkshopError, match=re.escape(message)):
        read_shard(shard_with(tmp_path, data), ["train/00000.png"])


def test_shards_round_trip_in_parallel_in_table_order(tmp_path: Path) -> None:
    """More images than one shard holds: several processes write and read, order is kept."""
    train = Digits(*random_digits(2 * IMAGES_PER_SHARD + 7, 4))
    test = Digits(*random_digits(11, 5))
    write_shards({"train": train, "test": test}, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.zip")) == [
        "test-00.zip", "train-00.zip", "train-01.zip", "train-02.zip"
    ]  # fmt: skip
    with zipfile.ZipFile(tmp_path / "train-02.zip") as shard:
        assert shard.namelist() == [f"train/{i:05d}.png" for i in range(10000, 10007)]
    splits = read_images(tmp_path, tmp_path / "labels.csv")
    for split, digits in (("train", train), ("test", test)):
        assert splits[split].images.dtype == np.uint8
        assert np.array_equal(splits[split].images, digits.images)
        assert np.array_equal(splits[split].labels, digits.labels)


def test_shards_are_byte_identical_when_written_again(tmp_path: Path) -> None:
    digits = Digits(*random_digits(IMAGES_PER_SHARD + 1, 6))
    (tmp_path / "first").mkdir(), (tmp_path / "again").mkdir()
    write_shards({"train": digits}, tmp_path / "first")
    write_shards({"train": digits}, tmp_path / "again")
    for shard in (tmp_path / "first").iterdir():  # the shards and labels.csv
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
    shards = sorted(p.name for p in (tmp_path / "parallel").iterdir())  # the shards and labels.csv
    assert shards == sorted(p.name for p in (tmp_path / "one").iterdir()) and len(shards) == 6
    for name in shards:
        assert (tmp_path / "parallel" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
