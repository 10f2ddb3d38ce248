"""Stage 4: score the trained model on the test split, which training never saw.

The metrics file is declared under `metrics:` in dvc.yaml, so `dvc metrics show` and
`dvc metrics diff` read it and `dvc exp show` lists it beside the parameters. It holds the
headline figures only, so those tables fit a terminal; the other outputs are plots: the
confusion matrix (one row per test image, DVC's `confusion` template), the per-class scores
(30 numbers: a table in the CSV, bars in `dvc plots show`), and a picture of the mistakes.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from dvc_workshop.cli import WorkshopApp, quiet_tensorflow
from dvc_workshop.data.arrays import load_split, write_json
from dvc_workshop.data.atomic_files import atomic_output
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.data.model_files import check_model_file
from dvc_workshop.data.pictures import contact_sheet, save_sheet
from dvc_workshop.ml.metrics import classification_metrics

app = WorkshopApp()
MAX_MISTAKES_SHOWN = 50


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with atomic_output(path) as scratch, scratch.open("w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


@app.command()
def main(
    model_path: Annotated[Path, typer.Option("--model", help="Trained .keras model from train.")],
    data_dir: Annotated[Path, typer.Option(help="Folder with test.npz from preprocess.")],
    metrics: Annotated[Path, typer.Option(help="JSON file for test loss and accuracy.")],
    predictions: Annotated[Path, typer.Option(help="CSV of actual,predicted per test image.")],
    per_class: Annotated[Path, typer.Option(help="CSV of precision, recall, F1 per digit.")],
    mistakes: Annotated[Path, typer.Option(help="PNG of misclassified test images.")],
) -> None:
    """Compute test metrics and write the confusion matrix, per-class scores and mistakes."""
    images, labels = load_split(data_dir / "test.npz")
    check_model_file(model_path)
    quiet_tensorflow()
    import keras  # here, after the cheap checks: TensorFlow takes seconds to load

    try:
        model = keras.saving.load_model(model_path)
    except Exception as error:  # Keras raises ValueError, KeyError, OSError... for a damaged file
        raise WorkshopError(f"{model_path}: not a model saved by the train stage ({error})") from None
    probabilities = model.predict(images[..., np.newaxis], batch_size=1000, verbose=0)
    predicted = probabilities.argmax(axis=1)
    scores = classification_metrics(labels, probabilities)

    with atomic_output(metrics) as scratch:
        write_json(scratch, {"test": {name: scores[name] for name in ("accuracy", "loss", "images")}})
    write_csv(predictions, ["actual", "predicted"], np.stack([labels, predicted], axis=1).tolist())
    write_csv(
        per_class,
        ["digit", "precision", "recall", "f1"],
        [[int(d), s["precision"], s["recall"], s["f1"]] for d, s in scores["per_class"].items()],
    )
    wrong = np.flatnonzero(predicted != labels)[:MAX_MISTAKES_SHOWN]
    sheet = contact_sheet(images[wrong], [f"{labels[i]} as {predicted[i]}" for i in wrong])
    with atomic_output(mistakes) as scratch:
        save_sheet(sheet, scratch)
    print(f"Test accuracy {scores['accuracy']:.4f}, loss {scores['loss']:.4f} -> {metrics}")


if __name__ == "__main__":
    app()
