"""Stage 1: raw MNIST -> one greyscale PNG per image plus a labels table.

PNGs are what attendees can open and look at, and what DVC tracks as a folder output; the
labels table (`image,label,split`) keeps the split explicit so later stages never guess it.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from PIL import Image
from tqdm import tqdm

from dvc_workshop.cli import VerboseOption, atomic_output, run, stage_app
from dvc_workshop.mnist import Digits, load_mnist
from dvc_workshop.params import DownloadParams, load_section

app = stage_app()


def image_name(split: str, index: int) -> str:
    """Path of an image relative to the images folder, e.g. `train/00042.png`."""
    return f"{split}/{index:05d}.png"


def write_pngs(images: np.ndarray, folder: Path, split: str) -> None:
    (folder / split).mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(tqdm(images, desc=f"PNG {split}", unit="img", disable=None)):
        Image.fromarray(image, mode="L").save(folder / image_name(split, index))


def write_labels(splits: dict[str, Digits], path: Path) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["image", "label", "split"])
        for split, digits in splits.items():
            writer.writerows(
                (image_name(split, i), int(label), split) for i, label in enumerate(digits.labels)
            )


@app.command()
def main(
    images_dir: Annotated[Path, typer.Option(help="Folder to write the PNG images into.")],
    labels: Annotated[Path, typer.Option(help="CSV table to write: image path, label, split.")],
    params: Annotated[Path, typer.Option(help="Parameters file.")] = Path("params.yaml"),
    verbose: VerboseOption = False,
) -> None:
    """Download raw MNIST from the source in params.yaml and write PNG images + labels."""
    settings = load_section(params, "download_mnist", DownloadParams)
    splits = load_mnist(settings)
    with atomic_output(images_dir, directory=True) as scratch:
        for split, digits in splits.items():
            write_pngs(digits.images, scratch, split)
    with atomic_output(labels) as scratch:
        write_labels(splits, scratch)
    counts = ", ".join(f"{len(d.labels)} {split}" for split, d in splits.items())
    print(f"Wrote {counts} images to {images_dir} and their labels to {labels}")


if __name__ == "__main__":
    run(app)
