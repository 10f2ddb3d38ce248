"""The baselines `full_pipeline.py` measures ours against, written the way they usually are.

- `pillow_save_loop`: one loose PNG per image, saved by Pillow in a plain loop.
- `per_image_preprocess`: those PNGs read one by one, then each image standardized, rotated by
  scikit-image and cropped in a Python loop (the original workshop's preprocess).
- `keras_example_accuracy`: the convnet of keras.io/examples/vision/mnist_convnet (inputs
  scaled to [0, 1], batch 128, Adam, 10% validation), stopped after a given wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from dvc_workshop.data.sources import load_mnist
from dvc_workshop.ml.transforms import random_angles


def _load(source: Path) -> dict:
    return load_mnist(str(source), test_fraction=0.2, seed=42, limit_per_split=None)


def pillow_save_loop(source: Path, folder: Path) -> float:
    """Seconds to read the IDX source and save every image as its own PNG file."""
    start = time.perf_counter()
    for split, digits in _load(source).items():
        (folder / split).mkdir(parents=True, exist_ok=True)
        for index, image in enumerate(tqdm(digits.images, desc=f"reference PNG {split}", disable=None)):
            Image.fromarray(image, mode="L").save(folder / split / f"{index:05d}.png")
    return time.perf_counter() - start


def per_image_preprocess(folder: Path, params: dict) -> float:
    """Seconds to read the loose PNGs and standardize, rotate (train) and crop them one by one."""
    from skimage.transform import rotate

    start = time.perf_counter()
    raw = {
        split: [np.asarray(Image.open(path)) for path in sorted((folder / split).glob("*.png"))]
        for split in ("train", "test")
    }
    pixels = np.stack(raw["train"]).astype(np.float64)
    mean, std = pixels.mean(), pixels.std()
    angles = random_angles(len(raw["train"]), params["max_rotation"], params["seed"])
    margin = (28 - params["crop_size"]) // 2
    out = {}
    for split, images in raw.items():
        done = []
        for index, image in enumerate(tqdm(images, desc=f"reference preprocess {split}", disable=None)):
            scaled = (image.astype(np.float32) - mean) / std
            if split == "train":
                scaled = rotate(scaled, angles[index], order=1, mode="constant", cval=-mean / std)
            done.append(scaled[margin : margin + params["crop_size"], margin : margin + params["crop_size"]])
        out[split] = np.stack(done).astype(np.float32)
    return time.perf_counter() - start


@dataclass
class ExampleResult:
    accuracy: float
    epochs: float


def keras_example_accuracy(source: Path, seconds: float) -> ExampleResult:
    """Test accuracy of the Keras example convnet after `seconds` of training."""
    import keras
    from keras import layers

    class TimeBudget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None) -> None:
            self.start, self.steps = time.perf_counter(), 0

        def on_train_batch_end(self, batch, logs=None) -> None:
            self.steps += 1
            if time.perf_counter() - self.start >= seconds:
                self.model.stop_training = True

    splits = _load(source)
    x_train = splits["train"].images.astype("float32")[..., None] / 255
    x_test = splits["test"].images.astype("float32")[..., None] / 255
    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    budget = TimeBudget()
    batch_size, validation = 128, 0.1
    model.fit(x_train, splits["train"].labels, batch_size=batch_size, epochs=100,
              validation_split=validation, callbacks=[budget], verbose=0)  # fmt: skip
    _, accuracy = model.evaluate(x_test, splits["test"].labels, verbose=0)
    steps_per_epoch = np.ceil(len(x_train) * (1 - validation) / batch_size)
    return ExampleResult(float(accuracy), budget.steps / steps_per_epoch)
