"""Lab step 6: a tag, a changed parameter committed after it, data and code together again on
main, and `dvc install`'s hooks."""

from __future__ import annotations

from dvc_workshop.lab.problem import Problem
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.steps.data_state import all_outputs, check_pushed, check_workspace
from dvc_workshop.lab.steps.entry import Reset, Step, fixed

HOOKS = ("post-checkout", "pre-commit", "pre-push")  # what dvc install writes


def check(lab: Lab) -> None:
    tags = lab.git("tag", "--sort=-creatordate").split()
    if not tags:
        raise Problem("no git tag yet", "git tag baseline")
    if not lab.git("symbolic-ref", "-q", "HEAD"):
        raise Problem("HEAD is not on a branch (still at a tag?)", "git checkout main && dvc checkout")
    for stage in lab.stages:
        check_workspace(lab, stage)
    changed = lab.git("diff", "--name-only", tags[0], "HEAD").split()
    if "params.yaml" not in changed or "dvc.lock" not in changed:
        raise Problem(
            f"no commit since tag {tags[0]} changes params.yaml and dvc.lock",
            "sed -i.bak 's/^  epochs: .*/  epochs: 5/' params.yaml && rm params.yaml.bak && dvc repro "
            "&& git commit -am 'Five epochs'",
        )
    hook = lab.root / ".git/hooks/post-checkout"
    if "dvc" not in (hook.read_text() if hook.exists() else ""):
        raise Problem(
            "dvc install has not been run: git checkout leaves the data of the last commit", "dvc install"
        )
    check_pushed(lab, all_outputs(lab))


def undo(lab: Lab) -> None:
    for tag in lab.git("tag").split():
        lab.must("git", "tag", "-d", tag)
        print(f"Deleted tag {tag} (its commit stays: git log shows it).")
    for hook in HOOKS:
        path = lab.root / ".git/hooks" / hook
        if path.exists() and "dvc" in path.read_text():
            path.unlink()
            print(f"Removed the {hook} hook dvc install wrote.")


STEP = Step(
    6,
    "Versions: tag, change, go back",
    check,
    fixed(
        "git tag baseline marks this version; then change a parameter, dvc repro, git commit, dvc push",
        "git checkout baseline then dvc checkout brings back that version's data; dvc install makes git "
        "checkout do the dvc checkout itself; end on main (git checkout main)",
    ),
    Reset(undo=undo),
)
