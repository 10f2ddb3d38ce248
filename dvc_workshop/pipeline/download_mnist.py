"""Stage 1: raw MNIST -> one greyscale PNG per image, in zip shards, plus a labels table.

PNGs are what attendees can open and look at; shards of 5,000 keep DVC fast (see
`dvc_workshop/shards.py`). The labels table (`shard,image,label,split`) keeps the split and
where each image lives explicit, so later stages never guess them.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import VerboseOption, atomic_output, one_line_errors, stage_app
from dvc_workshop.mnist import Digits, load_mnist
from dvc_workshop.params import DownloadParams, load_section
from dvc_workshop.shards import (
    IMAGES_PER_SHARD,
    LABELS_COLUMNS,
    member_name,
    parallel_map,
    shard_name,
    write_shard,
)

app = stage_app()


def write_shards(splits: dict[str, Digits], folder: Path) -> None:
    """Every split's images as PNGs in zip shards, one process per core."""
    tasks = []
    for split, digits in splits.items():
        for start in range(0, len(digits.labels), IMAGES_PER_SHARD):
            chunk = range(start, min(start + IMAGES_PER_SHARD, len(digits.labels)))
            names = [member_name(split, i) for i in chunk]
            tasks.append((folder / shard_name(split, start), names, digits.images[chunk.start : chunk.stop]))
    parallel_map(write_shard, tasks, [len(names) for _, names, _ in tasks], "PNG shards")


def write_labels(splits: dict[str, Digits], path: Path) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(LABELS_COLUMNS)
        for split, digits in splits.items():
            writer.writerows(
                (shard_name(split, i), member_name(split, i), int(label), split)
                for i, label in enumerate(digits.labels)
            )


@app.command()
@one_line_errors
def main(
    images_dir: Annotated[Path, typer.Option(help="Folder to write the zip shards of PNGs into.")],
    labels: Annotated[Path, typer.Option(help="CSV table to write: shard, image inside it, label, split.")],
    params: Annotated[Path, typer.Option(help="Parameters file.")] = Path("params.yaml"),
    verbose: VerboseOption = False,
) -> None:
    """Download raw MNIST from the source in params.yaml and write PNG images + labels."""
    settings = load_section(params, "download_mnist", DownloadParams)
    splits = load_mnist(settings)
    with atomic_output(images_dir, directory=True) as scratch:
        write_shards(splits, scratch)
    with atomic_output(labels) as scratch:
        write_labels(splits, scratch)
    counts = ", ".join(f"{len(d.labels)} {split}" for split, d in splits.items())
    print(f"Wrote {counts} images to {images_dir} and their labels to {labels}")


if __name__ == "__main__":
    app()
