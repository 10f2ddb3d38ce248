"""Data a `.dvc` file tracks (what `dvc add` recorded: steps 8 and 12), changed in the workspace.

Unlike a stage's output, which only a run should change, such data is the attendee's to change:
files deleted or added are most likely the step's own change (step 12 deletes ten digits), which
`dvc add` records. Putting the recorded version back (`dvc checkout`) would undo it, and with
`--force` delete files that no other copy holds; so that is only offered where the workspace
holds another recorded version, one the cache has, as after a git checkout without dvc checkout.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem

CACHE = ".dvc/cache/files/md5"  # DVC 3's cache: a folder's listing is the object named MD5.dir


def recorded_files(lab: Lab, dvc_file: str) -> set[str] | None:
    """The files a `.dvc` file records for its folder, from its listing in the cache (None: a
    single file, or a listing the cache does not hold)."""
    outs = lab.yaml_file(dvc_file).get("outs") or [{}]
    digest = str(outs[0].get("md5", ""))
    listing = lab.root / CACHE / digest[:2] / digest[2:]
    if not digest.endswith(".dir") or not listing.is_file():
        return None
    return {entry["relpath"] for entry in json.loads(listing.read_text())}


def workspace_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def check_added_data(lab: Lab, dvc_file: str, modified: list[str], saved: bool) -> None:
    """A Problem for data of `dvc_file` that differs from its record: `dvc add` where the change
    is the attendee's (files deleted or added, or content DVC never saved); `dvc checkout` where
    the workspace holds saved content under the same names (another version checked out)."""
    path = modified[0]
    recorded, here = recorded_files(lab, dvc_file), workspace_files(lab.root / path)
    if saved and (recorded is None or recorded == here):
        raise Problem(
            f"{path} is not the version {dvc_file} records (a git checkout without dvc checkout?)",
            "dvc checkout",
        )
    change = "changed"
    if recorded is not None and here < recorded:
        change = f"{len(recorded - here)} of its files deleted"
    elif recorded is not None and here > recorded:
        change = f"{len(here - recorded)} files added"
    raise Problem(
        f"{path} has {change} since {dvc_file} recorded it: dvc add records this version, your change "
        f"(git checkout {dvc_file} && dvc checkout would put the recorded one back instead)",
        f"dvc add {shlex.quote(path)}",
    )
