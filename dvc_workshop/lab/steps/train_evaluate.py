"""Lab step 5: the train and evaluate stages, written by the attendee, as the reference defines
them (its metrics declared with -M, in git), run, committed, pushed."""

from __future__ import annotations

from dvc_workshop.lab.mechanisms.entry import Reset, Step, check_stages, stage_hints

STAGES = ("train", "evaluate")

STEP = Step(
    "The train and evaluate stages",
    lambda lab: check_stages(lab, STAGES, reveal=False),  # writing them is the exercise
    stage_hints(STAGES),
    Reset(stages=STAGES, files=("params.yaml:train",)),
)
