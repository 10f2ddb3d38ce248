"""Stage 2: PNG images -> standardized, rotated, cropped float32 arrays.

Statistics come from the training split alone and are saved beside the arrays, so test
images are scaled exactly as training images were, with nothing learned from the test set.
Only training images are rotated: rotation is augmentation, and the test set stays as drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from dvc_workshop.cli import WorkshopApp
from dvc_workshop.data.arrays import save_npz, write_json
from dvc_workshop.data.atomic_files import atomic_output
from dvc_workshop.data.pictures import contact_sheet, save_sheet
from dvc_workshop.data.shards import read_images
from dvc_workshop.ml.transforms import center_crop, random_angles, rotate, standardize
from dvc_workshop.params import PreprocessParams, TrainParams, check_crop_fits, load_section

app = WorkshopApp()
PREVIEW_IMAGES = 40


@app.command()
def main(
    images_dir: Annotated[Path, typer.Option(help="Folder of PNG shards from download_mnist.")],
    labels: Annotated[Path, typer.Option(help="Labels table from download_mnist.")],
    out_dir: Annotated[Path, typer.Option(help="Folder to write train.npz, test.npz, stats.json.")],
    preview: Annotated[Path, typer.Option(help="PNG of the first preprocessed training images.")],
    params: Annotated[Path, typer.Option(help="Parameters file.")] = Path("params.yaml"),
) -> None:
    """Standardize, rotate (training images only) and crop the downloaded images."""
    settings = load_section(params, "preprocess", PreprocessParams)
    check_crop_fits(settings.crop_size, load_section(params, "train", TrainParams).filters)  # fail early
    splits = read_images(images_dir, labels)  # {"train": Digits, "test": Digits}, uint8 pixels

    # Statistics of the training images only: the test set must not leak into training.
    train_pixels = splits["train"].images
    mean, std = float(train_pixels.mean()), float(train_pixels.std())
    images = {split: standardize(digits.images, mean, std) for split, digits in splits.items()}

    # Augmentation: each training image turns by its own random angle; test images stay as drawn.
    angles = random_angles(len(images["train"]), settings.max_rotation, settings.seed)
    black = float(standardize(np.zeros(1), mean, std)[0])  # a blank pixel, standardized
    images["train"] = rotate(images["train"], angles, background=black)

    # Crop: the digits sit in the middle; the border is almost always blank.
    images = {split: center_crop(pixels, settings.crop_size) for split, pixels in images.items()}

    with atomic_output(out_dir, directory=True) as scratch:
        for split, pixels in images.items():
            save_npz(scratch / f"{split}.npz", images=pixels, labels=splits[split].labels)
        write_json(scratch / "stats.json", {"mean": mean, "std": std})
    shown = range(min(PREVIEW_IMAGES, len(angles)))
    captions = [f"{splits['train'].labels[i]}  {angles[i]:+.1f}°" for i in shown]
    with atomic_output(preview) as scratch:
        save_sheet(contact_sheet(images["train"][: len(shown)], captions), scratch)
    print(f"Wrote {', '.join(f'{len(p)} {s}' for s, p in images.items())} images to {out_dir}")


if __name__ == "__main__":
    app()
