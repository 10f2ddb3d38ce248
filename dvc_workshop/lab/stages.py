"""When is a stage of the lab done: defined with all its code, run, its outputs those `dvc.lock`
records, committed, pushed. Each check raises `Problem` for the first thing that is not so.

The same checks serve `.dvc` files (`dvc add`) and a teammate's clone, where a missing output
that the remote lacks too means that whoever committed it forgot `dvc push`.
"""

from __future__ import annotations

import difflib
import posixpath
import re

from dvc_workshop.lab.imports import listed, modules_run_by
from dvc_workshop.lab.stage_commands import stage_add_command, stage_params
from dvc_workshop.lab.state import Lab, Problem

# What each stage must write (the paths the next stages and the README rely on).
STAGE_OUTPUTS = {
    "download_mnist": ["data/download_mnist/Images", "data/download_mnist/labels.csv"],
    "preprocess": ["data/preprocess", "reports/preprocessed.png"],
    "train": ["models/model.keras"],
    "evaluate": ["reports/metrics.json"],
}
# The section of params.yaml each stage reads (evaluate reads none).
STAGE_PARAMS = {
    "download_mnist": ["download_mnist"],
    "preprocess": ["preprocess"],
    "train": ["train"],
    "evaluate": [],
}
# What each stage reads that another stage writes: without it, `dvc repro` runs them in any order.
STAGE_INPUTS = {
    "download_mnist": [],
    "preprocess": ["data/download_mnist/Images", "data/download_mnist/labels.csv"],
    "train": ["data/preprocess"],
    "evaluate": ["models/model.keras", "data/preprocess"],
}
COMMIT_HINT = "git add dvc.yaml dvc.lock params.yaml '*.gitignore' && git commit -m \"Stage ...\""


def overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def check_stage(lab: Lab, name: str) -> None:
    # 1. Nothing `dvc add`ed where the stage writes (DVC refuses to run with overlapping outputs).
    for dvc_file, tracked in lab.dvc_files.items():
        for path in tracked:
            if any(overlaps(path, out) for out in STAGE_OUTPUTS[name] + lab.outputs(name)):
                raise Problem(
                    f"{dvc_file} tracks {path}, where stage {name} writes its outputs: "
                    "a stage's outputs need no dvc add",
                    f"dvc remove {dvc_file} (the data stays), then dvc stage add the stage",
                )
    # 2. Defined, with every module its command runs and its section of params.yaml.
    stage = lab.stages.get(name)
    if stage is None:
        near = difflib.get_close_matches(name, list(lab.stages), n=1)
        if near:
            raise Problem(
                f"dvc.yaml has no stage {name}, but a stage {near[0]}: a typo?",
                f"sed -i.bak 's/^  {near[0]}:/  {name}:/' dvc.yaml && rm dvc.yaml.bak",
            )
        raise Problem(
            f"dvc.yaml has no stage {name}", f"dvc stage add -n {name} ... (the README's lab steps)"
        )
    module = re.findall(r"python -m ([\w.]+)", str(stage.get("cmd", "")))
    deps = [str(dep) for dep in stage.get("deps", [])]
    for path in sorted(modules_run_by(lab.root, module[0]) if module else []):
        if not listed(path, deps):
            raise Problem(
                f"stage {name} does not list {path} as a dependency: "
                "a change to it would not rerun the stage",
                stage_add_command(lab, name, add=(("-d", path),)),
            )
    for needed in STAGE_INPUTS[name]:
        if needed not in deps:
            near = difflib.get_close_matches(needed, deps, n=1, cutoff=0.8)
            what = (
                f"lists {near[0]}, not {needed} (a typo?)"
                if near
                else f"does not list {needed} as a dependency"
            )
            raise Problem(
                f"stage {name} {what}: DVC would not rerun it when {needed} changes",
                stage_add_command(lab, name, add=(("-d", needed),), drop=tuple(near)),
            )
    for section in STAGE_PARAMS[name]:
        if section not in stage_params(stage):
            raise Problem(
                f"stage {name} does not list its parameters (-p {section}): "
                f"a change to {section} in params.yaml would not rerun it",
                stage_add_command(lab, name, add=(("-p", section),)),
            )
    for out in STAGE_OUTPUTS[name]:
        if out not in lab.outputs(name):
            flag = "-M" if out.endswith(".json") else "-o"  # metrics: small, in git
            raise Problem(
                f"stage {name} does not declare {out} as an output",
                stage_add_command(lab, name, add=((flag, out),), drop=(out,)),
            )
    # 3. Run, and its outputs in the workspace are the ones dvc.lock records.
    if not (lab.root / "dvc.lock").exists():
        raise Problem(
            f"there is no dvc.lock: stage {name} has not run yet (or dvc.lock was deleted)", "dvc repro"
        )
    if name not in lab.locked:
        raise Problem(f"stage {name} has not run yet: dvc.lock has no entry for it", "dvc repro")
    check_workspace(lab, name)
    # 4. Committed: the stage in dvc.yaml and dvc.lock, its parameters, code, .gitignore files.
    committed_stages, committed_lock = lab.committed
    for file, now, then in (
        ("dvc.yaml", lab.stages, committed_stages),
        ("dvc.lock", lab.locked, committed_lock),
    ):
        if now.get(name) != then.get(name):
            raise Problem(f"{file} has changes that are not committed (stage {name})", COMMIT_HINT)
    params, committed_params = lab.yaml_file("params.yaml"), lab.yaml_file("params.yaml", "HEAD")
    for section in map(str, stage.get("params", [])):
        if params.get(section) != committed_params.get(section):
            raise Problem(f"params.yaml has changes to {section} that are not committed", COMMIT_HINT)
    check_committed(lab, deps)
    check_ignore_entries_committed(lab, lab.outputs(name, cached_only=True))
    # 5. Pushed.
    check_pushed(lab, lab.outputs(name))


