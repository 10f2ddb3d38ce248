"""Whether what a stage (or a `.dvc` file) declares is real: run, its outputs the ones dvc.lock
records, committed, pushed. Each check raises a Problem for the first thing that is not so, with
the command that works in the state found (`dvc checkout` where the cache has the data, `dvc
pull` where only the remote has it, `dvc repro` where nothing has it), in the attendee's names.
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex

from dvc_workshop.lab.mechanisms.added_data import check_added_data
from dvc_workshop.lab.mechanisms.module_imports import listed
from dvc_workshop.lab.mechanisms.stage_target import Stage, delete_line, overlaps
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem


def check_params(lab: Lab, stage: Stage) -> None:
    """The stage's sections of params.yaml valid as the stage reads them (else `dvc repro` fails)."""
    from dvc_workshop.params import DownloadParams, ParamsError, PreprocessParams, TrainParams, parse_section

    models = {"download_mnist": DownloadParams, "preprocess": PreprocessParams, "train": TrainParams}
    document = lab.yaml_file("params.yaml")
    for section in (param for param in stage.params if param in models):
        try:
            parse_section(section, document.get(section), models[section])
        except ParamsError as error:
            raise Problem(f"params.yaml: {error} (git diff params.yaml shows the change): dvc repro would "
                          f"stop there", "git checkout params.yaml") from None  # fmt: skip


def check_ran(lab: Lab, name: str) -> None:
    if not (lab.root / "dvc.lock").exists():
        raise Problem(
            f"there is no dvc.lock: stage {name} has not run yet (or dvc.lock was deleted)", "dvc repro"
        )
    if name not in lab.locked:
        raise Problem(f"stage {name} has not run yet: dvc.lock has no entry for it", "dvc repro")


