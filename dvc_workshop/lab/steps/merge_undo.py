"""`workshop reset 11`: main back where lab step 11 started, in the lab, in origin and in the
teammate's clone (the step's commits are in all three: a commit of its own cannot take them back
without a merge of its own). Nothing is lost: each main it moves stays a branch of the lab."""

from __future__ import annotations

from dvc_workshop.cli import WorkshopError
from dvc_workshop.lab.repo.git import Runner
from dvc_workshop.lab.repo.lab import Lab
from dvc_workshop.lab.repo.merging import git_outputs, made_in

BRANCH = "before-reset-11"


def step_start(lab: Lab, tips: list[str], made: set[str]) -> str:
    """The commit the step's changes grew from: what every main shares, before any commit made in
    the teammate's clone (after a fast-forward, main holds the teammate's commit itself)."""
    ours = made & set(lab.git("rev-list", *tips).split())
    starts = [f"{c}^" for c in ours if len(lab.git("rev-list", "--parents", "-n", "1", c).split()) == 2]
    return lab.git("merge-base", "--octopus", *tips, *starts)


def free_branch(lab: Lab, name: str, tip: str) -> str:
    """`name`, or `name-2`, `name-3`...: a branch name that holds no other commit (an earlier reset's)."""
    candidate, number = name, 1
    while lab.git("rev-parse", "-q", "--verify", f"refs/heads/{candidate}") not in ("", tip):
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def undo(lab: Lab) -> None:
    """Refused where main changed other files since the step's start (another step's work, which
    this would take back too). Uncommitted changes go to git stash; a merge in progress is aborted
    (its resolution was not committed); the lab's cache is left as step 10 left it (dvc gc -w)."""
    teammate = lab.teammate
    if teammate is None or lab.origin is None:
        print(
            "No teammate's clone: step 11 has nothing to put back (workshop check 7 says what step 7 needs)."
        )
        return
    origin = Runner(lab.origin)
    lab.must("git", "fetch", "-q", "origin")
    lab.must("git", "fetch", "-q", str(teammate.root), "HEAD")  # the teammate's commits, known here
    tips = {"": lab.git("rev-parse", "HEAD"), "-origin": origin.git("rev-parse", "main")}
    tips["-teammate"] = teammate.git("rev-parse", "HEAD")
    start = step_start(lab, list(tips.values()), made_in(teammate))
    since = lab.git("log", "-1", "--format=%h (%s)", start)
    for tip in set(tips.values()):
        other = set(lab.git("diff", "--name-only", start, tip).split()) - {"params.yaml", *git_outputs(lab)}
        if other:
            raise WorkshopError(
                f"main changed {', '.join(sorted(other))} since {since}, where step 11 "
                "started: another step's work, which reset 11 would take back too"
            )
    for clone in (lab, teammate):
        if clone.git("rev-parse", "-q", "--verify", "MERGE_HEAD"):
            clone.must("git", "merge", "--abort")
            print(f"Aborted the merge in progress in {clone.root} (its resolution was not committed).")
        if clone.git("status", "--porcelain", "--untracked-files=no"):
            clone.must("git", "stash", "push", "-q", "-m", "before workshop reset 11")
            print(f"Uncommitted changes of {clone.root} are in its git stash list (git stash pop there).")
    if set(tips.values()) == {start}:
        print(f"Main is where step 11 starts, at {since}, in the lab, in origin and in the clone.")
        return
    kept = {}
    for suffix, tip in tips.items():
        later = any(
            t != tip and lab.run("git", "merge-base", "--is-ancestor", tip, t).returncode == 0
            for t in tips.values()
        )
        if tip != start and not later and tip not in kept.values():
            name = free_branch(lab, f"{BRANCH}{suffix}", tip)
            lab.must("git", "branch", "-f", name, tip)
            kept[name] = tip
    lab.must("git", "reset", "-q", "--hard", start)
    origin.must("git", "update-ref", "refs/heads/main", start)
    teammate.must("git", "reset", "-q", "--hard", start)
    for clone in (lab, teammate):
        clone.must("git", "fetch", "-q", "origin")
        clone.must("dvc", "checkout")
    lab.must("dvc", "gc", "-w", "-f")
    print(
        f"Main is back at {since} in the lab, in origin and in {lab.relative(teammate.root)}, with its "
        f"data; the step's commits stay on branch {', '.join(kept)} (git log {next(iter(kept))})."
    )
    print("dvc gc -w -f took the step's data out of the local cache: the remote keeps what was pushed.")
