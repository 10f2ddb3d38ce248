"""Every version the lab promises stays recoverable: a tag's outputs, as its dvc.lock records
them, held by the remote (or at least the cache, from where `dvc push` sends them).

`dvc gc -w -c` keeps only the workspace's objects, in the cache and in the remote alike: a tag's
model and data are then gone for every teammate (`dvc status -c -T` says "missing"), while the
steps that compare the workspace find nothing wrong. What rebuilds them is the tag's own pipeline:
checked out, run again (the same data and seeds give the same objects on the same laptop), pushed.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from dvc_workshop.lab.model import yaml_text
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem

CACHE = ".dvc/cache/files/md5"


@dataclass(frozen=True)
class Version:
    """A version the lab promises its teammates: a tag, an experiment pushed to origin."""

    label: str  # as the problem names it: "tag baseline", "experiment dropout-04"
    commit: str  # what git checks out: the tag, the experiment's commit
    push: str  # what sends its outputs from the cache to the remote


def locked_at(lab: Lab, commit: str) -> list[dict]:
    """The stages of dvc.lock as `commit` has it (none where it has none, or it does not parse)."""
    try:
        stages = (yaml_text.load(lab.git_output("show", f"{commit}:dvc.lock")) or {}).get("stages") or {}
    except (yaml.YAMLError, AttributeError):
        return []
    return [stage for stage in stages.values() if isinstance(stage, dict)] if isinstance(stages, dict) else []


def cached_outputs(lab: Lab, tag: str) -> dict[str, tuple[str, bool]]:
    """The outputs of `tag`'s dvc.lock that DVC caches (not those git holds: metrics, `cache:
    false`), each with its object and whether the cache has it."""
    outs = {
        str(out["path"]): str(out["md5"])
        for stage in locked_at(lab, tag)
        for out in stage.get("outs") or []
        if isinstance(out, dict) and out.get("md5") and out.get("path")
    }
    if not outs:
        return {}
    in_git = set(lab.git_output("ls-tree", "-r", "--name-only", tag, "--", *outs).splitlines())
    cache = lab.root / CACHE
    return {
        path: (md5, (cache / md5[:2] / md5[2:]).exists()) for path, md5 in outs.items() if path not in in_git
    }


def missing_from_remote(lab: Lab, commit: str, in_cache: bool) -> list[str]:
    """The outputs of `commit` that the remote lacks, among those the cache has (`in_cache`) or has
    not; the remote asked once for all of them (either way, the next call's answer is known)."""
    outs = cached_outputs(lab, commit)
    remote = lab.dvc_state.objects_in_remote({md5 for md5, _ in outs.values()})
    return sorted(path for path, (md5, cached) in outs.items() if cached == in_cache and md5 not in remote)


def lost_outputs(lab: Lab, commit: str) -> list[str]:
    """The outputs of `commit`'s dvc.lock whose objects neither the cache nor the remote holds."""
    return missing_from_remote(lab, commit, in_cache=False)


def tagged(lab: Lab) -> list[Version]:
    """The lab's tags, oldest first: versions a teammate checks out by name."""
    return [Version(f"tag {tag}", tag, "dvc push --all-tags")
            for tag in lab.git_output("tag", "--sort=creatordate").split()]  # fmt: skip


def check_last_copies_pushed(lab: Lab, versions: list[Version]) -> None:
    """No promised version's output is in the cache alone (the remote lost it: a `dvc gc -c`, a
    bucket emptied), where a `dvc gc -w` would delete its last copy."""
    for version in versions:
        if only_here := missing_from_remote(lab, version.commit, in_cache=True):
            raise Problem(
                f"only your cache holds {', '.join(only_here)} of {version.label}: the remote lost them, and "
                "dvc gc -w would delete the last copy",
                version.push,
            )


def check_versions_kept(lab: Lab, versions: list[Version]) -> None:
    """Each promised version's outputs recoverable; the first that lost some is named with how to
    rebuild it (its pipeline run again where it was committed), or to push them from the cache."""
    for version in versions:
        if lost := lost_outputs(lab, version.commit):
            raise Problem(
                f"neither the remote nor your cache holds {', '.join(lost)} of {version.label} (a dvc gc -c "
                "that kept only the workspace's?): dvc pull fails there for everyone; its pipeline, run "
                "again there, makes them again (checked out without dvc install's hook, whose dvc "
                "checkout has nothing to check out there)",
                f"git -c core.hooksPath=/dev/null checkout -q {version.commit} && dvc repro && dvc push && "
                "git checkout -q main",
            )
    check_last_copies_pushed(lab, versions)
