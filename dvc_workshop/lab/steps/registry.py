"""The lab's steps, in one registry: an entry each (title, check, hints, reset, answer), in order.

The README's "Lab step N: <title>" headings, `workshop check`, `hint`, `solution`, `reset` and the
tests all follow this list (tests/test_guide.py holds the README to it).
"""

from __future__ import annotations

from dvc_workshop.lab.steps import (
    data_import,
    download,
    dvc_add,
    environment,
    experiments,
    housekeeping,
    merge,
    preprocess,
    remote,
    teammate,
    train_evaluate,
    versions,
)
from dvc_workshop.lab.steps.entry import Step

STEPS: list[Step] = [
    module.STEP
    for module in (
        environment,
        remote,
        download,
        preprocess,
        train_evaluate,
        versions,
        teammate,
        dvc_add,
        experiments,
        housekeeping,
        merge,
        data_import,
    )
]
