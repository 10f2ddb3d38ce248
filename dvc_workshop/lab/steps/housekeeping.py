"""Lab step 10: the local cache holds only what the workspace uses (`dvc gc -w`).

What `dvc gc -w` would remove is read from the cache itself, as dvc.org documents its layout
(`.dvc/cache/files/md5/XX/YYYY...`, a folder's listing in a `.dir` object): every object there that
no output in dvc.lock or a `.dvc` file names, a folder's files counted through its listing.
"""

from __future__ import annotations

import json
from pathlib import Path

from dvc_workshop.lab.mechanisms.entry import Reset, Step, explanations
from dvc_workshop.lab.mechanisms.versions_kept import check_last_copies_pushed, locked_at, tagged
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.steps.experiments import STEP as EXPERIMENTS
from dvc_workshop.lab.steps.experiments import shared


def objects_named(cache: Path, digests: set[str]) -> set[str]:
    """The cache objects these digests name, a folder's (`.dir`) files included."""
    found = set(digests)
    for digest in digests:
        if digest.endswith(".dir"):
            try:
                listing = json.loads((cache / digest[:2] / digest[2:]).read_text())
            except (OSError, ValueError):
                continue
            found |= {entry.get("md5", "") for entry in listing if isinstance(entry, dict)}
    return found


def unused_objects(lab: Lab) -> tuple[set[str], set[str]]:
    """The cache's objects the workspace does not use, and those of them that only a dependency
    names (the listing of a gs:// folder, which `dvc status` itself caches again)."""
    cache = lab.root / ".dvc/cache/files/md5"
    stored = {f"{folder.name}{item.name}" for folder in cache.glob("??") for item in folder.iterdir()}
    entries = [entry for stage in lab.locked.values() for entry in stage.get("outs", []) or []]
    for dvc_file in lab.dvc_files:
        entries += lab.yaml_file(dvc_file).get("outs", [])
    for commit in later_commits(lab):  # a later step's versions (step 11's merge): not step 10's garbage
        entries += [entry for stage in locked_at(lab, commit) for entry in stage.get("outs") or []]
    used = objects_named(cache, {str(entry.get("md5")) for entry in entries if isinstance(entry, dict)})
    deps = {str(dep.get("md5")) for stage in lab.locked.values() for dep in stage.get("deps", []) or []}
    unused = stored - used
    return unused, unused & objects_named(cache, deps)


def later_commits(lab: Lab) -> list[str]:
    """The commits of main from the newest experiment's base commit (refs/exps/XX/YYYY.../name) on:
    step 10's workspace and what later steps committed, whose data a `dvc gc -w` after step 10
    would take but step 10 never asked to."""
    refs = lab.git_output("for-each-ref", "--format=%(refname)", "refs/exps").split()
    bases = {"".join(ref.split("/")[2:4]) for ref in refs if ref.count("/") >= 4}
    return lab.git_output("rev-list", "HEAD", *(f"^{base}^@" for base in bases)).split() if bases else []


def check(lab: Lab) -> None:
    if not lab.git_output("for-each-ref", "refs/exps"):
        raise Problem(
            "no experiments yet, so nothing to collect",
            f"workshop check {EXPERIMENTS.number} says what step {EXPERIMENTS.number} still needs",
        )
    unused, listings = unused_objects(lab)
    if unused - listings:  # a dependency's listing alone is not garbage: dvc status caches it again
        check_last_copies_pushed(lab, tagged(lab) + shared(lab))  # before a hint that deletes from the cache
        raise Problem(
            "the local cache holds objects the workspace does not use (dvc gc -w --dry lists them)",
            "dvc gc -w -f",
        )


STEP = Step(
    "Housekeeping: dvc gc",
    check,
    explanations(
        "dvc gc -w --dry lists what it would remove (cache objects the workspace does not use); "
        "dvc gc -w -f removes them"
    ),
    Reset(nothing_to_put_back="dvc gc removed only cache objects nothing uses."),
)
