"""Lab step 10: the local cache holds only what the workspace uses (`dvc gc -w`).

What `dvc gc -w` would remove is read from the cache itself, as dvc.org documents its layout
(`.dvc/cache/files/md5/XX/YYYY...`, a folder's listing in a `.dir` object): every object there that
no output in dvc.lock or a `.dvc` file names, a folder's files counted through its listing.
"""

from __future__ import annotations

import json
from pathlib import Path

from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.steps.entry import Reset, Step, fixed


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
    used = objects_named(cache, {str(entry.get("md5")) for entry in entries if isinstance(entry, dict)})
    deps = {str(dep.get("md5")) for stage in lab.locked.values() for dep in stage.get("deps", []) or []}
    unused = stored - used
    return unused, unused & objects_named(cache, deps)


def check(lab: Lab) -> None:
    if not lab.git("for-each-ref", "refs/exps"):
        raise Problem(
            "no experiments yet, so nothing to collect", "workshop check 9 says what step 9 still needs"
        )
    unused, listings = unused_objects(lab)
    if unused - listings:  # a dependency's listing alone is not garbage: dvc status caches it again
        raise Problem(
            "the local cache holds objects the workspace does not use (dvc gc -w --dry lists them)",
            "dvc gc -w -f",
        )


STEP = Step(
    10,
    "Housekeeping: dvc gc",
    check,
    fixed(
        "dvc gc -w --dry lists what it would remove (cache objects the workspace does not use); "
        "dvc gc -w -f removes them"
    ),
    Reset(nothing="Step 10 has nothing to put back: dvc gc removed only cache objects nothing uses."),
)
