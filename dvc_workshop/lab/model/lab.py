"""What the lab tool reads in a lab repository: git, DVC's answers, dvc.yaml, the room, the names.

Everything is read from the real state, the way the attendee's own commands would see it (a flag
the attendee sets proves nothing), and nothing is changed. Each reading is taken once.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path

import yaml

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model import yaml_text
from dvc_workshop.lab.model.dvc_state import DvcState
from dvc_workshop.lab.model.layout import (
    CACHE_URL,
    EXAMPLE_NAME,
    RAW_URL,
    REFERENCE,
    ROOM_FILE,
    START_MESSAGE,
    TEAMMATE_FOLDER,
)
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.model.runner import Runner
from dvc_workshop.lab.model.storage import NAME, folded

LAB_MARK = "workshop.reference"  # git config of a lab that `workshop start` made (never of a clone)
LAB_KEY = "workshop.key"  # git config: the lab's own key, with its folder its identity in a room
NAME_KEY = "workshop.name"  # git config: the attendee's name, their folder in the cache bucket


class Lab(Runner):
    """One lab repository: the attendee's, or the teammate's clone of its origin (steps/teammate.py)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.dvc_state = DvcState(self.root)

    def stop(self) -> None:
        """End what this lab's reading started: commands never asked for, DVC's project."""
        super().stop()
        self.dvc_state.close()

    @property
    def workspace_status(self) -> dict[str, list]:
        return self.dvc_state.status()

    @property
    def cloud_status(self) -> dict[str, str]:
        return self.dvc_state.cloud_status()

    def yaml_file(self, name: str, revision: str | None = None) -> dict:
        """A YAML file of the workspace, or as committed at `revision` ({} where it is absent)."""
        if revision:
            text = self.git_output("show", f"{revision}:{name}")
        else:
            try:
                text = (self.root / name).read_text() if (self.root / name).exists() else ""
            except (UnicodeDecodeError, OSError) as error:
                raise Problem(f"{name} cannot be read ({error})", f"git checkout {name}") from None
        if "\n<<<<<<< " in f"\n{text}":
            from dvc_workshop.lab.model.merge import merge_problem  # a merge not finished (steps/merge.py)

            raise merge_problem(self) or Problem(
                f"{name} has merge conflict markers (<<<<<<<)",
                f"keep one side (git checkout --theirs {name}), then dvc repro and git commit",
            )
        try:
            document = yaml_text.load(text) or {}
        except yaml.YAMLError as error:
            from dvc_workshop.lab.model.merge import merge_problem  # a merge half-resolved (steps/merge.py)

            mark = getattr(error, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise merge_problem(self) or Problem(
                f"{name} is not valid YAML{line}: {problem}",
                f"git diff {name} shows what changed; git checkout {name} goes back to the last commit",
            ) from None
        if not isinstance(document, dict):
            raise Problem(
                f"{name} is not a mapping (stages: ...)", f"git checkout {name} goes back to the last commit"
            )
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
        return (
            stage_table(self.yaml_file("dvc.yaml", "HEAD"), "dvc.yaml"),
            stage_table(self.yaml_file("dvc.lock", "HEAD"), "dvc.lock"),
        )

    @cached_property
    def uncommitted(self) -> set[str]:
        """Paths git shows as changed or new (not ignored), relative to the repository."""
        lines = self.completed("git", "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
        return {line[3:].strip('"') for line in lines}

    @cached_property
    def dvc_files(self) -> dict[str, list[str]]:
        """The `.dvc` files (what `dvc add` wrote) in the workspace -> the paths they track."""
        found = {}
        for path in sorted(dvc_files_in(self.root)):
            relative = path.relative_to(self.root)
            outs = self.yaml_file(relative.as_posix()).get("outs", [])
            if not isinstance(outs, list) or not all(isinstance(o, dict) and "path" in o for o in outs):
                raise Problem(
                    f"{relative} is not what dvc add writes", f"git checkout {relative}, or dvc add again"
                )
            found[relative.as_posix()] = [(relative.parent / out["path"]).as_posix() for out in outs]
        return found

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
        """The room the lab is in (`workshop start --room`): ROOM_FILE, committed, so that a
        teammate's clone follows the same buckets; {} for the default room."""
        room = self.yaml_file(ROOM_FILE) if (self.root / ROOM_FILE).exists() else {}
        if room and not all(str(room.get(key, "")).startswith("gs://") for key in ("cache", "raw")):
            raise Problem(
                f"{ROOM_FILE} does not name the room's buckets (cache: gs://..., raw: gs://...)",
                f"git checkout {ROOM_FILE}",
            )
        return {key: str(room[key]).rstrip("/") for key in ("cache", "raw")} if room else {}

    @cached_property
    def room_steps(self) -> int | None:
        """Where the room's lab ends (`room create --steps`), recorded in ROOM_FILE; None: every step."""
        try:
            steps = self.yaml_file(ROOM_FILE).get("steps") if (self.root / ROOM_FILE).exists() else None
        except (Problem, AttributeError):
            return None
        return steps if isinstance(steps, int) and steps >= 1 else None

    @cached_property
    def buckets(self) -> tuple[str, str]:
        """The cache and raw buckets of the lab's room, or the default room's (the emulator's)."""
        return (self.room["cache"], self.room["raw"]) if self.room else (CACHE_URL, RAW_URL)

    @cached_property
    def is_teammate(self) -> bool:
        """A clone of a lab's origin (steps/teammate.py), not a lab `workshop start` made."""
        return not self.git_output("config", "--local", LAB_MARK)

    @cached_property
    def attendee_lab(self) -> Lab:
        """The lab this is: itself, or for a teammate's clone, the lab beside it of the same origin."""
        if self.is_teammate and self.root.name.endswith(TEAMMATE_FOLDER):
            lab = Lab(self.root.with_name(self.root.name.removesuffix(TEAMMATE_FOLDER)))
            if (lab.root / ".git").is_dir() and not lab.is_teammate and lab.origin == self.origin:
                return lab
        return self

    @cached_property
    def attendee(self) -> str:
        """The attendee's name: the one `workshop start` recorded (the room's), else the folder of
        the committed remote, else git's user name; the README's own as a last resort."""
        recorded = self.attendee_lab.git_output("config", NAME_KEY)
        if recorded:
            return recorded
        try:
            default, remotes = self.remotes("repo")
        except Problem:
            default, remotes = None, {}
        folder = remotes.get(default or "", "").removeprefix(f"{self.buckets[0]}/").split("/")[0]
        if folder and NAME.fullmatch(folder):
            return folder
        return name_from(self.git_output("config", "user.name"), self.git_output("config", "user.email")) or (
            EXAMPLE_NAME
        )

    @cached_property
    def reference(self) -> Path:
        """The workshop's repository this lab was made from: its README and dvc.yaml are the targets."""
        recorded = self.attendee_lab.git_output("config", LAB_MARK)
        return Path(recorded) if recorded and (Path(recorded) / "dvc.yaml").exists() else REFERENCE

    def beside(self, suffix: str) -> Path:
        """A folder a step makes beside the lab, named after it: FOLDER-teammate, FOLDER-report (the
        same from the teammate's clone as from the lab). Which suffix is which step's, its entry says."""
        return self.attendee_lab.root.with_name(f"{self.attendee_lab.root.name}{suffix}")

    @cached_property
    def teammate(self) -> Lab | None:
        """The teammate's clone of this lab's origin, made for its step (a copy of the lab that
        shares its origin is not one: `workshop start` marked the lab, and a copy keeps the mark)."""
        if self.is_teammate or not (self.beside(TEAMMATE_FOLDER) / ".git").is_dir():
            return None
        clone = Lab(self.beside(TEAMMATE_FOLDER))
        return clone if clone.is_teammate and self.origin and clone.origin == self.origin else None

    @cached_property
    def origin(self) -> Path | None:
        """Where `origin` is, as a folder (the bare repository `workshop start` made)."""
        url = self.git_output("remote", "get-url", "origin")
        return (self.root / url).resolve() if url else None

    def relative(self, path: Path) -> str:
        """A path as the attendee types it in the lab: relative to it (../my-lab-origin.git)."""
        return Path(os.path.relpath(path, self.root)).as_posix()


def start_commit(lab: Lab) -> str:
    """The lab's first commit, the one `workshop start` made: every step's start state."""
    first = lab.git_output("log", "--format=%H", "--fixed-strings", f"--grep={START_MESSAGE}").split()
    if not first:
        raise WorkshopError(f"no commit '{START_MESSAGE}' in {lab.root}: reset needs the lab's first commit")
    return first[-1]


def name_from(user_name: str, email: str = "") -> str | None:
    """A folder name from git's user name ("Ada Lovelace" -> "ada", "Zoë Müller" -> "zoe"), or,
    where it has no letter a-z to fold to (李雷), from the email's first part; None from neither."""
    for source in ((user_name.split() or [""])[0], email.split("@")[0]):
        first = re.sub(r"[^a-z0-9_-]", "", folded(source))[:40]
        if first and NAME.fullmatch(first):
            return first
    return None


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
