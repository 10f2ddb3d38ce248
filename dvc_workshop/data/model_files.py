"""A first look at a `.keras` model file, before TensorFlow takes seconds to load.

A `.keras` file is a zip archive holding `config.json` (the layers), `metadata.json` and
`model.weights.h5` (the variables); a file that is not one is refused here in one line.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError

MEMBERS = ("config.json", "metadata.json", "model.weights.h5")


def check_model_file(path: Path) -> None:
    """Refuse a missing or damaged model file with one line naming it."""
    if not path.is_file():
        raise WorkshopError(f"missing input file: {path} (run the train stage first)")
    problem = f"{path}: not a model saved by the train stage"
    try:
        with zipfile.ZipFile(path) as archive:
            missing = [name for name in MEMBERS if name not in archive.namelist()]
            if missing:
                raise WorkshopError(f"{problem} (no {missing[0]} in it)")
            json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WorkshopError(f"{problem} ({error})") from None