def check_workspace(lab: Lab, name: str) -> None:
    """`dvc status` of one stage or .dvc file: nothing changed, every output here."""
    if name in lab.stages and name in lab.locked:  # redefined since it ran: dvc.lock has no hashes for it
        defined, ran = Stage.read(name, lab.stages[name]), lab.locked[name]
        ran_outs = {str(out.get("path")) for out in ran.get("outs", []) or [] if isinstance(out, dict)}
        if set(defined.outs) != ran_outs:
            raise Problem(f"stage {name} has other outputs than at its last run", "dvc repro")
    changes = [change for change in lab.workspace_status.get(name, []) if isinstance(change, dict)]
    changed_deps = {path for change in changes for path in change.get("changed deps", {})}
    changed_outs = {
        path: state for change in changes for path, state in change.get("changed outs", {}).items()
    }
    absent = sorted(path for path, state in changed_outs.items() if state in ("not in cache", "deleted"))
    if absent:
        uncached = [path for path in absent if changed_outs[path] == "not in cache"]
        where = "not here" if any(not (lab.root / path).exists() for path in absent) else "not in your cache"
        if not uncached:
            raise Problem(f"{', '.join(absent)} of {name} are not here (your cache has them)", "dvc checkout")
        if where == "not in your cache" and (other := [p for p in uncached if not as_recorded(lab, name, p)]):
            # another version here (a git reset, a checkout without dvc checkout): the record's from the
            # remote, by a checkout that never deletes what no cache holds (it asks first)
            if all(remote_has(lab, path) for path in other):
                raise Problem(
                    f"{', '.join(other)} of {name} are another version than {record_of(name)} records, and "
                    "your cache lacks the recorded one (the remote has it)",
                    f"dvc fetch {shlex.quote(name)} && dvc checkout {shlex.quote(name)}",
                )
            raise Problem(
                f"{', '.join(other)} of {name} are another version than {record_of(name)} records, which "
                "neither your cache nor the remote holds: dvc commit records the one here instead",
                f"dvc commit -f {shlex.quote(name)} && dvc push",
            )
        if where == "not in your cache":  # the workspace holds them (.dvc/cache deleted?): save, never fetch
            names = [name, *(other for other in here_not_cached(lab) if other != name)]  # all in one round
            pushed = all(remote_has(lab, path) for path in uncached)
            raise Problem(
                f"{', '.join(absent)} of {name} are here, as {record_of(name)} records them, but not in your "
                f"cache (was .dvc/cache deleted?): dvc commit saves them there as they are (-f: without "
                f"asking){'' if pushed else ', dvc push to the remote'}; dvc pull would stop, as it never "
                "overwrites files the cache does not hold",
                f"dvc commit -f {shlex.join(names)}{'' if pushed else ' && dvc push'}",
            )
        if any(remote_has(lab, path) for path in uncached):
            raise Problem(f"{', '.join(absent)} of {name} are {where} (the remote has them)", "dvc pull")
        if lab.is_teammate:
            nowhere = [path for path in absent_outputs(lab) if not remote_has(lab, path)]
            owner = lab.attendee_lab
            there, back = shlex.quote(lab.relative(owner.root)), shlex.quote(owner.relative(lab.root))
            push = f"cd {there} && dvc push && cd {back}"
            raise Problem(
                f"{count(nowhere)} that dvc.lock names are neither here nor in the remote: "
                "whoever committed them forgot dvc push",
                f"{push} && dvc pull",
            )
        raise Problem(
            f"{', '.join(absent)} of {name} are neither here, nor in your cache, nor in the remote: "
            "dvc repro makes them again",
            "dvc repro",
        )
    modified = sorted(path for path, state in changed_outs.items() if state == "modified")
    record = record_of(name)
    if modified and changed_deps <= set(all_outputs(lab)):
        unsaved = [path for path in modified if not cached_here(lab, path)]
        if name.endswith(".dvc"):  # data of the attendee's own (dvc add): the change is theirs to keep
            check_added_data(lab, name, modified, saved=not unsaved)
        if unsaved:
            raise Problem(
                f"{', '.join(modified)} of {name} are not what {record} records, and DVC never saved "
                f"{'these' if len(unsaved) > 1 else 'this'} (a run stopped half-way, or an edit?): "
                f"dvc checkout --force puts back what {record} records",
                f"dvc checkout --force {shlex.join(unsaved)}",
            )
        raise Problem(
            f"{', '.join(modified)} of {name} are not the outputs {record} records "
            "(a git checkout without dvc checkout?)",
            "dvc checkout",
        )
    if lab.workspace_status.get(name):
        changed = ", ".join(sorted(changed_deps)) or "its command"
        raise Problem(f"{name} changed since its last run ({changed})", "dvc repro")


def here_not_cached(lab: Lab) -> list[str]:
    """The stages and .dvc files whose outputs are all here but not in the cache, nothing else of
    them changed: what `dvc commit` saves as they are (a stage whose dependencies changed is not
    among them: committing it would record a run that never happened)."""
    found = []
    for name, changes in lab.workspace_status.items():
        states = [change for change in changes if isinstance(change, dict)]
        outs = {path: state for change in states for path, state in change.get("changed outs", {}).items()}
        here = outs and all((lab.root / path).exists() for path in outs)
        unchanged = set(outs.values()) == {"not in cache"} and not any(c.get("changed deps") for c in states)
        if (
            here and unchanged and all(as_recorded(lab, name, path) for path in outs)
        ):  # that version, no other
            found.append(name)
    return found


def as_recorded(lab: Lab, name: str, path: str) -> bool:
    """Whether the workspace's `path` is the version its record names, as far as the record says
    without the cache: a file's MD5, a folder's count and total size of files."""
    entries = (lab.yaml_file(name).get("outs") if name.endswith(".dvc") else
               (lab.locked.get(name) or {}).get("outs")) or []  # fmt: skip
    entry = next((e for e in entries if isinstance(e, dict) and str(e.get("path")) == path), None)
    full = lab.root / path
    if entry is None:
        return True  # nothing to compare with: as DVC says
    if full.is_file():
        return hashlib.md5(full.read_bytes()).hexdigest() == str(entry.get("md5"))
    files = [p for p in full.rglob("*") if p.is_file()]
    return entry.get("nfiles") in (None, len(files)) and entry.get("size") in (
        None,
        sum(p.stat().st_size for p in files),
    )


