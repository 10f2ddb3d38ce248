"""`evaluate`'s numpy forward pass against Keras' own `predict`, on models trained here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from dvc_workshop.arrays import save_npz
from dvc_workshop.inference import numpy_layers, predict
from dvc_workshop.params import TrainParams

from .conftest import REPO_ROOT, run, run_stage
from .test_stages import assert_one_line_error

SIZE = 26  # preprocess' crop
OUTPUTS = ["--metrics", "m.json", "--predictions", "p.csv", "--per-class", "c.csv", "--mistakes", "x.png"]


def digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardized images whose label shows in them (a bright row), so training learns something."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    images = rng.normal(size=(count, SIZE, SIZE)).astype(np.float32)
    images[np.arange(count), 2 * labels + 3, 4:20] += 5
    return images, labels


@pytest.fixture(scope="module")
def keras_models(tmp_path_factory) -> dict[str, Path]:
    """Two trained models saved as the train stage does: the workshop's network, and one with a
    layer the numpy pass does not compute (padding "same")."""
    import keras

    from dvc_workshop.model import build_model, save_model

    folder = tmp_path_factory.mktemp("models")
    images, labels = digits(512, seed=1)
    params = TrainParams(epochs=1, batch_size=64, learning_rate=0.01, filters=[4, 8], dense_units=16,
                         dropout=0.3, validation_fraction=0.1, seed=3)  # fmt: skip
    keras.utils.set_random_seed(params.seed)
    padded = keras.Sequential(
        [keras.Input(shape=(SIZE, SIZE, 1)), keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
         keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    paths = {}  # padded is built first, so the workshop model's layers are named conv2d_1, ... while
    # Keras' weights file numbers its groups from conv2d: the numpy pass must follow the file
    for name, model in {"workshop": build_model(SIZE, params), "padded": padded}.items():
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(images[..., np.newaxis], labels, epochs=5, batch_size=64, verbose=0)
        save_model(model, paths.setdefault(name, folder / f"{name}.keras"))
    return paths


def keras_predict(path: Path, images: np.ndarray) -> np.ndarray:
    from dvc_workshop.model import load_model

    return load_model(path).predict(images[..., np.newaxis], verbose=0)


def test_the_numpy_pass_gives_keras_probabilities(keras_models) -> None:
    images, labels = digits(2500, seed=2)  # more than one batch of the numpy pass
    ours, theirs = predict(keras_models["workshop"], images), keras_predict(keras_models["workshop"], images)
    assert numpy_layers(keras_models["workshop"]) is not None  # computed in numpy, not handed over
    assert ours.shape == (2500, 10) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()
    assert (ours.argmax(axis=1) == labels).mean() > 0.5  # a trained model, not a uniform guess


def test_a_layer_not_written_in_numpy_goes_to_keras(keras_models) -> None:
    images, _ = digits(50, seed=4)
    assert numpy_layers(keras_models["padded"]) is None
    padded = keras_models["padded"]
    np.testing.assert_allclose(predict(padded, images), keras_predict(padded, images))


def test_evaluate_runs_without_tensorflow(tmp_path, keras_models) -> None:
    images, labels = digits(200, seed=5)
    save_npz(tmp_path / "test.npz", images=images, labels=labels.astype(np.uint8))
    stage_then_modules = (  # the evaluate stage as `python -m` runs it, then what it imported
        "import runpy, sys\n"
        "try:\n    runpy.run_module('dvc_workshop.pipeline.evaluate', run_name='__main__')\n"
        "except SystemExit as end:\n    assert not end.code, end.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    args = ["--model", str(keras_models["workshop"]), "--data-dir", ".", *OUTPUTS]
    result = run([sys.executable, "-c", stage_then_modules, *args], cwd=tmp_path, PYTHONPATH=str(REPO_ROOT))
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert json.loads((tmp_path / "m.json").read_text())["test"]["images"] == 200
    assert (tmp_path / "x.png").is_file() and len((tmp_path / "p.csv").read_text().splitlines()) == 201


def test_a_broken_model_file_is_one_line(tmp_path) -> None:
    images, labels = digits(20, seed=6)
    save_npz(tmp_path / "test.npz", images=images, labels=labels.astype(np.uint8))
    (tmp_path / "model.keras").write_bytes(b"not a zip")
    result = run_stage("evaluate", "--model", "model.keras", "--data-dir", ".", *OUTPUTS, cwd=tmp_path)
    assert_one_line_error(result, "model.keras: not a model saved by the train stage")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras", "test.npz"]
