"""Where a check is typed: the lab it answers for (a folder inside it, step 12's project beside
it, the teammate's clone), the folder its hints run from, and whether the shell it was typed in
can run them.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.lab import LAB_MARK, Lab
from dvc_workshop.lab.model.layout import EXAMPLE_LAB
from dvc_workshop.lab.steps.registry import STEPS, number_of

MAKE_ONE = f"pipenv run workshop start ../{EXAMPLE_LAB}, in the workshop's folder, makes one"


def find_lab(folder: Path) -> Lab:
    """The lab that `folder` is in (its root, or any folder inside it), or a line saying where it is."""
    folder = folder.resolve()
    top = next((f for f in (folder, *folder.parents) if (f / ".git").exists()), None)
    if top is None:
        raise WorkshopError(f"{folder} is in no git repository: cd to your lab ({MAKE_ONE})")
    lab = Lab(top)
    origin = lab.origin
    if lab.git_output("config", LAB_MARK) or (origin and origin.name.endswith("-origin.git")):
        return lab  # a lab, or a teammate's clone of one
    for step in STEPS:  # a folder a step makes beside the lab (step 12's project): its lab answers
        owner = top.with_name(top.name.removesuffix(step.folder)) if step.folder else top
        if owner != top and (owner / ".git").is_dir() and Lab(owner).git_output("config", LAB_MARK):
            return Lab(owner)
    raise WorkshopError(f"{top} is not a lab (the workshop's own repository?): cd to your lab ({MAKE_ONE})")


def answering_for(lab: Lab, through: int | None) -> tuple[Lab, str | None]:
    """The lab a check answers for: in a teammate's clone, the clone itself for the pipeline's steps
    (the README's `workshop check 4` there: has the clone what a teammate needs?), else the lab it
    is a clone of, whose steps (a tag, experiments, dvc gc) are the attendee's work; the line
    that says so."""
    pipeline = number_of("train_evaluate")
    owner = lab.attendee_lab
    if not lab.is_teammate or owner is lab or (through is not None and through <= pipeline):
        return lab, None
    clone, mine = lab.root.name, owner.root.name
    return owner, (f"({clone} is a teammate's clone of {mine}: this check answers for {mine}; "
                   f"workshop check {pipeline} here checks the clone's own pipeline.)")  # fmt: skip


def shell_has(command: str) -> bool:
    """Whether the shell this check was typed in finds `command` (read from the parent process,
    where the system shows it: Linux's /proc; elsewhere assumed). `pipenv run` puts its
    environment's programs on the check's PATH only, so its hints run in a shell without them; a
    `pipenv shell` (PIPENV_ACTIVE) or an activated environment (VIRTUAL_ENV) adds them to its PATH
    after it starts, where /proc does not show it: those have it."""
    try:
        environ = Path(f"/proc/{os.getppid()}/environ").read_bytes().split(b"\0")
    except OSError:
        return True
    names = dict(item.decode(errors="replace").split("=", 1) for item in environ if b"=" in item)
    if names.get("PIPENV_ACTIVE") or names.get("VIRTUAL_ENV") or "PATH" not in names:
        return True
    return shutil.which(command, path=names["PATH"]) is not None


def from_here(lab: Lab, hint: str) -> str:
    """A hint as it runs from the folder the check was typed in: the lab's hints run in its top
    folder, so from a subfolder (or step 12's project beside it) they go there first."""
    here = Path.cwd().resolve()
    return hint if here == lab.root else f"cd {shlex.quote(os.path.relpath(lab.root, here))} && {hint}"
