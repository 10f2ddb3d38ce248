"""Every name of a place the workshop's tools share, defined once: the reference repository, the
default room's buckets, the emulator's port, the lab's exercise and the files a lab keeps.

Plain constants, no imports: the stages, the emulator and the lab tool all read them, and a lab's
checks start in a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

# This repository, the complete solution: the lab's targets (its dvc.yaml), its code, its README.
REFERENCE = Path(__file__).resolve().parents[3]  # dvc_workshop/lab/model/layout.py

# The default room: the emulator's buckets (real GCS has its own names: a room's record says them).
RAW_BUCKET, CACHE_BUCKET = "dvc-workshop-raw", "dvc-workshop-cache"
RAW_PREFIX = "mnist"  # the folder of the four IDX files in the raw bucket
RAW_URL, CACHE_URL = f"gs://{RAW_BUCKET}", f"gs://{CACHE_BUCKET}"
EMULATOR_PORT = 4443

# The README's own example names, which a lab's commands replace by the attendee's.
EXAMPLE_NAME, EXAMPLE_LAB = "ada", "my-lab"

# The lab's exercise: this function's body is blanked in a new lab (lab step 4).
EXERCISE_FILE, EXERCISE_FUNCTION = "dvc_workshop/ml/transforms.py", "standardize"

# The lab's first exercise (step 1): dev packages left out of the lab's Pipfile, not of its lock.
PIPFILE_LEFT_OUT = ("pre-commit", "ruff")

# The teammate's clone beside a lab: the lab's folder name and this. Its step's entry names it
# (steps/teammate.py), and the lab's readings find the clone beside a lab, or a lab beside a clone,
# by it (model/lab.py).
TEAMMATE_FOLDER = "-teammate"

# Files of a lab: the room it joined (committed), and what the lab tool remembers (in .git/, so
# never committed nor shown by git status).
ROOM_FILE = "workshop-room.yaml"
PROGRESS_FILE = ".git/workshop-progress.json"
CHECK_MEMO_FILE = ".git/workshop-check-memo.json"  # the last verdict and what it read (actions/check_memo.py)
START_MESSAGE = "Start of the DVC workshop lab"  # the lab's first commit: every step's start state
