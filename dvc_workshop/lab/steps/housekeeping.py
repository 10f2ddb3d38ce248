"""Lab step 10: the local cache holds only what the workspace uses (`dvc gc -w`)."""

from __future__ import annotations

import re

from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.steps.entry import Reset, Step, fixed


def check(lab: Lab) -> None:
    if not lab.git("for-each-ref", "refs/exps"):
        raise Problem(
            "no experiments yet, so nothing to collect", "workshop check 9 says what step 9 still needs"
        )
    dry_run = lab.dvc("gc", "--workspace", "--dry", "--force")
    removed = re.findall(
        r"^Removing .*[/\\](\w\w)[/\\]([\w.]+)$", dry_run.stdout + dry_run.stderr, flags=re.M
    )
    # `dvc status` itself caches the listing of a gs:// dependency (the raw bucket): not garbage.
    dependencies = {dep.get("md5") for stage in lab.locked.values() for dep in stage.get("deps", [])}
    unused = [head + tail for head, tail in removed if head + tail not in dependencies]
    if unused:  # DVC's own count, that listing included: dvc gc -w removes it too
        raise Problem(
            f"the local cache holds {len(removed)} objects the workspace does not use", "dvc gc -w -f"
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
