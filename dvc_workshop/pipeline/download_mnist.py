"""Stage 1: raw MNIST -> one greyscale PNG per image, in zip shards, plus a labels table.

PNGs are what attendees can open and look at; the shards and the labels table are explained
in `dvc_workshop/data/shards.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp
from dvc_workshop.data.atomic_files import atomic_output
from dvc_workshop.data.shards import write_images
from dvc_workshop.data.sources import load_mnist
from dvc_workshop.params import DownloadParams, load_section

app = WorkshopApp()


@app.command()
def main(
    images_dir: Annotated[Path, typer.Option(help="Folder to write the zip shards of PNGs into.")],
    labels: Annotated[Path, typer.Option(help="CSV table to write: shard, image inside it, label, split.")],
    params: Annotated[Path, typer.Option(help="Parameters file.")] = Path("params.yaml"),
) -> None:
    """Download raw MNIST from the source in params.yaml and write PNG images + labels."""
    settings = load_section(params, "download_mnist", DownloadParams)
    splits = load_mnist(settings.source, settings.test_fraction, settings.seed, settings.limit_per_split)

    with atomic_output(images_dir, directory=True) as images_scratch, atomic_output(labels) as labels_scratch:
        write_images(splits, images_scratch, labels_scratch)
    counts = ", ".join(f"{len(digits.labels)} {split}" for split, digits in splits.items())
    print(f"Wrote {counts} images to {images_dir} and their labels to {labels}")


if __name__ == "__main__":
    app()