def record_of(name: str) -> str:
    """Where the hashes of a stage's (or a .dvc file's) outputs are recorded."""
    return name if name.endswith(".dvc") else "dvc.lock"


def remote_has(lab: Lab, path: str) -> bool:
    """Whether the remote has an output the local cache lacks (`dvc status -c` lists a folder's files)."""
    return any(state == "deleted" and overlaps(key, path) for key, state in lab.cloud_status.items())


def cached_here(lab: Lab, path: str) -> bool:
    """Whether the workspace's version of an output is in the local cache (DVC 3: files/md5/...)."""
    cache = lab.root / ".dvc/cache/files/md5"
    full = lab.root / path
    files = [full] if full.is_file() else sorted(p for p in full.rglob("*") if p.is_file())
    for file in files:
        digest = hashlib.md5(file.read_bytes()).hexdigest()
        if not (cache / digest[:2] / digest[2:]).exists():
            return False
    return True


def absent_outputs(lab: Lab) -> list[str]:
    """Every stage's outputs that `dvc status` finds neither in the workspace nor in the cache."""
    return sorted(
        path
        for changes in lab.workspace_status.values()
        for change in changes
        if isinstance(change, dict)
        for path, state in change.get("changed outs", {}).items()
        if state in ("not in cache", "deleted")
    )


def all_outputs(lab: Lab) -> list[str]:
    return [out for name, stage in lab.stages.items() for out in Stage.read(name, stage).outs]


def check_committed(lab: Lab, name: str, stage: Stage) -> None:
    """The stage as committed: its code, dvc.yaml, its parameters, dvc.lock, its metrics, and the
    line DVC wrote for each cached output in the .gitignore beside it; none of them git-ignored.
    (A .gitignore is compared line by line: another stage's outputs share it.)"""
    ignores = list(dict.fromkeys(gitignore_beside(out) for out in stage.cached_outputs()))
    metrics = [out for out, (_, cached) in stage.outs.items() if not cached]
    check_not_ignored(lab, ["dvc.yaml", "dvc.lock", *ignores, *metrics], f"Stage {name}")
    for gitignore in ignores:
        if not (lab.root / gitignore).exists() and lab.git_output("ls-files", gitignore):
            raise Problem(f"{gitignore} was deleted (with its folder?): git ignores {name}'s outputs no more",
                          f"git checkout -- {gitignore}")  # fmt: skip
    committed_stages, committed_lock = lab.committed
    params, committed_params = lab.yaml_file("params.yaml"), lab.yaml_file("params.yaml", "HEAD")
    sections = {param.split(".")[0] for param in stage.params if ":" not in param}
    changed = sorted(
        path for path in lab.uncommitted if listed(path, list(stage.deps))
    )  # what was edited first
    changed += ["dvc.yaml"] if lab.stages.get(name) != committed_stages.get(name) else []
    changed += ["params.yaml"] if any(params.get(s) != committed_params.get(s) for s in sections) else []
    changed += ["dvc.lock"] if lab.locked.get(name) != committed_lock.get(name) else []
    changed += [path for path in metrics if path in lab.uncommitted]
    if changed:
        check_no_experiment_here(lab)
        files = list(dict.fromkeys([*changed, *pipeline_changes(lab)]))  # one commit for the whole change
        message = f"Stage {name}" if "dvc.yaml" in changed else f"New results of {name}"
        raise Problem(
            f"{changed[0]} has changes that are not committed (stage {name})", commit_command(files, message)
        )
    for out in stage.cached_outputs():
        gitignore, line = gitignore_beside(out), f"/{posixpath.basename(out.rstrip('/'))}"
        if line not in lab.git_output("show", f"HEAD:{gitignore}").splitlines():
            path = lab.root / gitignore
            here = path.exists() and line in path.read_text().splitlines()
            write = "" if here else f"echo {line} >> {gitignore} && "
            raise Problem(f"{gitignore} in the last commit does not list {line}: git would offer {out}",
                          f"{write}{commit_command([gitignore], f'Ignore {out}')}")  # fmt: skip


