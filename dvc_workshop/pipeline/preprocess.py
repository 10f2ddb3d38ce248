"""Stage 2: PNG images -> standardized, rotated, cropped float32 arrays.

Statistics come from the training split alone and are saved beside the arrays, so test
images are scaled exactly as training images were, with nothing learned from the test set.
Only training images are rotated: rotation is augmentation, and the test set stays as drawn.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Annotated, NamedTuple

import numpy as np
import typer

from dvc_workshop.arrays import save_npz, write_json
from dvc_workshop.cli import VerboseOption, WorkshopError, atomic_output, one_line_errors, stage_app
from dvc_workshop.params import IMAGE_SIZE, PreprocessParams, load_section
from dvc_workshop.pictures import contact_sheet, save_sheet
from dvc_workshop.shards import LABELS_COLUMNS, parallel_map, read_shard
from dvc_workshop.transforms import (
    center_crop,
    pixel_counts,
    random_angles,
    rotate,
    standardization_stats,
    standardize,
)

app = stage_app()
SPLITS = ("train", "test")
PREVIEW_IMAGES = 40


class Row(NamedTuple):
    """One image of the labels table."""

    shard: str  # the zip file holding it
    image: str  # its name inside the shard
    label: int


class ShardTask(NamedTuple):
    """The work for one process: consecutive images of one split, all in one shard."""

    split: str
    shard: Path
    names: list[str]
    angles: np.ndarray | None  # training images turn; test images don't
    crop_size: int


def read_labels(path: Path) -> dict[str, list[Row]]:
    """The labels table as (shard, image, label) rows per split, checked before reading images."""
    if not path.is_file():
        raise WorkshopError(f"missing input file: {path} (run the download_mnist stage first)")
    rows: dict[str, list[Row]] = {split: [] for split in SPLITS}
    with path.open(newline="") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames != LABELS_COLUMNS:
            expected = ",".join(LABELS_COLUMNS)
            raise WorkshopError(f"{path}: expected the columns {expected}, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            if row["split"] not in rows or row["label"] not in set("0123456789"):
                raise WorkshopError(f"{path}, line {line}: bad split or label in {row}")
            rows[row["split"]].append(Row(row["shard"], row["image"], int(row["label"])))
    return rows


def read_rotate_crop(
    path: Path, names: list[str], angles: np.ndarray | None, crop_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """One shard's pixel counts, and its images as float32, turned by their angles if given, cropped.

    Runs in a worker process, a shard at a time. Rotating raw pixels (background 0) before
    standardizing gives what rotating standardized ones would: bilinear weights sum to 1.
    """
    images = read_shard(path, names, IMAGE_SIZE)
    turned = rotate(images, angles) if angles is not None else images.astype(np.float32)
    return pixel_counts(images), center_crop(turned, crop_size).copy()


def read_images(
    folder: Path, table: dict[str, list[Row]], angles: np.ndarray, crop_size: int = IMAGE_SIZE
) -> tuple[np.ndarray, dict[str, list[np.ndarray]]]:
    """Training pixel counts, and each split's images (training ones rotated), a part per shard."""
    tasks = []
    for split, rows in table.items():
        position = 0
        for shard, group in itertools.groupby(rows, key=lambda row: row.shard):
            names = [row.image for row in group]
            turns = angles[position : position + len(names)] if split == "train" else None
            tasks.append(ShardTask(split, folder / shard, names, turns, crop_size))
            position += len(names)
    arguments = [(task.shard, task.names, task.angles, task.crop_size) for task in tasks]
    sizes = [len(task.names) for task in tasks]
    results = parallel_map(read_rotate_crop, arguments, sizes, "read PNG shards")
    counts = np.zeros(256, dtype=np.int64)
    by_split: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    for task, (shard_counts, images) in zip(tasks, results, strict=True):
        by_split[task.split].append(images)
        if task.split == "train":
            counts += shard_counts
    return counts, by_split


@app.command()
@one_line_errors
def main(
    images_dir: Annotated[Path, typer.Option(help="Folder of PNG shards from download_mnist.")],
    labels: Annotated[Path, typer.Option(help="Labels table from download_mnist.")],
    out_dir: Annotated[Path, typer.Option(help="Folder to write train.npz, test.npz, stats.json.")],
    preview: Annotated[Path, typer.Option(help="PNG of the first preprocessed training images.")],
    params: Annotated[Path, typer.Option(help="Parameters file.")] = Path("params.yaml"),
    verbose: VerboseOption = False,
) -> None:
    """Standardize, rotate (training images only) and crop the downloaded images."""
    settings = load_section(params, "preprocess", PreprocessParams)
    table = read_labels(labels)
    angles = random_angles(len(table["train"]), settings.max_rotation, settings.seed)
    counts, parts = read_images(images_dir, table, angles, settings.crop_size)

    mean, std = standardization_stats(counts)
    empty = np.empty((0, settings.crop_size, settings.crop_size), dtype=np.float32)
    arrays = {
        split: np.concatenate([empty, *(standardize(p, mean, std) for p in ps)])
        for split, ps in parts.items()
    }
    labels_of = {split: np.array([row.label for row in table[split]], dtype=np.int64) for split in SPLITS}

    with atomic_output(out_dir, directory=True) as scratch:
        for split in SPLITS:
            save_npz(scratch / f"{split}.npz", images=arrays[split], labels=labels_of[split])
        write_json(scratch / "stats.json", {"mean": mean, "std": std})
    shown = range(min(PREVIEW_IMAGES, len(angles)))
    captions = [f"{labels_of['train'][i]}  {angles[i]:+.1f}°" for i in shown]
    with atomic_output(preview) as scratch:
        save_sheet(contact_sheet(arrays["train"][: len(shown)], captions), scratch)
    print(f"Wrote {', '.join(f'{len(a)} {s}' for s, a in arrays.items())} images to {out_dir}")


if __name__ == "__main__":
    app()
