"""The lab's ten steps, in one registry: number, title, check and hints.

The README's "Lab step N: <title>" headings, `workshop check`, `workshop hint`, `workshop
solution` and the tests all follow this list (tests/test_guide.py holds the README to it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dvc_workshop.lab import checks
from dvc_workshop.lab.state import Lab

EXERCISE_HINT = (
    "return the images minus mean, divided by std, as float32 (the model trains in 32-bit floats); "
    "python -m dvc_workshop.lab check says when it is right"
)


@dataclass(frozen=True)
class Step:
    number: int
    title: str  # the README's heading "Lab step <number>: <title>"
    check: Callable[[Lab], None]  # returns when the step is done, raises Problem otherwise
    hints: tuple[str, ...] = ()  # shown on request (workshop hint), before the answer


STEPS = [
    Step(1, "Environment", checks.check_environment),
    Step(2, "Your remote", checks.check_remote),
    Step(3, "The download stage", checks.check_download),
    Step(4, "The preprocess stage and standardize", checks.check_preprocess, (EXERCISE_HINT,)),
    Step(
        5,
        "The train and evaluate stages",
        checks.check_train_evaluate,
        (
            "the commands: python -m dvc_workshop.pipeline.train --help and ... evaluate --help list "
            "their options; give every path (train reads data/preprocess, writes models/model.keras "
            "and its curves in dvclive; evaluate reads both and writes four files in reports/)",
            "the code: every dvc_workshop module the command imports, at the top or inside a function "
            '(grep -n "dvc_workshop" dvc_workshop/pipeline/train.py); -d dvc_workshop/data stands '
            "for the whole data folder",
            "train has parameters (-p train); evaluate has none",
            "reports/metrics.json is small and belongs in git: declare it with -M (metrics, not cached), "
            "the other outputs with -o; dvclive/plots and dvclive/metrics.json are outputs of train",
        ),
    ),
    Step(6, "Versions: tag, change, go back", checks.check_versioning),
    Step(7, "A teammate clones and pulls", checks.check_teammate),
    Step(8, "Data of your own: dvc add", checks.check_dvc_add),
    Step(9, "Experiments, shared", checks.check_experiments),
    Step(10, "Housekeeping: dvc gc", checks.check_housekeeping),
]
