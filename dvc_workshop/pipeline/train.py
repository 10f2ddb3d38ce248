"""Stage 3: train the Keras CNN on the preprocessed training split, logging with dvclive.

Every random choice (weights, dropout, shuffling, validation split) is seeded from
params.yaml and TensorFlow runs in op-determinism mode, so the same inputs give the same
model: DVC's cache and `dvc.lock` stay stable and experiments compare like with like.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from dvc_workshop.cli import WorkshopApp, quiet_tensorflow
from dvc_workshop.data.arrays import load_split
from dvc_workshop.data.atomic_files import atomic_output, move_into_place, remove, scratch_path
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.params import TrainParams, check_crop_fits, load_section

if TYPE_CHECKING:
    import keras

app = WorkshopApp()
STEPS_PER_CALL = 16  # training steps TensorFlow runs per call from Python: less overhead a step


def learning_rate_schedule(peak: float, steps: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """One cycle: warm up from peak/10 over the first fifth of the steps, then cosine down to 0.

    A high rate early (steadied by batch norm) and a small one at the end converges in a
    few epochs where a constant rate needs many.
    """
    import keras

    warmup = steps // 5
    return keras.optimizers.schedules.CosineDecay(
        peak / 10, decay_steps=steps - warmup, warmup_target=peak, warmup_steps=warmup
    )


def validation_split(count: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) indices drawn from the training split only."""
    order = np.random.default_rng(seed).permutation(count)
    held_out = round(count * fraction)
    return order[held_out:], order[:held_out]


@app.command()
def main(
    data_dir: Annotated[Path, typer.Option(help="Folder with train.npz from preprocess.")],
    model_path: Annotated[Path, typer.Option("--model", help="Where to save the trained .keras model.")],
    live_dir: Annotated[Path, typer.Option(help="dvclive output folder (metrics and plots).")] = Path(
        "dvclive"
    ),
    params: Annotated[Path, typer.Option(help="Parameters file.")] = Path("params.yaml"),
) -> None:
    """Train the CNN on data_dir/train.npz and save it to --model."""
    settings = load_section(params, "train", TrainParams)
    images, labels = load_split(data_dir / "train.npz")
    check_crop_fits(images.shape[1], settings.filters)
    fit_idx, val_idx = validation_split(len(labels), settings.validation_fraction, settings.seed)
    if not len(fit_idx):
        raise WorkshopError(f"{data_dir / 'train.npz'}: no image left to train on after the validation split")

    # Imported here, after the cheap checks: TensorFlow takes seconds to load.
    quiet_tensorflow()
    import keras
    import tensorflow as tf
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    from dvc_workshop.ml.model import build_model, save_model

    keras.utils.set_random_seed(settings.seed)
    tf.config.experimental.enable_op_determinism()
    images = images[..., np.newaxis]
    model = build_model(images.shape[1], settings)
    steps = math.ceil(len(fit_idx) / settings.batch_size) * settings.epochs
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate_schedule(settings.learning_rate, steps)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_CALL,
    )
    # dvclive writes its curves beside their final place while training; they move in at the end.
    live_scratch = scratch_path(live_dir)
    remove(live_scratch)
    with Live(str(live_scratch), dvcyaml=None, report=None, save_dvc_exp=False) as live:
        model.fit(
            images[fit_idx],
            labels[fit_idx],
            validation_data=(images[val_idx], labels[val_idx]) if len(val_idx) else None,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            callbacks=[DVCLiveCallback(live=live)],
            verbose=2,
        )
    with atomic_output(model_path) as scratch:
        save_model(model, scratch)
    live_dir.mkdir(parents=True, exist_ok=True)
    for name in ("plots", "metrics.json"):
        move_into_place(live_scratch / name, live_dir / name)
    remove(live_scratch)
    print(f"Saved the model to {model_path}")


if __name__ == "__main__":
    app()
