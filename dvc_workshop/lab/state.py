"""What `workshop check` reads in a lab repository: git, `dvc status`, `dvc.yaml`, the remote.

Everything is read from the real state, the way the attendee's own commands would see it (a
flag the attendee sets proves nothing), and nothing is changed. Each reading is taken once.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from dvc_workshop.lab.commands import Commands, Problem

__all__ = ["CACHE_URL", "RAW_BUCKET_URL", "ROOM_FILE", "Lab", "Problem"]  # Problem: the checks' import

# The default room: the emulator's buckets (dvc_workshop.lab.emulator, not imported: it loads pandas).
CACHE_URL, RAW_BUCKET_URL = "gs://dvc-workshop-cache", "gs://dvc-workshop-raw"
# A lab's room, when it is in one (committed); the attendee's name is in git config workshop.name.
ROOM_FILE = "workshop-room.yaml"


class Lab(Commands):
    """One lab repository (the attendee's, or a teammate's clone of it)."""

    def start_dvc_status(self, cloud: bool = True) -> None:
        """`dvc status`, and `dvc status -c` where there is a remote, started for the checks to come."""
        if (self.root / "dvc.lock").exists() or any(self.root.glob("*.dvc")):
            self.start(sys.executable, "-m", "dvc", "status", "--json")
            if cloud and "remote" in (self.root / ".dvc/config").read_text(errors="replace"):
                self.start(sys.executable, "-m", "dvc", "status", "--cloud", "--json")

    def dvc_json(self, *args: str, timeout: float = 60) -> Any:
        """A `dvc ... --json` answer; a failure is a Problem carrying DVC's own error line."""
        result = self.dvc(*args, "--json", timeout=timeout)
        if result.returncode != 0 and (
            "is busy" in result.stderr or "Unable to acquire lock" in result.stderr
        ):
            raise Problem(  # `dvc repro` (or another dvc command) holds the lab's lock: nothing is wrong
                "another dvc command is running in this lab (dvc repro?), so DVC cannot answer yet",
                "wait for it to end, then workshop check again (--watch checks again by itself)",
            )
        if result.returncode != 0:
            errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
            raise Problem(f"dvc {args[0]} fails: {(errors or ['(no message)'])[-1]}", DVC_FAILS_HINT)
        try:
            return json.loads(result.stdout or "{}")
        except ValueError:  # something printed before DVC's answer
            raise Problem(f"dvc {args[0]} gave no answer the check can read", DVC_FAILS_HINT) from None

    def yaml_file(self, name: str, revision: str | None = None) -> dict:
        """A YAML file of the workspace, or as committed at `revision` ({} where it is absent)."""
        if revision:
            text = self.git("show", f"{revision}:{name}")
        else:
            try:
                text = (self.root / name).read_text() if (self.root / name).exists() else ""
            except (UnicodeDecodeError, OSError) as error:
                raise Problem(f"{name} cannot be read ({error})", f"git checkout {name}, or fix it") from None
        if "\n<<<<<<< " in f"\n{text}":
            raise Problem(
                f"{name} has merge conflict markers (<<<<<<<)",
                f"keep one side (git checkout --theirs {name}), then dvc repro and git commit",
            )
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise Problem(
                f"{name} is not valid YAML{line}: {problem}", f"fix it in an editor; git diff {name}"
            ) from None
        if not isinstance(document, dict):
            raise Problem(f"{name} is not a mapping (stages: ...)", f"fix it in an editor; git diff {name}")
        return document

    @cached_property
    def stages(self) -> dict[str, dict]:
        return stage_table(self.yaml_file("dvc.yaml"), "dvc.yaml")

    @cached_property
    def locked(self) -> dict[str, dict]:
        return stage_table(self.yaml_file("dvc.lock"), "dvc.lock")

    @cached_property
    def committed(self) -> tuple[dict[str, dict], dict[str, dict]]:
        """dvc.yaml's and dvc.lock's stages as the last commit has them."""
        return (stage_table(self.yaml_file("dvc.yaml", "HEAD"), "dvc.yaml"),
                stage_table(self.yaml_file("dvc.lock", "HEAD"), "dvc.lock"))  # fmt: skip

    @cached_property
    def uncommitted(self) -> set[str]:
        """Paths git shows as changed or new (not ignored), relative to the repository."""
        lines = self.run("git", "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
        return {line[3:].strip('"') for line in lines}

    @cached_property
    def workspace_status(self) -> dict[str, list]:
        return self.dvc_json("status")

    @cached_property
    def cloud_status(self) -> dict[str, str]:
        return self.dvc_json("status", "--cloud", timeout=CLOUD_TIMEOUT)

    @cached_property
    def dvc_files(self) -> dict[str, list[str]]:
        """The `.dvc` files (what `dvc add` wrote) in the workspace -> the paths they track."""
        found = {}
        for path in sorted(dvc_files_in(self.root)):
            relative = path.relative_to(self.root)
            if path.is_file():
                outs = self.yaml_file(relative.as_posix()).get("outs", [])
                if not isinstance(outs, list) or not all(isinstance(o, dict) and "path" in o for o in outs):
                    raise Problem(
                        f"{relative} is not what dvc add writes",
                        f"dvc add it again, or git checkout {relative}",
                    )
                found[relative.as_posix()] = [(relative.parent / out["path"]).as_posix() for out in outs]
        return found

    def outputs(
        self, stage: str, kinds: tuple[str, ...] = ("outs", "metrics", "plots"), cached_only: bool = False
    ) -> list[str]:
        """The paths a stage declares it writes, as dvc.yaml names them (an entry with options
        is a one-key mapping); with `cached_only`, those DVC caches (not `cache: false`), which
        it lists in a .gitignore beside them."""
        found = []
        for entry in (entry for kind in kinds for entry in self.stages.get(stage, {}).get(kind, [])):
            path, options = next(iter(entry.items())) if isinstance(entry, dict) else (str(entry), {})
            if not cached_only or (options or {}).get("cache", True):
                found.append(path)
        return found

    @cached_property
    def all_outputs(self) -> list[str]:
        """Every stage's outputs."""
        return [out for stage in self.stages for out in self.outputs(stage)]

    def remotes(self, level: str) -> tuple[str | None, dict[str, str]]:
        """The default remote's name and every remote's URL in one config file ("repo", "local")."""
        from dvc.config import Config, ConfigError

        try:
            settings = Config(dvc_dir=str(self.root / ".dvc"), validate=False).load_one(level)
        except ConfigError as error:
            name = broken_config(self.root) or ".dvc/config"
            fix = (
                "git diff .dvc/config shows what changed"
                if name == ".dvc/config"
                else ("it holds this laptop's settings only (git ignores it): fix it, or delete it")
            )
            raise Problem(f"{name} cannot be read: {error}", f"fix it in an editor; {fix}") from None
        remotes = {name: options.get("url", "") for name, options in settings.get("remote", {}).items()}
        return settings.get("core", {}).get("remote"), remotes

    @cached_property
    def room(self) -> dict[str, str]:
        """The room the lab is in (workshop start --room): ROOM_FILE, committed, so that a
        teammate's clone follows the same buckets; {} for the default room."""
        room = self.yaml_file(ROOM_FILE) if (self.root / ROOM_FILE).exists() else {}
        if room and not (
            str(room.get("cache", "")).startswith("gs://") and str(room.get("raw", "")).startswith("gs://")
        ):
            raise Problem(f"{ROOM_FILE} does not name the room's buckets (cache: gs://..., raw: gs://...)",
                          f"git checkout {ROOM_FILE}")  # fmt: skip
        return {key: str(room[key]) for key in ("cache", "raw")} if room else {}

    @cached_property
    def room_buckets(self) -> tuple[str, str]:
        """The cache and raw buckets of the lab's room, or the default room's (the emulator's)."""
        return (self.room["cache"], self.room["raw"]) if self.room else (CACHE_URL, RAW_BUCKET_URL)

    @cached_property
    def teammate(self) -> Lab | None:
        """A sibling folder cloned from the same origin: the teammate of lab step 7."""
        folders = sorted(self.root.parent.iterdir())
        clones = (Lab(folder) for folder in folders if folder != self.root and (folder / ".git").is_dir())
        return next((clone for clone in clones if self.origin and clone.origin == self.origin), None)

    @cached_property
    def origin(self) -> Path | None:
        """Where `origin` is, as a folder (the bare repository `workshop start` made)."""
        url = self.git("remote", "get-url", "origin")
        return (self.root / url).resolve() if url else None


def dvc_files_in(root: Path) -> list[Path]:
    """The `.dvc` files under `root`, not looking inside .git and .dvc (DVC's cache: many files)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        if folder == str(root):
            subfolders[:] = [name for name in subfolders if name not in (".git", ".dvc")]
        found += [Path(folder, name) for name in files if name.endswith(".dvc")]
    return found


def broken_config(root: Path) -> str | None:
    """Which of DVC's config files does not parse (DVC's own error does not say)."""
    from configobj import ConfigObj, ConfigObjError

    for name in (".dvc/config", ".dvc/config.local"):
        try:
            ConfigObj(str(root / name), list_values=False)
        except ConfigObjError:
            return name
    return None


def stage_table(document: dict, name: str) -> dict[str, dict]:
    """The `stages:` mapping of dvc.yaml or dvc.lock, each stage a mapping, or a Problem."""
    stages = document.get("stages") or {}
    if not isinstance(stages, dict) or not all(isinstance(stage, dict) for stage in stages.values()):
        raise Problem(
            f"{name}: stages: must map each stage's name to its definition (cmd:, deps:, outs:)",
            f"git diff {name} shows what changed; git checkout {name} goes back to the last commit",
        )
    return stages


DVC_FAILS_HINT = "run that dvc command yourself to see its whole message"
CLOUD_TIMEOUT = 10  # seconds for `dvc status -c`: well over its usual time, under an attendee's patience
