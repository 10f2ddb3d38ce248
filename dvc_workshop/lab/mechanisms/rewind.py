"""A mechanism of `workshop reset`: main moved back to one commit in the lab, in origin and in the
teammate's clone at once, for a step whose commits are in all three (a commit of its own could not
take them back without a merge of its own). Nothing is lost: each main it moves stays a branch of
the lab, uncommitted changes go to git stash, a merge in progress is aborted. Which commit, and
what may have changed since, is the step's own (steps/merge.py's `undo`).
"""

from __future__ import annotations

from collections.abc import Iterator

from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.runner import Runner


def main_tips(lab: Lab, teammate: Lab) -> dict[str, str]:
    """Main's commit in the lab (""), in origin and in the clone, by the suffix of the branch that
    keeps it; the teammate's and origin's commits fetched into the lab."""
    assert lab.origin is not None
    lab.run_or_fail("git", "fetch", "-q", "origin")
    lab.run_or_fail("git", "fetch", "-q", str(teammate.root), "HEAD")  # the teammate's commits, known here
    tips = {
        "": lab.git_output("rev-parse", "HEAD"),
        "-origin": Runner(lab.origin).git_output("rev-parse", "main"),
    }
    tips["-teammate"] = teammate.git_output("rev-parse", "HEAD")
    return tips


def start_before(lab: Lab, tips: list[str], made: set[str]) -> str:
    """The commit the changes grew from: what every main shares, before any commit made in the
    teammate's clone (`made`; after a fast-forward, main holds the teammate's commit itself)."""
    ours = made & set(lab.git_output("rev-list", *tips).split())
    starts = [
        f"{c}^" for c in ours if len(lab.git_output("rev-list", "--parents", "-n", "1", c).split()) == 2
    ]
    return lab.git_output("merge-base", "--octopus", *tips, *starts)


def free_branch(lab: Lab, name: str, tip: str) -> str:
    """`name`, or `name-2`, `name-3`...: a branch name that holds no other commit (an earlier reset's)."""
    candidate, number = name, 1
    while lab.git_output("rev-parse", "-q", "--verify", f"refs/heads/{candidate}") not in ("", tip):
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def rewind(lab: Lab, teammate: Lab, tips: dict[str, str], start: str, number: int) -> Iterator[str]:
    """Main at `start` in the lab, origin and the clone (`tips`: main_tips), for `workshop reset
    number`; the lab's cache then holds only what the workspace uses (dvc gc -w). A line for each
    thing done, as it is done (reset says them)."""
    assert lab.origin is not None
    origin = Runner(lab.origin)
    since = lab.git_output("log", "-1", "--format=%h (%s)", start)
    for clone in (lab, teammate):
        if clone.git_output("rev-parse", "-q", "--verify", "MERGE_HEAD"):
            clone.run_or_fail("git", "merge", "--abort")
            yield f"Aborted the merge in progress in {clone.root} (its resolution was not committed)."
        if clone.git_output("status", "--porcelain", "--untracked-files=no"):
            clone.run_or_fail("git", "stash", "push", "-q", "-m", f"before workshop reset {number}")
            yield f"Uncommitted changes of {clone.root} are in its git stash list (git stash pop there)."
    if set(tips.values()) == {start}:
        yield f"Main is where step {number} starts, at {since}, in the lab, in origin and in the clone."
        return
    kept = {}
    for suffix, tip in tips.items():
        later = any(
            t != tip and lab.completed("git", "merge-base", "--is-ancestor", tip, t).returncode == 0
            for t in tips.values()
        )
        if tip != start and not later and tip not in kept.values():
            name = free_branch(lab, f"before-reset-{number}{suffix}", tip)
            lab.run_or_fail("git", "branch", "-f", name, tip)
            kept[name] = tip
    lab.run_or_fail("git", "reset", "-q", "--hard", start)
    origin.run_or_fail("git", "update-ref", "refs/heads/main", start)
    teammate.run_or_fail("git", "reset", "-q", "--hard", start)
    for clone in (lab, teammate):
        clone.run_or_fail("git", "fetch", "-q", "origin")
        clone.run_or_fail("dvc", "checkout")
    lab.run_or_fail("dvc", "gc", "-w", "-f")
    yield (
        f"Main is back at {since} in the lab, in origin and in {lab.relative(teammate.root)}, with its "
        f"data; the step's commits stay on branch {', '.join(kept)} (git log {next(iter(kept))})."
    )
    yield "dvc gc -w -f took the step's data out of the local cache: the remote keeps what was pushed."