def pipeline_changes(lab: Lab) -> list[str]:
    """The pipeline's files git shows as changed: dvc.yaml, params.yaml, dvc.lock, metrics, the
    .gitignore lines DVC wrote, every stage's code."""
    stages = [Stage.read(name, stage) for name, stage in lab.stages.items()]
    files = {"dvc.yaml", "params.yaml", "dvc.lock"}
    files |= {
        out if not cached else gitignore_beside(out) for s in stages for out, (_, cached) in s.outs.items()
    }
    deps = [dep for s in stages for dep in s.deps]
    return sorted(path for path in lab.uncommitted if path in files or listed(path, deps))


def check_no_experiment_here(lab: Lab) -> None:
    """`dvc exp run` leaves its results in the workspace: changed files that are an experiment's
    are to be put back (or applied on purpose), not committed as if by hand."""
    head = lab.git_output("rev-parse", "HEAD")
    refs = lab.git_output("for-each-ref", "--format=%(refname)", f"refs/exps/{head[:2]}/{head[2:]}").split()
    applied = lab.git_output(
        "rev-parse", "-q", "--verify", "refs/exps/exec/EXEC_APPLY"
    )  # dvc exp apply: on purpose
    for ref in refs:
        if lab.git_output("rev-parse", ref) == applied:
            continue
        if lab.completed("git", "diff", "--quiet", ref, "--", "params.yaml", "dvc.lock").returncode == 0:
            files = [path for path in pipeline_changes(lab) if lab.git_output("ls-files", path)]
            name = ref.rsplit("/", 1)[-1]
            raise Problem(
                f"the workspace holds experiment {name}'s results (dvc exp run leaves them here): "
                "put back the last commit's",
                f"git checkout {shlex.join(files)} && dvc checkout",
            )


def check_not_ignored(lab: Lab, paths: list[str], message: str) -> None:
    """Files git must commit that a line of a .gitignore hides from it (a line DVC wrote for an
    output that is no more: `-o models/`, `-o reports/metrics.json` before `-M`): that line named,
    and deleted by the hint."""
    present = [path for path in paths if (lab.root / path).exists()]
    if not present:
        return
    found = lab.completed("git", "check-ignore", "--no-index", "-v", *present).stdout.splitlines()
    for line in found:
        source_line, _, path = line.partition("\t")
        source, number, pattern = source_line.split(":", 2)
        if pattern.startswith("!"):
            continue
        raise Problem(
            f"{path} is git-ignored (line {number} of {source}: {pattern}), so git cannot commit it",
            f"{delete_line(source, pattern)} && {commit_command([source, path], message)}",
        )


def commit_command(files: list[str], message: str) -> str:
    return f"git add {shlex.join(files)} && git commit -m {shlex.quote(message)}"


def gitignore_beside(out: str) -> str:
    return posixpath.join(posixpath.dirname(out.rstrip("/")), ".gitignore")


def check_pushed(lab: Lab, outputs: list[str]) -> None:
    states = [
        state for path, state in lab.cloud_status.items() if any(overlaps(path, out) for out in outputs)
    ]
    if "new" in states:
        raise Problem(f"{count([s for s in states if s == 'new'])} not in the remote", "dvc push")
    if "deleted" in states or "missing" in states:
        raise Problem(f"{count(states)} in dvc.lock not in your workspace", "dvc pull")


def count(files: list) -> str:
    return f"{len(files)} file{'' if len(files) == 1 else 's'}"
