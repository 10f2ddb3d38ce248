"""Contact sheets of digits with captions, so attendees look at images instead of numbers.

Pillow only (no plotting library): a sheet is a pure function of its images and captions,
and its PNG bytes are reproducible, which keeps DVC's cache and `dvc.lock` stable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SCALE = 3  # each 28x28 digit is shown at 84x84 pixels
CAPTION_HEIGHT = 14
MARGIN = 4


def to_grey(images: np.ndarray) -> np.ndarray:
    """Map a batch of any-range images to uint8, one shared range so contrasts compare."""
    low, high = float(images.min()), float(images.max())
    scaled = (images - low) / ((high - low) or 1.0)
    return np.round(scaled * 255).astype(np.uint8)


def contact_sheet(images: np.ndarray, captions: list[str], columns: int = 10) -> Image.Image:
    """Tile images (N x H x W) in rows of `columns`, each with its caption underneath."""
    if len(images) != len(captions):
        raise ValueError(f"{len(images)} images but {len(captions)} captions")
    height, width = images.shape[1] * SCALE, images.shape[2] * SCALE
    cell_w, cell_h = width + MARGIN, height + CAPTION_HEIGHT + MARGIN
    rows = max(1, -(-len(images) // columns))
    sheet = Image.new("L", (columns * cell_w + MARGIN, rows * cell_h + MARGIN), color=255)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=11)
    for index, (pixels, caption) in enumerate(zip(to_grey(images), captions, strict=True)):
        left = MARGIN + (index % columns) * cell_w
        top = MARGIN + (index // columns) * cell_h
        digit = Image.fromarray(pixels).resize((width, height), Image.Resampling.NEAREST)
        sheet.paste(digit, (left, top))
        draw.text((left + width // 2, top + height + 1), caption, fill=0, font=font, anchor="ma")
    return sheet


def save_sheet(sheet: Image.Image, path: Path) -> None:
    sheet.save(path, format="PNG", optimize=False)
