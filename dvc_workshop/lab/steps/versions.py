"""Lab step 6: a tag, a changed parameter committed after it, data and code together again on
main, and `dvc install`'s hooks."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.mechanisms.data_state import all_outputs, check_pushed, check_workspace
from dvc_workshop.lab.mechanisms.entry import Reset, Step, explanations
from dvc_workshop.lab.mechanisms.versions_kept import check_versions_kept, tagged
from dvc_workshop.lab.model.lab import Lab, start_commit
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.model.progress import Progress

HOOKS = ("post-checkout", "pre-commit", "pre-push")  # what dvc install writes
EPOCHS = re.compile(r"^  epochs: .*$", re.M)  # the line the README's change edits (train's)
TAG = "baseline"  # the README's: its later commands name it (dvc params diff baseline, git checkout baseline)
TRAINS = re.compile(r"^  train:$", re.M)  # a dvc.lock with step 5's train stage run


def check(lab: Lab) -> None:
    if not lab.git_output("tag", "--list", TAG):
        raise no_tag(lab)
    if not lab.git_output("symbolic-ref", "-q", "HEAD"):
        raise Problem("HEAD is not on a branch (still at a tag?)", "git checkout main && dvc checkout")
    for stage in lab.stages:
        check_workspace(lab, stage)
    changed = lab.git_output("diff", "--name-only", TAG, "HEAD").split()
    if "params.yaml" not in changed or "dvc.lock" not in changed:
        check_tag_place(lab, TAG)
        epochs = (lab.yaml_file("params.yaml").get("train") or {}).get("epochs")
        value, word = ("4", "Four") if str(epochs) == "5" else ("5", "Five")  # a value that changes it
        raise Problem(
            f"no commit since tag {TAG} changes params.yaml and dvc.lock",
            f"sed -i.bak 's/^  epochs: .*/  epochs: {value}/' params.yaml && rm params.yaml.bak && dvc repro "
            f"&& git commit -am '{word} epochs'",
        )
    hook = lab.root / ".git/hooks/post-checkout"
    if "dvc" not in (hook.read_text() if hook.exists() else ""):
        raise Problem(
            "dvc install has not been run: git checkout leaves the data of the last commit", "dvc install"
        )
    check_pushed(lab, all_outputs(lab))
    check_versions_kept(lab, tagged(lab))


def no_tag(lab: Lab) -> Problem:
    """No tag of the README's name: one of a name close to it (a typo) is renamed; a change already
    committed puts the tag on the version before it (where a deleted tag was); else a new tag."""
    tags = lab.git_output("tag").split()
    if close := difflib.get_close_matches(TAG, tags, n=1, cutoff=0.6):
        return Problem(
            f"tag {close[0]} is not {TAG}, the name the README's commands use (dvc params diff {TAG}, "
            f"git checkout {TAG})",
            f"git tag {TAG} {close[0]} && git tag -d {close[0]}",
        )
    if change := first_change(lab):
        before, what = lab.git_output("log", "-1", "--format=%h%x00%s", f"{change}~1").split("\0", 1)
        return Problem(
            f"no tag {TAG}: the version before your change of parameters (commit "
            f"{lab.git_output('log', '-1', '--format=%h (%s)', change)}) is commit {before} ({what})",
            f"git tag {TAG} {before}",
        )
    return Problem(f"no git tag {TAG} yet", f"git tag {TAG}")


def first_change(lab: Lab) -> str | None:
    """The first commit of main since the lab's start that changes params.yaml and dvc.lock of a
    pipeline that trains (step 5 done): the step's change, whose parent the tag marks."""
    try:
        since = f"{start_commit(lab)}..HEAD"
    except WorkshopError:  # its first commit rewritten: the whole history
        since = "HEAD"
    for commit in lab.git_output("rev-list", "--first-parent", "--reverse", since).split():
        changed = lab.git_output("diff", "--name-only", f"{commit}~1", commit).split()
        if {"params.yaml", "dvc.lock"} <= set(changed) and TRAINS.search(
            lab.git_output("show", f"{commit}~1:dvc.lock")
        ):
            return commit
    return None


def check_tag_place(lab: Lab, tag: str) -> None:
    """The tag on the version before the change: a tag put on the change itself (made first, tagged
    after) belongs on the commit before it, which `git tag -f` moves it to (no commit is lost)."""
    own = lab.git_output("diff", "--name-only", f"{tag}~1", tag).split()
    if "params.yaml" in own and "dvc.lock" in own:
        where = lab.git_output("log", "-1", "--format=%h (%s)", tag)
        before = lab.git_output("log", "-1", "--format=%h", f"{tag}~1")
        raise Problem(
            f"tag {tag} is on commit {where}, which itself changes params.yaml and dvc.lock: the tag marks "
            f"the version before a change, commit {before}",
            f"git tag -f {tag} {before}",
        )


def undo(lab: Lab) -> Iterator[str]:
    """The tags and dvc install's hooks taken out, and the step's change of epochs, a line for each
    as it goes (reset says them)."""
    for tag in lab.git_output("tag").split():
        lab.run_or_fail("git", "tag", "-d", tag)
        yield f"Deleted tag {tag} (its commit stays: git log shows it)."
    for hook in HOOKS:
        path = lab.root / ".git/hooks" / hook
        if path.exists() and "dvc" in path.read_text():
            path.unlink()
            yield f"Removed the {hook} hook dvc install wrote."
    yield from epochs_back(lab)


def epochs_back(lab: Lab) -> Iterator[str]:
    """The README's change (train's epochs line) back to the start's, with its run (dvc repro takes
    it from DVC's run cache), so that the step's answer can change it again; only while the lab is
    at this step (a later step's experiments may have chosen the epochs since)."""
    original = EPOCHS.search(lab.git_output("show", f"{start_commit(lab)}:params.yaml"))
    params = lab.root / "params.yaml"
    current = EPOCHS.search(params.read_text()) if params.is_file() else None
    if not original or not current or original.group() == current.group():
        return
    was, now = (match.group().split("#")[0].strip() for match in (current, original))
    if (Progress.load(lab.root).step or STEP.number) > STEP.number:
        yield f"params.yaml keeps {was}: steps after this one were done with it."
        return
    if lab.git_output("status", "--porcelain", "--", "params.yaml", "dvc.lock"):
        lab.run_or_fail("git", "stash", "push", "-q", "-m", f"before workshop reset {STEP.number}", "--",
                        "params.yaml", "dvc.lock")  # fmt: skip
        yield "Your uncommitted changes to params.yaml and dvc.lock are in git stash list (git stash pop)."
    params.write_text(EPOCHS.sub(original.group(), params.read_text(), count=1))
    lab.run_or_fail("dvc", "repro", timeout=1800)
    lab.run_or_fail("dvc", "push", timeout=1800)  # step 5 done: its outputs in the remote too
    yield f"params.yaml's {was} is back to {now}, as at the step's start; dvc repro ran it, dvc push sent it."


STEP = Step(
    "Versions: tag, change, go back",
    check,
    explanations(
        "git tag baseline marks this version; then change a parameter, dvc repro, git commit, dvc push",
        "git checkout baseline then dvc checkout brings back that version's data; dvc install makes git "
        "checkout do the dvc checkout itself; end on main (git checkout main)",
    ),
    Reset(undo=undo),
)
