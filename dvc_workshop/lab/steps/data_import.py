"""Lab step 12: a second DVC project beside the lab (FOLDER-report) imports data the lab tracks,
from the lab's origin (or the teammate's clone); after the lab pushed a newer version of it, `dvc
update` brought that version. Its import .dvc file names the source and the commit (`rev_lock`),
the data is in its workspace, and the .dvc file is committed there.

What was imported, and from where, is read from the .dvc files found there (an attendee may
import another path); the source's versions of that path from its git history: the hashes its
.dvc files and dvc.lock record for the path at each commit.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Iterator

import yaml

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.mechanisms.data_state import commit_command
from dvc_workshop.lab.mechanisms.entry import Reset, Step, explanations
from dvc_workshop.lab.mechanisms.stage_target import overlaps
from dvc_workshop.lab.model import yaml_text
from dvc_workshop.lab.model.dvc_state import STATUS_TIMEOUT_S
from dvc_workshop.lab.model.lab import Lab, dvc_files_in
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.model.runner import Runner

EXAMPLE = "my-digits"  # the README's: the folder dvc add tracks (dvc_add.py)
DVC_INIT = (".dvc/config", ".dvc/.gitignore", ".dvcignore")  # what dvc init gives git to commit
q = shlex.quote


def check(lab: Lab) -> None:
    """The second project, then its import (`check_import`); each hint is typed in the lab."""
    root, at = STEP.folder_at(lab), q(lab.relative(STEP.folder_at(lab)))
    origin = origin_there(lab)
    data = next((outs[0] for outs in lab.dvc_files.values() if outs), EXAMPLE)
    push = f"{'dvc push && ' if 'new' in lab.cloud_status.values() else ''}git push origin main"
    first = f"{push} && " if origin_dir(lab) and not tracking(Runner(lab.origin), "HEAD", data)[1] else ""
    get = f"dvc import{' -f' if (root / data).exists() else ''} {origin} {q(data)}"
    if not (root / ".git").exists() or not (root / ".dvc").is_dir():
        init = [] if (root / ".git").exists() else [f"git init -b main {at}"]
        init += [f"cd {at}", *([] if (root / ".dvc").is_dir() else ["dvc init"]), get]
        what = f"{at} is a git repository, not a DVC project (dvc init)" if (root / ".git").exists() else ""
        raise Problem(what or f"no DVC project at {at} to import your data into", first + " && ".join(init))
    report = Lab(root)
    try:
        try:
            imports = imported(report)
        except Problem as problem:  # a .dvc file there that does not parse: said as typed from the lab
            raise Problem(f"in {at}: {problem.what}", problem.hint and f"cd {at} && {problem.hint}") from None
        if not imports:
            what = f"{at}/{data} is there, but no .dvc file imports it (dvc get only downloads)"
            raise Problem(
                what if (root / data).exists() else f"no dvc import in {at} yet", f"{first}cd {at} && {get}"
            )
        check_import(lab, report, imports, push, first, get)
    finally:
        report.stop()


def check_import(lab: Lab, report: Lab, imports: dict[str, dict], push: str, first: str, get: str) -> None:
    """An import from origin (or the teammate's clone), at the source's last version of its path,
    a version after the first, in the workspace as its .dvc file records it, committed. `first`:
    the lab's pushes that the import needs; `get`: the README's import, in the lab's names."""
    teammate = lab.teammate.root.resolve() if lab.teammate else None
    allowed = [path for path in (origin_dir(lab) and lab.origin.resolve(), teammate) if path]
    sources = {
        name: (report.root / str(doc["deps"][0]["repo"]["url"])).resolve() for name, doc in imports.items()
    }
    name = next((name for name in imports if sources[name] in allowed), next(iter(imports)))
    dep, source, at = imports[name]["deps"][0], sources[name], q(lab.relative(report.root))
    path, rev_lock, shown = str(dep["path"]), str(dep["repo"].get("rev_lock") or ""), f"{at}/{name}"
    origin = origin_there(lab)
    again = f"{first}cd {at} && dvc import -f {origin} {q(path)}"
    if source not in allowed:
        mine = "your lab's own folder, which a colleague has not: import from origin, where you push"
        raise Problem(
            f"{shown} imports from {dep['repo']['url']}, {mine if source == lab.root else 'not origin'}",
            again,
        )
    src, here, update = Runner(source), q(lab.relative(source)), f"cd {at} && dvc update {q(name)}"
    tip = src.git_output("rev-parse", "-q", "--verify", f"{dep['repo'].get('rev') or 'HEAD'}^{{commit}}")
    files, now = tracking(src, tip, path)
    if not now:
        what = f"{shown} imports {path}, which DVC does not track in {here} (git does, or it is gone)"
        raise Problem(what, f"{first}cd {at} && dvc remove {q(name)} && {get}")
    if tracking(src, rev_lock, path)[1] != now:
        raise Problem(
            f"{shown} pins {path} at commit {rev_lock[:7] or '(none)'} of {here}, which has a newer version",
            update,
        )
    commits = src.git_output("log", "--format=%H", tip, "--", *files).split()
    if len({tuple(sorted(tracking(src, commit, path)[1].items())) for commit in commits}) < 2:
        pull = f" && cd {here} && git pull && dvc pull" if source == teammate else ""
        raise newer_version(lab, path, src, here, push + pull, bool(pull))
    outs = imports[name].get("outs")
    out = outs[0] if isinstance(outs, list) and outs and isinstance(outs[0], dict) else {}
    if now.get(path, out.get("md5")) != out.get("md5"):  # a working copy's files, not its commit's
        raise Problem(f"{shown} holds another {path} than commit {rev_lock[:7]} of {here} records", again)
    status = report.dvc_state.ask(  # outputs only: with check_updates, DVC would clone the source
        "dvc status",
        lambda repo: report.dvc_state.from_root(repo.status(check_updates=False)),
        STATUS_TIMEOUT_S,
    )
    changes = [change for change in status.get(name, []) if isinstance(change, dict)]
    states = [state for change in changes for state in change.get("changed outs", {}).values()]
    if states:
        fix = "pull" if "not in cache" in states else "checkout"
        raise Problem(
            f"{at}/{out.get('path')} is not what {name} records ({states[0]})",
            f"cd {at} && dvc {fix} {q(name)}",
        )
    files = [name, posixpath.join(posixpath.dirname(name), ".gitignore"), *DVC_INIT]
    if changed := [file for file in files if file in report.uncommitted]:
        message = f"{path}: its new version" if report.git_output("ls-files", name) else f"Import {path}"
        raise Problem(
            f"{shown} has changes not committed there", f"cd {at} && {commit_command(changed, message)}"
        )


def origin_dir(lab: Lab) -> bool:
    """Whether the lab's origin is a folder here (a moved one is no source to read)."""
    return bool(lab.origin and lab.origin.is_dir())


def origin_there(lab: Lab) -> str:
    """The lab's origin as typed in the second project (beside the lab: ../FOLDER-origin.git)."""
    return q(os.path.relpath(lab.origin, STEP.folder_at(lab))) if lab.origin else "origin"


def imported(report: Lab) -> dict[str, dict]:
    """The project's import .dvc files (their dependency names a repo) -> what they hold."""
    found = {}
    for file in sorted(dvc_files_in(report.root)):
        name = file.relative_to(report.root).as_posix()
        document = report.yaml_file(name)
        deps = document.get("deps") or []
        dep = deps[0] if isinstance(deps, list) and deps and isinstance(deps[0], dict) else {}
        if isinstance(dep.get("repo"), dict) and dep["repo"].get("url") and dep.get("path"):
            found[name] = document
    return found


def tracking(source: Runner, rev: str, path: str) -> tuple[list[str], dict[str, str]]:
    """The files that track `path` at commit `rev` of a repository (.dvc files, dvc.lock), and
    the hash they record for each output in it or around it ({}: DVC does not track it there)."""
    files, hashes = set(), {}
    for name in source.git_output("ls-tree", "-r", "--name-only", rev).splitlines():
        if not (name.endswith(".dvc") or posixpath.basename(name) == "dvc.lock"):
            continue
        try:
            document = yaml_text.load(source.git_output("show", f"{rev}:{name}")) or {}
        except yaml.YAMLError:
            continue
        stages = (document.get("stages") or {}) if name.endswith("dvc.lock") else {"": document}
        for stage in (stage for stage in stages.values() if isinstance(stage, dict)):
            for out in (out for out in stage.get("outs") or [] if isinstance(out, dict)):
                if overlaps(out_path := posixpath.join(posixpath.dirname(name), str(out.get("path"))), path):
                    files.add(name)
                    hashes[out_path] = str(out.get("md5"))
    return sorted(files), hashes


def newer_version(lab: Lab, path: str, src: Runner, here: str, push: str, clone: bool) -> Problem:
    """The source has one version of the imported path: the lab's commands that give it another."""
    if tracking(lab, "HEAD", path)[1] not in ({}, tracking(src, "HEAD", path)[1]):
        there = "pulled there" if clone else "pushed"
        return Problem(
            f"{here} has one version of {path}, the one imported: your newer one is not {there}", push
        )
    what = f"{path} has had one version in {here} so far, the one imported: make a newer one in the lab"
    dvc_file = next(
        (file for file, outs in lab.dvc_files.items() if any(overlaps(o, path) for o in outs)), ""
    )
    files = (
        sorted(p for p in (lab.root / path).rglob("*") if p.is_file()) if (lab.root / path).is_dir() else []
    )
    if not dvc_file or not files:
        return Problem(f"{what} (change it, dvc add or dvc repro, git commit, dvc push, git push)")
    readme = list((lab.root / path).glob("test/0000?.png"))  # the README's: ten digits fewer
    remove = f"rm {q(path)}/test/0000?.png" if readme else f"rm {q(lab.relative(files[0]))}"
    tracked = dvc_file.removesuffix(".dvc")
    commit = f"git commit -m {q(f'{tracked}: a new version')} {q(dvc_file)}"
    return Problem(what, f"{remove} && dvc add {q(tracked)} && {commit} && dvc push && {push}")


def undo(lab: Lab) -> Iterator[str]:
    """The second project moved aside, if nothing in it is uncommitted (its imports can be made again)."""
    root = STEP.folder_at(lab)
    if not root.exists():
        yield f"No project at {root}: nothing to remove."
        return
    status = Runner(root).completed("git", "status", "--porcelain") if (root / ".git").exists() else None
    if status is None or status.returncode != 0:
        raise WorkshopError(f"{root} is not a git repository, so not this step's: move it away yourself")
    if status.stdout.strip():
        change = status.stdout.splitlines()[0][3:]
        raise WorkshopError(
            f"{root} has changes that are not committed ({change}): commit or delete them first"
        )
    aside = next(root.with_name(f"{root.name}.before-reset-{n}") for n in range(1, 1000)
                 if not root.with_name(f"{root.name}.before-reset-{n}").exists())  # fmt: skip
    root.rename(aside)  # its commits are the attendee's: moved aside, not deleted
    yield (
        f"Moved {root} aside to {aside.name}, with its commits (the step makes the project anew; "
        f"rm -rf {aside} once you no longer need it)."
    )


STEP = Step(
    "Data from another project: dvc import",
    check,
    explanations(
        "dvc import URL PATH downloads PATH from another DVC project's git repository (through that "
        "project's default remote) and writes PATH.dvc: the source's url and its exact commit, rev_lock",
        "import from your lab's origin, where you push: a colleague's project sees only what you pushed "
        "(git push for the .dvc file, dvc push for the data)",
        "dvc update PATH.dvc moves the import to the source's latest commit (--rev pins a branch or tag); "
        "then commit PATH.dvc there, as any version; dvc get downloads only, with nothing to update",
    ),
    Reset(undo=undo),
    folder="-report",  # the second project, beside the lab: FOLDER-report
)
