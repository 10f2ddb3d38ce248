"""The Keras CNN, in the spirit of Keras' own MNIST convnet example, shaped by params.yaml.

Also the model file's save routine: Keras stamps the save date and Python object ids
into the archive, so two identical models would hash differently and DVC would see a
change on every run. With that fixed, training is repeatable byte for byte on one kind of
machine; another CPU (its vector instructions, oneDNN kernels) or TensorFlow build sums
floating-point numbers in another order, so there the weights, and with them the model's
hash and the last digits of the metrics, can differ. The data stages do not depend on it.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import keras
from keras import layers

from dvc_workshop.data.arrays import zip_entry
from dvc_workshop.params import TrainParams

NUM_CLASSES = 10


def build_model(image_size: int, params: TrainParams) -> keras.Model:
    """Convolution blocks (one per `filters` entry), then a dense head with dropout.

    Each block pools right after its convolution ("valid": no padding), so batch normalization
    and ReLU run on a quarter of the values: half the time a step on a CPU for the same
    accuracy (ReLU and max pooling commute), see benchmarks/README.md.
    """
    blocks = []
    for filters in params.filters:
        blocks += [
            layers.Conv2D(filters, kernel_size=3, use_bias=False),
            layers.MaxPooling2D(pool_size=2),
            layers.BatchNormalization(momentum=0.9),
            layers.Activation("relu"),
        ]
    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 1)),
            *blocks,
            layers.Flatten(),
            layers.Dropout(params.dropout),
            layers.Dense(params.dense_units, activation="relu"),
            layers.Dropout(params.dropout),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mnist_cnn",
    )


def save_model(model: keras.Model, path: Path) -> None:
    """Save a `.keras` file whose bytes depend only on the model, not on the time of saving."""
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in sorted(archive.namelist())}
    metadata = json.loads(members["metadata.json"])
    metadata.pop("date_saved", None)
    members["metadata.json"] = json.dumps(metadata, sort_keys=True).encode()
    members["config.json"] = _renumber_shared_objects(members["config.json"])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zip_entry(name), data, compress_type=zipfile.ZIP_DEFLATED)


def _renumber_shared_objects(config: bytes) -> bytes:
    """Replace `shared_object_id` values (memory addresses) by their order of appearance."""
    numbers: dict[bytes, bytes] = {}

    def renumber(match: re.Match[bytes]) -> bytes:
        number = numbers.setdefault(match[2], str(len(numbers) + 1).encode())
        return match[1] + number

    return re.sub(rb'("shared_object_id": )(\d+)', renumber, config)
