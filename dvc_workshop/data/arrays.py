"""Array files passed between stages, written byte-for-byte reproducibly.

`numpy.savez` stamps each member with the current time, so the same arrays saved twice
hash differently and DVC would see a changed output on every run. This writer fixes the
timestamp, which keeps `dvc.lock` stable across runs and machines.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from dvc_workshop.data.errors import WorkshopError

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def zip_entry(name: str) -> zipfile.ZipInfo:
    """A zip member header that is the same on every machine and at every time.

    Python stamps the current time and the creating system (Windows or Unix) otherwise.
    """
    entry = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    entry.create_system = 3  # Unix, wherever it is written
    entry.external_attr = 0o644 << 16  # rw-r--r-- when unzipped
    return entry


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Like `numpy.savez` (uncompressed, loadable by `numpy.load`), but deterministic.

    Each member is built in memory and written whole (`writestr`), so zipfile knows its size
    and adds zip64 headers only past 4 GiB: the headers of a streamed member
    (`open(..., force_zip64=True)`) differ between CPython patch releases (3.11.2 vs 3.11.7),
    which would change the file's hash on some attendees' machines.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zip_entry(f"{name}.npy"), member.getbuffer())


def load_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N x H x W float32) and labels (N int) of one preprocessed split."""
    try:
        with np.load(path) as data:
            images, labels = data["images"], data["labels"]
    except FileNotFoundError:
        raise WorkshopError(f"missing input file: {path} (run the preprocess stage first)") from None
    except (KeyError, ValueError, zipfile.BadZipFile) as error:
        raise WorkshopError(f"{path}: not a preprocessed split ({error})") from None
    if images.ndim != 3 or len(images) != len(labels):
        raise WorkshopError(
            f"{path}: not a preprocessed split ({images.shape} images, {labels.shape} labels)"
        )
    if not len(images):
        raise WorkshopError(f"{path}: no images (rerun the preprocess stage)")
    return images, labels


def write_json(path: Path, document: object) -> None:
    """Pretty, key-sorted JSON with a final newline: stable bytes, readable diffs."""
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
