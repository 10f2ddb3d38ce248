"""Lab step 8: data no stage produces tracked with `dvc add`: its `.dvc` file and .gitignore
line committed, its data here and pushed."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dvc_workshop.lab.mechanisms.data_state import (
    check_not_ignored,
    check_pushed,
    check_workspace,
    commit_command,
)
from dvc_workshop.lab.mechanisms.entry import Reset, Step, explanations
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem

EXAMPLE = "my-digits"  # the README's folder, and where it comes from
UNZIP = "python -m zipfile -e data/download_mnist/Images/test-00.zip"


def check(lab: Lab) -> None:
    if not lab.dvc_files:
        add = f"dvc add {EXAMPLE}"
        if lab.git_output("ls-files", "--", EXAMPLE):  # committed to git instead: git lets go of it first
            raise Problem(
                f"{EXAMPLE} is tracked by git, not by DVC (git add instead of dvc add?)",
                f"git rm -r -q --cached {EXAMPLE} && {add}",
            )
        unzip = "" if (lab.root / EXAMPLE).is_dir() else f"{UNZIP} {EXAMPLE} && "
        raise Problem("no data tracked with dvc add yet", f"{unzip}{add}")
    for name, tracked in lab.dvc_files.items():
        check_workspace(lab, name)
        folder = posixpath.dirname(name)
        gitignore = posixpath.join(folder, ".gitignore")
        check_not_ignored(lab, [name, gitignore], f"Track {name.removesuffix('.dvc')}")
        changed = [path for path in (name, gitignore) if path in lab.uncommitted]
        if changed:
            raise Problem(
                f"{changed[0]} has changes that are not committed",
                commit_command(changed, f"Track {name.removesuffix('.dvc')} with dvc add"),
            )
        for path in tracked:
            line = f"/{posixpath.basename(path)}"
            if line not in lab.git_output("show", f"HEAD:{gitignore}").splitlines():
                raise Problem(
                    f"{gitignore} in the last commit does not list {line}, which dvc add wrote there",
                    commit_command([gitignore], f"Ignore {path}"),
                )
        check_pushed(lab, tracked)


def undo(lab: Lab) -> Iterator[str]:
    """Each .dvc file removed, a line for each as it goes (reset says them)."""
    for dvc_file in list(lab.dvc_files):
        lab.run_or_fail("dvc", "remove", dvc_file)  # the data stays, untracked
        yield f"Removed {dvc_file} (its data stays where it was, untracked)."


STEP = Step(
    "Data of your own: dvc add",
    check,
    explanations(
        "dvc add FOLDER writes FOLDER.dvc and a .gitignore line: git add both, git commit, then dvc push",
        "pipeline outputs need no dvc add: dvc.lock records them already",
    ),
    Reset(undo=undo),
)
