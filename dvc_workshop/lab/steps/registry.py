"""The lab's steps, in one registry: an entry each (title, setup, check, hints, reset, folder,
answer), in order. A step's number is its place here and nothing else: `register` records the order
(`Step.number`), entries say another step's number through its entry (`teammate.STEP.number`), and
the layers above by its entry's name (`number_of("remote")`).

The README's "Lab step N: <title>" headings, `workshop start` (each step's setup, in this order),
`workshop check`, `hint`, `solution`, `reset` and the tests all follow this list
(tests/test_guide.py holds the README to it).
"""

from __future__ import annotations

from dvc_workshop.lab.mechanisms.entry import Step, register
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

ENTRIES = (
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
STEPS: list[Step] = register([module.STEP for module in ENTRIES])


def number_of(entry: str) -> int:
    """A step's number by its entry module's name ("remote" -> 2), for the messages of the layers
    above the steps (`workshop start`'s next steps, a room's welcome)."""
    names = [module.__name__.rpartition(".")[2] for module in ENTRIES]
    return names.index(entry) + 1