def check_ignore_entries_committed(lab: Lab, outputs: list[str]) -> None:
    """DVC writes `/name` into the .gitignore beside each output it caches; the last commit must
    hold that line, or a teammate's git would offer the data as new files."""
    for out in outputs:
        folder, name = posixpath.split(out)
        gitignore = posixpath.join(folder, ".gitignore")
        if f"/{name}" not in lab.git("show", f"HEAD:{gitignore}").splitlines():
            raise Problem(
                f"{gitignore} in the last commit does not list /{name}, which DVC wrote there",
                f'git add {gitignore} && git commit -m "Ignore {out}"',
            )


def check_committed(lab: Lab, paths: list[str]) -> None:
    """Each path (a file, or a folder standing for its files) as the last commit has it."""
    for path in paths:
        changed = sorted(name for name in lab.uncommitted if listed(name, [path]))
        if changed:
            ignores = sorted(name for name in lab.uncommitted if name.endswith(".gitignore"))  # DVC's
            files = " ".join(dict.fromkeys([changed[0], *ignores]))
            raise Problem(
                f"{changed[0]} has changes that are not committed",
                f'git add {files} && git commit -m "Add {posixpath.basename(changed[0])}"',
            )


def check_workspace(lab: Lab, name: str) -> None:
    """`dvc status` of one stage or .dvc file: nothing changed, every output here."""
    changes = [change for change in lab.workspace_status.get(name, []) if isinstance(change, dict)]
    changed_deps = {path for change in changes for path in change.get("changed deps", {})}
    changed_outs = {
        path: state for change in changes for path, state in change.get("changed outs", {}).items()
    }
    if {"not in cache", "deleted"} & set(changed_outs.values()):
        if "missing" in lab.cloud_status.values():  # in neither the local cache nor the remote
            # Counted as dvc pull counts them: every output not here, less those the remote has
            # ("deleted" in `dvc status -c`); a folder whose listing is missing counts once.
            nowhere = [path for path in absent_outputs(lab) if lab.cloud_status.get(path) != "deleted"]
            raise Problem(
                f"{count(nowhere)} that dvc.lock names are neither here nor in the remote: "
                "whoever committed them forgot dvc push",
                "ask them to run dvc push (git push does not send data), then dvc pull",
            )
        raise Problem(
            f"the outputs of {name} are not here", "dvc pull (or dvc checkout, if they are in your cache)"
        )
    if changed_outs and changed_deps <= set(lab.all_outputs):
        raise Problem(
            f"{', '.join(sorted(changed_outs))} are not the outputs dvc.lock records "
            "(a git checkout without dvc checkout?)",
            "dvc checkout brings the data of this commit; after dvc install, git checkout does it",
        )
    if lab.workspace_status.get(name):
        changed = ", ".join(sorted(changed_deps)) or "its command"
        raise Problem(f"{name} changed since its last run ({changed})", "dvc repro, then commit dvc.lock")


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
