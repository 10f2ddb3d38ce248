"""Lab step 7: a teammate's clone of the lab's origin beside it (FOLDER-teammate), with the
lab's stages, and every file dvc.lock names there (pulled from the remote, nothing recomputed)."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterator

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.mechanisms.data_state import check_workspace
from dvc_workshop.lab.mechanisms.entry import Reset, Step, explanations
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import TEAMMATE_FOLDER
from dvc_workshop.lab.model.problem import Problem


def check(lab: Lab) -> None:
    teammate = lab.teammate
    clone_at = lab.relative(STEP.folder_at(lab))
    if teammate is None:
        origin = lab.relative(lab.origin) if lab.origin else "origin"
        if (STEP.folder_at(lab) / ".git").is_dir():
            raise Problem(
                f"{clone_at} is not a clone of {origin} (a copy of the lab?)",
                f"rm -rf {shlex.quote(clone_at)} && git clone {shlex.quote(origin)} {shlex.quote(clone_at)}",
            )
        raise Problem(
            f"no teammate's clone at {clone_at}",
            f"git push origin main && git clone "
            f"{shlex.quote(origin)} {shlex.quote(clone_at)} && cd {shlex.quote(clone_at)} && dvc pull",
        )
    missing = sorted(set(lab.stages) - set(teammate.stages))  # its own commits are fine (lab step 11)
    if not teammate.stages or missing:
        raise Problem(
            f"{clone_at} has {f'no stage {missing[0]}' if teammate.stages else 'none of your stages'} yet",
            f"git push origin main && cd {shlex.quote(clone_at)} && git pull",
        )
    try:
        for stage in teammate.stages:
            check_workspace(teammate, stage)
    except Problem as problem:  # said as from the lab, where the attendee types
        hint = problem.hint or ""
        inside = hint if hint.startswith("cd ") else f"cd {shlex.quote(clone_at)} && {hint}"
        raise Problem(f"in {clone_at}: {problem.what}", inside) from None
    if not pulled_since_clone(teammate):
        raise Problem(
            f"{clone_at} has pulled no change since its clone (the step's second half: a change of "
            "yours, pulled there with its data)",
            f"{new_dropout(lab)} && dvc repro && git commit -qam 'Dropout changed' && dvc push && "
            f"git push origin main && cd {shlex.quote(clone_at)} && git pull && dvc pull",
        )


def pulled_since_clone(teammate: Lab) -> bool:
    """Whether the clone holds a commit that changed dvc.lock after the one it was cloned at (the
    oldest entry of its HEAD's reflog): a run of the lab's, come through git and the remote."""
    cloned_at = teammate.git_output("reflog", "--format=%H", "HEAD").splitlines()[-1:]
    if not cloned_at:  # no reflog (turned off): nothing tells the clone's first commit, so no problem
        return True
    return bool(teammate.git_output("log", "--format=%H", f"{cloned_at[0]}..HEAD", "--", "dvc.lock"))


def new_dropout(lab: Lab) -> str:
    """The README's change, from whatever dropout the lab has now to another."""
    dropout = (lab.yaml_file("params.yaml").get("train") or {}).get("dropout")
    other = 0.2 if dropout != 0.2 else 0.3
    return f"sed -i.bak 's/^  dropout: .*/  dropout: {other}/' params.yaml && rm params.yaml.bak"


def undo(lab: Lab) -> Iterator[str]:
    """The teammate's clone removed, once origin has all of it; its line for reset to say."""
    teammate = lab.teammate
    if teammate is None:
        yield "No teammate's clone: nothing to remove."
        return
    if teammate.git_output("status", "--porcelain") or teammate.git_output(
        "log", "--oneline", "@{upstream}..HEAD"
    ):
        raise WorkshopError(
            f"{teammate.root} has work that is not in origin: git commit and git push it there first"
        )
    shutil.rmtree(teammate.root)
    yield f"Removed {teammate.root} (all of it was in origin)."


STEP = Step(
    "A teammate clones and pulls",
    check,
    explanations(
        "the teammate gets the code and dvc.lock with git (git clone, git pull) and the data with dvc pull",
        "a file the teammate cannot pull was committed without dvc push: dvc push in your lab, then dvc "
        "pull in the teammate's clone",
    ),
    Reset(undo=undo),
    folder=TEAMMATE_FOLDER,  # the lab's readings find the clone by it too (Lab.teammate)
)
