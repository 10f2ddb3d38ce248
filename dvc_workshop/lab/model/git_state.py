"""What git itself is in the middle of, and where HEAD is: read as `git status` reads them.

An operation under way (a rebase, a merge, a cherry-pick...) leaves its files in the git folder
until it is continued or abandoned, whatever the attendee types meanwhile; HEAD is on a branch,
or detached (at a tag, or in the middle of a rebase). Nothing here changes the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dvc_workshop.lab.model.runner import Runner


@dataclass(frozen=True)
class Operation:
    """A git operation under way, as `git status` names it, and git's own ways on from there."""

    name: str  # "rebase", "merge", ...
    marker: str  # what it leaves in the git folder while under way
    ways_on: str  # how it goes on, in git's words
    abort: str  # the command that goes back to before it
    sides: str = ""  # whose side --ours and --theirs are in it, where that is not a merge's

    def said(self) -> str:
        return f"a {self.name} is under way"


# In the order git status looks for them: `git am` keeps its files where a rebase of old did.
OPERATIONS = (
    Operation("git am", "rebase-apply/applying", "git am --continue once each file is fixed and added",
              "git am --abort"),
    Operation("rebase", "rebase-merge", "git rebase --continue once each file is fixed and added",
              "git rebase --abort",
              "in a rebase --ours is origin's side, the one you rebase onto, and --theirs your own commit"),
    Operation("rebase", "rebase-apply", "git rebase --continue once each file is fixed and added",
              "git rebase --abort",
              "in a rebase --ours is origin's side, the one you rebase onto, and --theirs your own commit"),
    Operation("merge", "MERGE_HEAD", "git commit once each file is fixed and added", "git merge --abort"),
    Operation("cherry-pick", "CHERRY_PICK_HEAD", "git cherry-pick --continue once each file is fixed and "
              "added", "git cherry-pick --abort",
              "in a cherry-pick --ours is your branch and --theirs the commit picked"),
    Operation("revert", "REVERT_HEAD", "git revert --continue once each file is fixed and added",
              "git revert --abort"),
    Operation("bisect", "BISECT_LOG", "git bisect good or git bisect bad, until git names a commit",
              "git bisect reset"),
)  # fmt: skip


class GitState:
    """One repository's git state, each part read when first asked for."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def git_dir(self) -> Path:
        return Path(self.runner.git_output("rev-parse", "--absolute-git-dir") or self.runner.root / ".git")

    def operation(self) -> Operation | None:
        """The operation under way, if any (git's own files say so, not the attendee's commands)."""
        folder = self.git_dir()
        return next((op for op in OPERATIONS if (folder / op.marker).exists()), None)

    def unmerged(self) -> list[str]:
        """The files with conflicts not yet resolved (`git status`: both modified)."""
        return self.runner.git_output("diff", "--name-only", "--diff-filter=U").split()

    def branch(self) -> str | None:
        """The branch HEAD is on; None where HEAD is detached (a tag, a commit, a rebase)."""
        return self.runner.git_output("symbolic-ref", "-q", "--short", "HEAD") or None

    def where_head_is(self) -> str:
        """HEAD in words: the tag at it, else its short hash and subject."""
        tag = self.runner.git_output("describe", "--tags", "--exact-match", "HEAD")
        return f"tag {tag}" if tag else self.runner.git_output("log", "-1", "--format=commit %h (%s)", "HEAD")

    def contains(self, branch: str, commit: str = "HEAD") -> bool:
        """Whether `branch` already holds `commit` (leaving it loses nothing)."""
        result = self.runner.completed("git", "merge-base", "--is-ancestor", commit, branch)
        return result.returncode == 0

    def embedded(self) -> list[str]:
        """Folders git holds as a pointer to another repository (a clone inside, `git add`ed)."""
        lines = self.runner.git_output("ls-files", "--stage").splitlines()
        return [line.split("\t", 1)[1] for line in lines if line.startswith("160000 ")]

    def tracked_under(self, paths: list[str]) -> list[str]:
        """Which of `paths` (files or folders) git holds some file of."""
        if not paths:
            return []
        listed = self.runner.git_output("ls-files", "--", *paths).splitlines()
        return [
            path for path in paths if any(f == path or f.startswith(f"{path.rstrip('/')}/") for f in listed)
        ]
