"""The original handout's download step: raw MNIST from the raw bucket to PNG shards and labels.

The handout adds it as a stage with this command, which works here as printed:

    dvc stage add -n download_mnist -d gs://dvc-workshop-raw/mnist \
        -d dvc_workshop/utils/generate_mnist_dataset -o data/download_mnist \
        python -m dvc_workshop.utils.generate_mnist_dataset \
        --output-image-path "data/download_mnist/Images" --output-df-path "data/download_mnist"

It reads the four MNIST IDX files from the bucket with google-cloud-storage (Google's client,
which reaches the emulator through STORAGE_EMULATOR_HOST, as gcsfs and DVC do) and writes what
the `download_mnist` stage writes (the same shards and labels.csv), so the later stages read
either. The repository's own stage reads any source (docs/pipelines.md).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopApp
from dvc_workshop.data.atomic_files import atomic_output
from dvc_workshop.data.digits import Digits
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, check_pair, parse_idx
from dvc_workshop.data.shards import write_images
from dvc_workshop.data.sources import GCS_HELP, IDX_FILES, check_reachable, gcs_endpoint

app = WorkshopApp()


def read_raw_bucket(bucket_name: str, prefix: str) -> dict[str, Digits]:
    """The train and test splits from the four IDX .gz objects under gs://bucket/prefix."""
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    location = f"gs://{bucket_name}/{prefix}"
    check_reachable(gcs_endpoint(None), location)
    try:
        bucket = storage.Client().bucket(bucket_name)
        blobs = {name: bucket.get_blob(f"{prefix}/{name}") for pair in IDX_FILES.values() for name in pair}
    except DefaultCredentialsError as error:
        raise WorkshopError(f"no credentials to read {location} ({error}); {GCS_HELP}") from None
    except Exception as error:  # google.api_core errors: 401/403, a missing bucket, ...
        raise WorkshopError(f"cannot read {location}: {error}; {GCS_HELP}") from None
    missing = [name for name, blob in blobs.items() if blob is None]
    if missing:
        raise WorkshopError(f"missing source file: {location}/{missing[0]} (the source needs all four)")

    splits = {}
    for split, (images_name, labels_name) in IDX_FILES.items():
        arrays = []
        for name, magic in ((images_name, IMAGES_MAGIC), (labels_name, LABELS_MAGIC)):
            try:
                arrays.append(parse_idx(gzip.decompress(blobs[name].download_as_bytes()), magic))
            except (EOFError, OSError, zlib.error, IdxError) as error:
                raise WorkshopError(f"{location}/{name}: {error}") from None
        check_pair(*arrays)
        splits[split] = Digits(*arrays)
    return splits


@app.command()
def main(
    output_image_path: Annotated[Path, typer.Option(help="Folder to write the zip shards of PNGs into.")],
    output_df_path: Annotated[Path, typer.Option(help="Folder to write labels.csv into.")],
    bucket: Annotated[str, typer.Option(help="The raw bucket.")] = "dvc-workshop-raw",  # the handout's
    prefix: Annotated[str, typer.Option(help="The folder of the IDX files in it.")] = "mnist",
) -> None:
    """Download raw MNIST from the raw bucket and write PNG images + their labels table."""
    splits = read_raw_bucket(bucket, prefix)
    labels = output_df_path / "labels.csv"
    with atomic_output(output_image_path, directory=True) as images_scratch, atomic_output(labels) as scratch:
        write_images(splits, images_scratch, scratch)
    counts = ", ".join(f"{len(digits.labels)} {split}" for split, digits in splits.items())
    print(f"Wrote {counts} images to {output_image_path} and their labels to {labels}")


if __name__ == "__main__":
    app()
