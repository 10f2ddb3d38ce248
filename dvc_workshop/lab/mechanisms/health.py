"""What must hold at every step, read before any step's own comparison: no git operation left
under way, HEAD on main, no repository inside the lab, nothing git tracks that DVC must own, and
the lab's `.env` leading to the workshop's emulator settings.

A step's check compares files with their targets; these are the states in which that comparison
misleads (a rebase looks like a merge, a tracked output makes `dvc stage add -f` fail, a broken
`.env` sends a new shell's DVC to Google's servers). Each problem's hint works from the state as
it is, in the lab's folder, and loses nothing: an operation is aborted (its commits stay where
they were) or quit, never reset; files leave git's index, not the disk.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator

from dvc_workshop.lab.mechanisms.stage_target import Stage, reference_stages
from dvc_workshop.lab.model.emulator_settings import written_settings
from dvc_workshop.lab.model.git_state import GitState
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.merge import merge_problem
from dvc_workshop.lab.model.problem import Problem, UnderWay

UNTRACKED = "DVC, not git, tracks {}"  # the commit that takes an output out of git


def health_problem(lab: Lab) -> Problem | None:
    """The first thing wrong with the lab as a repository, whatever the step; None if nothing is."""
    git = GitState(lab)
    checks = (check_operation, check_head, check_embedded, check_stray_stages, check_tracked_outputs,
              check_dvc_config, check_settings_link)  # fmt: skip
    for check in checks:
        try:
            check(lab, git)
        except Problem as problem:
            return problem
    return None


def check_operation(lab: Lab, git: GitState) -> None:
    """A rebase, merge, cherry-pick, revert, am or bisect that git still has under way."""
    operation = git.operation()
    if operation is None:
        return
    if operation.name == "merge":
        found = merge_problem(lab) or Problem(f"{operation.said()}: {operation.ways_on}", operation.abort)
        raise UnderWay(found.what, found.hint)  # step 11's resolution keeps both sides (model/merge.py)
    branch = git.branch()
    if operation.name == "rebase" and branch:  # HEAD went back to a branch: the rebase was left behind
        raise UnderWay(
            f"a rebase is still under way in git's eyes (git status: 'You are currently rebasing'), "
            f"though you went on on {branch}: git rebase --quit forgets it and keeps {branch} as it is",
            "git rebase --quit",
        )
    files = git.unmerged()
    conflict = f", stopped at a conflict in {', '.join(files)}" if files else ""
    sides = f" ({operation.sides})" if operation.sides and files else ""
    how = " (git pull --rebase?)" if operation.name == "rebase" else ""
    raise UnderWay(
        f"{operation.said()}{how}{conflict}: {operation.ways_on}{sides}; "
        f"{operation.abort} goes back to before it, your commits kept",
        operation.abort,
    )


def check_head(lab: Lab, git: GitState) -> None:
    """HEAD on main: a tag checked out (step 6) is left with git checkout main."""
    branch = git.branch()
    if branch == "main":
        return
    if branch:
        raise Problem(f"you are on the branch {branch}, not main (every step works on main)",
                      "git checkout main && dvc checkout")  # fmt: skip
    where = git.where_head_is()
    if git.contains("main"):
        raise Problem(f"HEAD is not on a branch (still at a tag?): it is at {where}",
                      "git checkout main && dvc checkout")  # fmt: skip
    keep = f"work-{lab.git_output('rev-parse', '--short', 'HEAD')}"
    raise Problem(
        f"HEAD is not on a branch (still at a tag?): it is at {where}, with commits main has not; the "
        f"hint keeps them on a branch {keep} (git merge {keep} brings them into main)",
        f"git branch {keep} && git checkout main && dvc checkout",
    )


def check_embedded(lab: Lab, git: GitState) -> None:
    """A clone inside the lab, committed with git add: git keeps a pointer to it, no file of it."""
    for path in git.embedded():
        ignore = shlex.quote(f"/{path}/")
        message = shlex.quote(f"{path}: a repository of its own, not part of the lab")
        raise Problem(
            f"git holds {path} as a repository inside the lab (git add of a clone: an 'embedded "
            "repository'), and none of its files: let git ignore it (or move it out of the lab)",
            f"git rm -q --cached {shlex.quote(path)} && echo {ignore} >> .gitignore && git add .gitignore "
            f"&& git commit -qm {message}",
        )


def tracked_outputs(lab: Lab, git: GitState) -> dict[str, str]:
    """Files git tracks where DVC must: a stage's cached output (the lab's, or the step's target),
    or what a `.dvc` file tracks; each with who owns it. DVC refuses to own them ("already
    tracked by SCM")."""
    owners: dict[str, str] = {}
    try:
        for name, stage in lab.stages.items():
            owners |= {out: f"an output of stage {name}" for out in Stage.read(name, stage).cached_outputs()}
        for dvc_file, paths in lab.dvc_files.items():
            owners |= {path: f"tracked by {dvc_file}" for path in paths}
    except Problem:  # dvc.yaml or a .dvc file unreadable: its step's check says so
        pass
    for name, stage in reference_stages(lab.reference).items():
        for out in Stage.read(name, stage).cached_outputs():
            owners.setdefault(out, f"an output of stage {name} once it is written")
    return {path: owners[path] for path in git.tracked_under(sorted(owners))}


def check_stray_stages(lab: Lab, git: GitState) -> None:
    """A dvc.yaml or dvc.lock in a subfolder (dvc stage add typed there): the steps never look
    there, but DVC runs those stages with the lab's, and dvc checkout fails on them."""
    found = lab.git_output(
        "ls-files", "--cached", "--others", "--exclude-standard", "--", "*dvc.yaml", "*dvc.lock"
    )
    stray = [
        path
        for path in found.splitlines()
        if "/" in path and path.rsplit("/", 1)[1] in ("dvc.yaml", "dvc.lock")
    ]
    if not stray:
        return
    tracked = lab.git_output("ls-files", "--", *stray).splitlines()
    untrack = (
        f"git rm -q --cached {shlex.join(tracked)} && git commit -qm 'Stages in the top folder only' && "
        if tracked
        else ""
    )
    folder = stray[0].rsplit("/", 1)[0]
    raise Problem(
        f"{', '.join(stray)}: stages defined in {folder}/ (dvc stage add typed there?), where no step looks, "
        "though DVC runs them with the lab's; the lab's stages belong in its top folder's dvc.yaml",
        f"{untrack}rm {shlex.join(stray)}",
    )


def check_tracked_outputs(lab: Lab, git: GitState) -> None:
    if tracked := tracked_outputs(lab, git):
        first = next(iter(tracked))
        raise Problem(
            f"git tracks {', '.join(tracked)}, which DVC must track ({tracked[first]}): DVC refuses an "
            "output git already tracks; the hint takes it out of git, not off the disk",
            f"git rm -r -q --cached {shlex.join(tracked)} && "
            f"git commit -qm {shlex.quote(UNTRACKED.format(first))}",
        )


def repair(lab: Lab) -> Iterator[str]:
    """What `workshop reset` puts right first, whatever the step, a line for each as done: an
    operation under way ended (aborted, or a rebase left behind quit: commits stay where they
    are), and what git tracks where DVC must taken out of git (its own commit; files stay)."""
    git = GitState(lab)
    if (operation := git.operation()) is not None:
        command = "git rebase --quit" if operation.name == "rebase" and git.branch() else operation.abort
        lab.run_or_fail(*command.split())
        yield f"Ended the {operation.name} under way ({command}): every commit stays where it was."
    if tracked := tracked_outputs(lab, git):
        lab.run_or_fail("git", "rm", "-r", "-q", "--cached", *tracked)
        lab.run_or_fail("git", "commit", "-q", "-m", UNTRACKED.format(next(iter(tracked))))
        yield f"Took {', '.join(tracked)} out of git (DVC tracks them; the files stay): committed."


def check_dvc_config(lab: Lab, git: GitState) -> None:
    """DVC's committed settings emptied (a `dvc init -f` writes `.dvc/config` anew): lines the last
    commit has, none added. Putting the remote back by hand would commit the rest of the loss."""
    committed = lab.git_output("show", "HEAD:.dvc/config").splitlines()
    config = lab.root / ".dvc/config"
    here = config.read_text().splitlines() if config.is_file() else []
    lost = [line for line in committed if line.strip() and line not in here]
    if lost and all(line in committed for line in here if line.strip()):
        lines = f"{len(lost)} line{'s' if len(lost) > 1 else ''}"
        first = f"{lost[0].strip()}{', ...' if len(lost) > 1 else ''}"
        raise Problem(
            f".dvc/config lost {lines} the last commit has ({first}; a dvc init -f?), and gained none: "
            "git puts them back",
            "git checkout HEAD -- .dvc/config",
        )


def check_settings_link(lab: Lab, git: GitState) -> None:
    """The lab's `.env` (pipenv reads it when it opens a shell) leads to the workshop's, where
    the emulator writes its address: without it, DVC in a new shell goes to Google's servers."""
    wanted = lab.reference / ".env"
    settings = written_settings(lab.reference)
    if os.name == "nt" or lab.is_teammate or not settings:
        return
    env = lab.root / ".env"
    if env.resolve() == wanted.resolve():
        return
    kept = env.exists() and not env.is_symlink()  # a file of the attendee's own: kept beside
    link = f"ln -sfn {shlex.quote(str(wanted))} .env"
    raise Problem(
        f".env in the lab no longer leads to the workshop's {wanted} (the emulator at "
        f"{settings.get('STORAGE_EMULATOR_HOST')}): a pipenv shell opened here sends DVC to Google's "
        "servers; once linked again, open a new one (exit, then pipenv shell)",
        f"mv .env .env.mine && {link}" if kept else link,
    )
