"""The `dvc stage add -f` line that redefines a stage as dvc.yaml has it, with one thing fixed:
a hint an attendee runs as printed (a missing dependency, output, parameter section)."""

from __future__ import annotations

import shlex

from dvc_workshop.lab.state import Lab

# dvc stage add's flag for each kind of output, cached or not (`cache: false`).
OUTPUT_FLAGS = {"outs": ("-o", "-O"), "metrics": ("-m", "-M"), "plots": ("--plots", "--plots-no-cache")}


def stage_add_command(
    lab: Lab, name: str, add: tuple[tuple[str, str], ...] = (), drop: tuple[str, ...] = ()
) -> str:
    """The `dvc stage add -f` line that redefines stage `name` as dvc.yaml has it, less the
    entries named in `drop`, plus the (flag, value) pairs of `add`: a hint to run as printed."""
    stage = lab.stages[name]
    current = []
    for entry in stage.get("params", []):
        files = {"params.yaml": [entry]} if isinstance(entry, str) else entry
        current += [
            ("-p", key if file == "params.yaml" else f"{file}:{key}")
            for file, keys in files.items()
            for key in keys
        ]
    current += [("-d", str(dep)) for dep in stage.get("deps", [])]
    for kind, (cached, uncached) in OUTPUT_FLAGS.items():
        for entry in stage.get(kind, []):
            path, options = next(iter(entry.items())) if isinstance(entry, dict) else (str(entry), {})
            current.append((cached if (options or {}).get("cache", True) else uncached, path))
    args = ["dvc", "stage", "add", "-f", "-n", name]
    args += [part for flag, value in current if value not in drop for part in (flag, value)]
    args += [part for pair in add for part in pair]
    command = stage.get("cmd", "")
    return (
        f"{shlex.join(args)} {shlex.quote(' '.join(command) if isinstance(command, list) else str(command))}"
    )


def stage_params(stage: dict) -> list[str]:
    """The sections of params.yaml a stage lists (`-p train` is the whole section train)."""
    found = []
    for entry in stage.get("params", []):
        found += [entry] if isinstance(entry, str) else list(entry.get("params.yaml", []) or [])
    return [str(section) for section in found]
