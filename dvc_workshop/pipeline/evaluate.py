"""Stage 4: score the trained model on the test split, which training never saw.

The metrics file is declared under `metrics:` in dvc.yaml, so `dvc metrics show` and
`dvc metrics diff` read it and `dvc exp show` lists it beside the parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from dvc_workshop.arrays import load_split, write_json
from dvc_workshop.cli import VerboseOption, WorkshopError, atomic_output, run, stage_app
from dvc_workshop.metrics import classification_metrics

app = stage_app()


@app.command()
def main(
    model_path: Annotated[Path, typer.Option("--model", help="Trained .keras model from train.")],
    data_dir: Annotated[Path, typer.Option(help="Folder with test.npz from preprocess.")],
    metrics: Annotated[Path, typer.Option(help="JSON file to write the test metrics to.")],
    verbose: VerboseOption = False,
) -> None:
    """Compute test loss, accuracy and per-class precision/recall/F1."""
    images, labels = load_split(data_dir / "test.npz")
    if not model_path.is_file():
        raise WorkshopError(f"missing input file: {model_path} (run the train stage first)")

    from dvc_workshop.model import load_model  # after the cheap checks: TensorFlow is slow to load

    model = load_model(model_path)
    probabilities = model.predict(images[..., np.newaxis], batch_size=1024, verbose=0)
    scores = {"test": classification_metrics(labels, probabilities)}
    with atomic_output(metrics) as scratch:
        write_json(scratch, scores)
    print(f"Test accuracy {scores['test']['accuracy']:.4f}, loss {scores['test']['loss']:.4f} -> {metrics}")


if __name__ == "__main__":
    run(app)
