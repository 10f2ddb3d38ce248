"""The trained network's forward pass in numpy, so that `evaluate` runs without TensorFlow.

Importing TensorFlow takes about 4 s, which was most of `evaluate` (5.6 s on the full MNIST,
where Keras' `predict` itself took under a second) and a fifth of the default sample's run.
The layers here are those `model.build_model` stacks, computed as Keras does in inference
(dropout off, batch normalization with its moving averages), from the `.keras` file itself: its
`config.json` names the layers, its `model.weights.h5` holds their variables in order. A model
with any other layer or option (after an experiment on `model.py`) goes to Keras' `predict`.
`tests/test_inference.py` holds the two to the same predictions.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dvc_workshop.cli import WorkshopError

BATCH = 1000  # images a pass: the second convolution's windows take 58 MB for 1,000
Layer = Callable[[np.ndarray], np.ndarray]


def activation(name: str) -> Layer | None:
    """Keras' activation by its config name, or None for one computed only by Keras."""
    if name == "relu":
        return lambda x: np.maximum(x, 0)
    if name == "linear":
        return lambda x: x
    if name == "softmax":
        return lambda x: (e := np.exp(x - x.max(axis=-1, keepdims=True))) / e.sum(axis=-1, keepdims=True)
    return None


def channels_last(config: dict) -> bool:
    return config.get("data_format") in (None, "channels_last")


def conv2d(config: dict, *variables: np.ndarray) -> Layer | None:
    """A "valid" convolution with stride 1."""
    if len(variables) != 1 + config["use_bias"]:
        return None
    kernel, bias = variables[0], variables[1] if config["use_bias"] else None
    plain = config["padding"] == "valid" and tuple(config["strides"]) == (1, 1) and channels_last(config)
    if not plain or tuple(config["dilation_rate"]) != (1, 1) or config["groups"] != 1:
        return None
    then = activation(config["activation"])
    rows, cols = kernel.shape[:2]
    weights = kernel.transpose(2, 0, 1, 3)  # as the windows come: channel, row, column

    def layer(x: np.ndarray) -> np.ndarray:
        windows = sliding_window_view(x, (rows, cols), axis=(1, 2))  # (n, height, width, c, rows, cols)
        out = np.tensordot(windows, weights, axes=3)
        return then(out if bias is None else out + bias)

    return layer if then else None


def max_pooling2d(config: dict) -> Layer | None:
    """Non-overlapping max pooling: the largest of each pool-sized tile."""
    rows, cols = config["pool_size"]
    tiles_apart = tuple(config["strides"] or (rows, cols)) == (rows, cols)
    if config["padding"] != "valid" or not tiles_apart or not channels_last(config):
        return None

    def layer(x: np.ndarray) -> np.ndarray:
        height, width = x.shape[1] // rows * rows, x.shape[2] // cols * cols
        corners = [x[:, i:height:rows, j:width:cols] for i in range(rows) for j in range(cols)]
        return functools.reduce(np.maximum, corners)

    return layer


def batch_normalization(config: dict, *variables: np.ndarray) -> Layer | None:
    """Inference: scale and shift by the moving averages, folded into one multiply-add."""
    if config["axis"] not in (-1, 3) or not (config["center"] and config["scale"]) or len(variables) != 4:
        return None
    gamma, beta, mean, variance = variables
    scale = gamma / np.sqrt(variance + config["epsilon"])
    shift = beta - mean * scale
    return lambda x: x * scale + shift


def dense(config: dict, *variables: np.ndarray) -> Layer | None:
    then = activation(config["activation"])
    if then is None or len(variables) != 1 + config["use_bias"]:
        return None
    kernel, bias = variables[0], variables[1] if config["use_bias"] else None
    return lambda x: then(x @ kernel if bias is None else x @ kernel + bias)


# Keras' weights file names each layer's group after the layer's class, numbered in the model's
# order (conv2d, conv2d_1, ...; keras/src/saving/saving_lib.py): this table holds both names.
LAYERS: dict[str, tuple[str, Callable[..., Layer | None]]] = {
    "Conv2D": ("conv2d", conv2d),
    "MaxPooling2D": ("max_pooling2d", max_pooling2d),
    "BatchNormalization": ("batch_normalization", batch_normalization),
    "Activation": ("activation", lambda config: activation(config["activation"])),
    "Flatten": ("flatten", lambda config: lambda x: x.reshape(len(x), -1)),
    "Dropout": ("dropout", lambda config: lambda x: x),  # active in training only
    "Dense": ("dense", dense),
}


def numpy_layers(model_path: Path) -> list[Layer] | None:
    """The model's layers as numpy functions, or None if one of them is not written here."""
    import h5py  # Keras' own dependency, for its weights file

    try:
        with zipfile.ZipFile(model_path) as archive:
            config = json.loads(archive.read("config.json"))
            weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise WorkshopError(f"{model_path}: not a model saved by the train stage ({error})") from None
    if config.get("class_name") != "Sequential":
        return None
    layers, seen = [], Counter()
    with weights:
        for spec in config["config"]["layers"]:
            if spec["class_name"] == "InputLayer":
                continue
            if spec["class_name"] not in LAYERS:
                return None
            group, make = LAYERS[spec["class_name"]]
            number, seen[group] = seen[group], seen[group] + 1
            variables = weights.get(f"layers/{group}_{number}/vars" if number else f"layers/{group}/vars")
            if variables is None:
                return None
            layer = make(spec["config"], *(variables[str(i)][()] for i in range(len(variables))))
            if layer is None:
                return None
            layers.append(layer)
    return layers


def predict(model_path: Path, images: np.ndarray) -> np.ndarray:
    """Class probabilities for (n, height, width) images: numpy where it can, Keras otherwise."""
    layers = numpy_layers(model_path)
    if layers is None:
        from dvc_workshop.model import load_model  # TensorFlow, for a layer not written here

        return load_model(model_path).predict(images[..., np.newaxis], batch_size=1024, verbose=0)
    batches = []
    for start in range(0, len(images), BATCH):
        x = images[start : start + BATCH, ..., np.newaxis].astype(np.float32, copy=False)
        for layer in layers:
            x = layer(x)
        batches.append(x)
    return np.concatenate(batches).astype(np.float32, copy=False)
