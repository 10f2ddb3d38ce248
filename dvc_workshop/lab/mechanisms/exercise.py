"""The lab's exercise, `standardize`, run from the attendee's own file in a child process.

Whatever the attendee wrote (a typo, a syntax error, an endless loop, a wrong type), the check
gets one verdict within a time limit, and an error is shown as theirs: their file, their line,
their message, no frames of this tool.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dvc_workshop.lab.model.progress import Progress, update

if TYPE_CHECKING:
    from dvc_workshop.lab.model.lab import Lab

TIME_LIMIT_S = 10

# Runs in the child: loads the file, calls standardize on a tiny batch, prints one JSON verdict.
CHILD = r"""
import importlib.util, json, sys, traceback
import numpy as np

path = sys.argv[1]
images = np.arange(6, dtype=np.uint8).reshape(1, 2, 3)
expected = (images - np.float32(2.5)) / np.float32(2.0)


def where(error):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
    return f", line {frames[-1].lineno}" if frames else ""


try:
    spec = importlib.util.spec_from_file_location("lab_transforms", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.standardize(images, 2.5, 2.0)
except NotImplementedError:
    verdict = {"state": "unwritten"}
except SyntaxError as error:
    verdict = {"state": "error", "message": f", line {error.lineno}: SyntaxError: {error.msg}"}
except Exception as error:
    verdict = {"state": "error", "message": f"{where(error)}: {type(error).__name__}: {error}"}
else:
    if not isinstance(result, np.ndarray):
        verdict = {"state": "wrong", "message": f"returns {type(result).__name__}, not a numpy array"}
    elif result.shape != images.shape:
        shapes = f"shape {result.shape} for images of shape {images.shape}"
        verdict = {"state": "wrong", "message": f"returns {shapes}"}
    elif not np.allclose(result, expected):
        verdict = {"state": "wrong", "message": "gives wrong values: expected (images - mean) / std"}
    elif result.dtype != np.float32:
        verdict = {"state": "wrong", "message": f"gives the right values as {result.dtype}: return float32"}
    else:
        verdict = {"state": "right"}
print(json.dumps(verdict))
"""


def command(file: Path) -> tuple[str, ...]:
    return (sys.executable, "-c", CHILD, str(file))


def known_right(lab: Lab, file: Path) -> bool:
    """Whether this very file was found right before: its verdict is kept by content (in the
    progress file), so that later checks skip the child, for speed."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None
    return digest is not None and Progress.load(lab.root).exercise_right == digest


def try_standardize(lab: Lab, file: Path) -> dict[str, str]:
    """The verdict on `standardize` in `file`: state right, unwritten, wrong or error (with a message)."""
    if known_right(lab, file):
        return {"state": "right"}
    child = lab.completed_within(
        *command(file), timeout=TIME_LIMIT_S
    )  # started early by the check, if it could
    if child is None:
        return {"state": "error", "message": f" did not return within {TIME_LIMIT_S} s (an endless loop?)"}
    lines = child.stdout.strip().splitlines()
    try:
        verdict = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):  # it printed over our verdict, or the child died
        last = (child.stderr.strip().splitlines() or ["no output"])[-1]
        return {"state": "error", "message": f": the check could not run it ({last})"}
    if verdict.get("state") == "right":
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        update(lab.root, lambda progress: setattr(progress, "exercise_right", digest))
    return verdict
