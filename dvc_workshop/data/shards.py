"""The downloaded images: one greyscale PNG per digit, 5,000 to a zip shard, and a labels table.

DVC handles each file of a tracked folder one by one (hash, state lookup, cache copy, upload),
which costs tens of seconds on every `dvc repro`, `dvc status` and `dvc push` for 70,000 loose
PNGs. Packed 5,000 to a zip, the full MNIST is 14 files for DVC and still one PNG per digit for
people: any zip tool opens a shard, and unzipping them all gives `train/00000.png`, ... The
labels table (`shard,image,label,split`) says where each image lives, so no stage guesses it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from itertools import groupby
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from dvc_workshop.data.arrays import zip_entry
from dvc_workshop.data.digits import IMAGE_SIZE, SPLITS, Digits
from dvc_workshop.data.errors import WorkshopError, short
from dvc_workshop.data.parallel import parallel_map

IMAGES_PER_SHARD = 5000
LABELS_COLUMNS = ["shard", "image", "label", "split"]
MAX_PNG_BYTES = 64 * 1024  # a 28x28 PNG is under 1 KB: a larger member is no digit of ours


def shard_name(split: str, index: int) -> str:
    """The shard holding image `index` of `split`, e.g. `train-03.zip`."""
    return f"{split}-{index // IMAGES_PER_SHARD:02d}.zip"


def member_name(split: str, index: int) -> str:
    """The PNG's name inside its shard, e.g. `train/00042.png`."""
    return f"{split}/{index:05d}.png"


def write_shard(path: Path, names: list[str], images: np.ndarray) -> None:
    """One shard: each image a PNG member; stored, not recompressed (PNG is deflated already)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, image in zip(names, images, strict=True):
            png = io.BytesIO()
            Image.fromarray(image).save(png, format="PNG")
            archive.writestr(zip_entry(name), png.getvalue())  # fixed timestamps: stable bytes


def read_shard(path: Path, names: list[str]) -> np.ndarray:
    """The named PNGs of one shard as a (len(names), 28, 28) uint8 array."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise WorkshopError(f"missing shard listed in the labels table: {path}") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkshopError(f"{path}: not a zip archive of PNGs ({error})") from None
    images = np.empty((len(names), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    with archive:
        members = set(archive.namelist())
        for index, name in enumerate(names):
            if name not in members:
                raise WorkshopError(f"{path}: no {name} in the shard (listed in the labels table)")
            images[index] = read_png(archive, name, f"{path}:{name}")
    return images


def read_png(archive: zipfile.ZipFile, name: str, where: str) -> np.ndarray:
    """One 28x28 greyscale PNG member, its size checked (zip directory, PNG header) before decoding."""
    try:
        if archive.getinfo(name).file_size > MAX_PNG_BYTES:
            raise WorkshopError(f"{where}: {archive.getinfo(name).file_size} bytes, too large for a digit")
        with Image.open(io.BytesIO(archive.read(name))) as image:
            if image.mode != "L" or image.size != (IMAGE_SIZE, IMAGE_SIZE):
                width, height = image.size
                raise WorkshopError(
                    f"{where}: expected a {IMAGE_SIZE}x{IMAGE_SIZE} greyscale (L) PNG, "
                    f"got {width}x{height} {image.mode}"
                )
            return np.asarray(image)
    except UnidentifiedImageError:
        raise WorkshopError(f"{where}: unreadable image (not a PNG)") from None
    except (Image.DecompressionBombError, zipfile.BadZipFile, OSError) as error:
        raise WorkshopError(f"{where}: unreadable image ({error})") from None


def write_images(splits: dict[str, Digits], images_dir: Path, labels: Path) -> None:
    """Every split's images as PNG shards in `images_dir` (in parallel) and the labels table."""
    tasks = []
    for split, digits in splits.items():
        for start in range(0, len(digits.labels), IMAGES_PER_SHARD):
            stop = min(start + IMAGES_PER_SHARD, len(digits.labels))
            names = [member_name(split, i) for i in range(start, stop)]
            tasks.append((images_dir / shard_name(split, start), names, digits.images[start:stop]))
    parallel_map(write_shard, tasks, [len(task[1]) for task in tasks], "write PNG shards")
    with labels.open("w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(LABELS_COLUMNS)
        for split, digits in splits.items():
            writer.writerows(
                (shard_name(split, i), member_name(split, i), int(label), split)
                for i, label in enumerate(digits.labels)
            )


def _checked_rows(path: Path) -> dict[str, list[tuple[str, str, int]]]:
    rows: dict[str, list[tuple[str, str, int]]] = {split: [] for split in SPLITS}
    with path.open(newline="") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames != LABELS_COLUMNS:
            expected = ",".join(LABELS_COLUMNS)
            raise WorkshopError(f"{path}: expected the columns {expected}, got {reader.fieldnames}")
        seen: dict[tuple[str, str], tuple[int, str]] = {}  # (shard, image) -> (line, label)
        for line, row in enumerate(reader, start=2):
            where = f"{path}, line {line}"
            if None in row or None in row.values():
                raise WorkshopError(
                    f"{where}: expected {len(LABELS_COLUMNS)} values, {','.join(LABELS_COLUMNS)}"
                )
            if row["split"] not in rows or row["label"] not in set("0123456789"):
                raise WorkshopError(f"{where}: bad split or label in {short(row)}")
            image = (row["shard"], row["image"])
            if image in seen:
                first, label = seen[image]
                conflict = f" with another label ({label})" if label != row["label"] else ""
                raise WorkshopError(
                    f"{where}: {row['shard']}:{row['image']} already listed on line {first}{conflict}"
                )
            seen[image] = line, row["label"]
            rows[row["split"]].append((row["shard"], row["image"], int(row["label"])))
    return rows


def read_labels(path: Path) -> dict[str, list[tuple[str, str, int]]]:
    """The labels table as (shard, image, label) rows per split, checked before any image is read."""
    if not path.is_file():
        raise WorkshopError(f"missing input file: {path} (run the download_mnist stage first)")
    try:
        rows = _checked_rows(path)
    except (UnicodeDecodeError, csv.Error) as error:
        raise WorkshopError(f"{path}: not a labels table ({error})") from None
    for split, split_rows in rows.items():
        if not split_rows:
            raise WorkshopError(f"{path}: no {split} images listed (rerun the download_mnist stage)")
    return rows


def read_images(images_dir: Path, labels: Path) -> dict[str, Digits]:
    """Every split's images and labels, as `write_images` wrote them (shards read in parallel)."""
    table = read_labels(labels)
    tasks, task_split = [], []
    for split, rows in table.items():
        for shard, group in groupby(rows, key=lambda row: row[0]):
            tasks.append((images_dir / shard, [image for _, image, _ in group]))
            task_split.append(split)
    parts = parallel_map(read_shard, tasks, [len(names) for _, names in tasks], "read PNG shards")
    no_images = np.empty((0, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    return {
        split: Digits(
            np.concatenate([no_images, *(p for p, s in zip(parts, task_split, strict=True) if s == split)]),
            np.array([label for _, _, label in rows], dtype=np.int64),
        )
        for split, rows in table.items()
    }
