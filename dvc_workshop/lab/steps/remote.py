"""Lab step 2: the attendee's own folder of the cache bucket as the default DVC remote, named
dvc-workshop (the lab's commands call it so), in `.dvc/config` and committed."""

from __future__ import annotations

import shlex

from dvc_workshop.lab.mechanisms.data_state import commit_command
from dvc_workshop.lab.mechanisms.entry import Reset, Step
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem

REMOTE = "dvc-workshop"  # the README's name for the remote


def target_url(lab: Lab) -> str:
    return f"{lab.buckets[0]}/{lab.attendee}"


def check(lab: Lab) -> None:
    url = target_url(lab)
    add = f"dvc remote add -d -f {REMOTE} {url}"
    default, remotes = lab.remotes("repo")
    local_default, local_remotes = lab.remotes("local")
    if local_default or any(local_remotes.values()):  # credentials there are fine: no URL
        local = next((name for name, address in local_remotes.items() if address), None)
        fix = f"dvc remote remove --local {local}" if local else "dvc remote default --local --unset"
        raise Problem(
            "the remote is in .dvc/config.local, which git ignores: a teammate's clone would not have it",
            f"{fix} && {add}",
        )
    if not default:
        behind_owner(lab)
        if remotes.get(REMOTE) == url or (remotes and list(remotes.values()) == [url]):  # added without -d
            name = REMOTE if REMOTE in remotes else next(iter(remotes))
            raise Problem(
                f"no default DVC remote (there is {name}: {remotes[name]})", f"dvc remote default {name}"
            )
        raise Problem("no default DVC remote", add.replace(" -f ", " ") if REMOTE not in remotes else add)
    have = remotes.get(default, "")
    if have.rstrip("/") != url:
        where = (
            "your folder" if have.startswith(f"{lab.buckets[0]}/") else "the cache bucket's folder for you"
        )
        raise Problem(
            f"the default remote is {have or 'without a URL'} ({default}), not {where} {url}",
            add + (f" && dvc remote remove {default}" if default != REMOTE else ""),
        )
    if default != REMOTE:
        raise Problem(
            f"the default remote is named {default}; the lab's commands call it {REMOTE}",
            f"dvc remote rename {default} {REMOTE}",
        )
    if ".dvc/config" in lab.uncommitted:
        raise Problem(
            ".dvc/config has changes that are not committed",
            commit_command([".dvc/config"], f"DVC remote: {url}"),
        )


def behind_owner(lab: Lab) -> None:
    """A teammate's clone made before the lab's commits were pushed has none of them, its remote
    included: the fix is git, not a remote of its own."""
    owner = lab.attendee_lab
    if owner is lab:
        return
    if (
        lab.completed(
            "git", "merge-base", "--is-ancestor", owner.git_output("rev-parse", "HEAD"), "HEAD"
        ).returncode
        != 0
    ):
        there, back = shlex.quote(lab.relative(owner.root)), shlex.quote(owner.relative(lab.root))
        raise Problem(f"this clone lacks the last commits of {there} (pushed to origin?)",
                      f"cd {there} && git push origin main && cd {back} && git pull")  # fmt: skip


STEP = Step(
    "Your remote",
    check,
    lambda lab, problem: [
        f"dvc remote add -d {REMOTE} {target_url(lab)}: -d makes it the default, the one dvc push uses; the "
        "URL is the cache bucket and a folder of your own",
        "dvc remote list shows it; .dvc/config holds it: git add .dvc/config and commit, so a clone of your "
        "lab has the remote too",
    ],
    Reset(files=(".dvc/config",)),
)
