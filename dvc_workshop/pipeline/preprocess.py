"""Stage 2: PNG images -> standardized, rotated, cropped float32 arrays.

Statistics come from the training split alone and are saved beside the arrays, so test
images are scaled exactly as training images were, with nothing learned from the test set.
Only training images are rotated: rotation is augmentation, and the test set stays as drawn.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from dvc_workshop.arrays import save_npz, write_json
from dvc_workshop.cli import VerboseOption, WorkshopError, atomic_output, run, stage_app
from dvc_workshop.params import IMAGE_SIZE, PreprocessParams, load_section
from dvc_workshop.pictures import contact_sheet, save_sheet
from dvc_workshop.transforms import (
    center_crop,
    random_angles,
    rotate,
    standardization_stats,
    standardize,
)

app = stage_app()
SPLITS = ("train", "test")
PREVIEW_IMAGES = 40


def read_labels(path: Path) -> dict[str, list[tuple[str, int]]]:
    """The labels table as (image path, label) rows per split, checked before reading images."""
    if not path.is_file():
        raise WorkshopError(f"missing input file: {path} (run the download_mnist stage first)")
    rows: dict[str, list[tuple[str, int]]] = {split: [] for split in SPLITS}
    with path.open(newline="") as stream:
        reader = csv.DictReader(stream)
        if reader.fieldnames != ["image", "label", "split"]:
            raise WorkshopError(f"{path}: expected the columns image,label,split, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            if row["split"] not in rows or row["label"] not in set("0123456789"):
                raise WorkshopError(f"{path}, line {line}: bad split or label in {row}")
            rows[row["split"]].append((row["image"], int(row["label"])))
    return rows


def read_images(folder: Path, names: list[str], split: str) -> np.ndarray:
    """Stack the named 28x28 greyscale PNGs into one uint8 array."""
    images = np.empty((len(names), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for index, name in enumerate(tqdm(names, desc=f"read {split}", unit="img", disable=None)):
        path = folder / name
        try:
            with Image.open(path) as image:
                if image.mode != "L" or image.size != (IMAGE_SIZE, IMAGE_SIZE):
                    raise WorkshopError(
                        f"{path}: expected a {IMAGE_SIZE}x{IMAGE_SIZE} greyscale (L) PNG, "
                        f"got {image.size[0]}x{image.size[1]} {image.mode}"
                    )
                images[index] = np.asarray(image)
        except FileNotFoundError:
            raise WorkshopError(f"missing image listed in the labels table: {path}") from None
        except (UnidentifiedImageError, OSError) as error:
            raise WorkshopError(f"{path}: unreadable image ({error})") from None
    return images


@app.command()
def main(
    images_dir: Annotated[Path, typer.Option(help="Folder of PNG images from download_mnist.")],
    labels: Annotated[Path, typer.Option(help="Labels table from download_mnist.")],
    out_dir: Annotated[Path, typer.Option(help="Folder to write train.npz, test.npz, stats.json.")],
    preview: Annotated[Path, typer.Option(help="PNG of the first preprocessed training images.")],
    params: Annotated[Path, typer.Option(help="Parameters file.")] = Path("params.yaml"),
    verbose: VerboseOption = False,
) -> None:
    """Standardize, rotate (training images only) and crop the downloaded images."""
    settings = load_section(params, "preprocess", PreprocessParams)
    table = read_labels(labels)
    raw = {split: read_images(images_dir, [name for name, _ in table[split]], split) for split in SPLITS}

    mean, std = standardization_stats(raw["train"])
    background = float(standardize(np.zeros(1), mean, std)[0])
    arrays = {split: standardize(images, mean, std) for split, images in raw.items()}
    angles = random_angles(len(arrays["train"]), settings.max_rotation, settings.seed)
    arrays["train"] = rotate(arrays["train"], angles, fill=background)
    arrays = {split: center_crop(images, settings.crop_size) for split, images in arrays.items()}
    labels_of = {split: np.array([label for _, label in table[split]], dtype=np.int64) for split in SPLITS}

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
    run(app)
