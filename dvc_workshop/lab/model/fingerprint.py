"""What a check reads of a lab, in a form that is cheap to take and to compare: a stat line for
each file and folder of the lab and of the folders beside it (its origin, the teammate's clone,
step 12's project), of git's own files, of DVC's cache folders, of the workshop's files that are
the lab's targets and of the lab tool's code; the shell's variables; and the remote's listing, as
the emulator gives it. Two equal fingerprints: nothing the check reads has changed in between, so
its verdict has not either (actions/check_memo.py answers from the last one; `check --watch`
checks again when the files' part changes).

A stat line holds the modification and change times in nanoseconds, the size and the inode: an
editor's save, a `git checkout`, a `cp -p` (which keeps the modification time but not the change
time) all show. What the check itself writes is read otherwise or left out: git's index (which
`git status` refreshes) as what it stages (`git ls-files --stage`), DVC's tmp folder (its locks,
which DVC's reads rewrite) as whether a live process holds them, Python's caches, the lab tool's
own files in .git, and git's folders (a file added or deleted there has a line of its own).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from dvc_workshop.lab.model.dvc_state import lock_holder
from dvc_workshop.lab.model.emulator_settings import TAKEN_FROM_ENV_FILE
from dvc_workshop.lab.model.layout import REFERENCE

SKIPPED = {"__pycache__", ".pytest_cache", ".ruff_cache"}  # what any Python or pytest run writes
LAB_TOOL_FILES = "workshop-"  # in .git: the progress file, the memo (layout.PROGRESS_FILE)
REFERENCE_FILES = ("Pipfile", "Pipfile.lock", "dvc.yaml", "params.yaml", ".env", ".venv")
# The shell's variables a check depends on (the buckets and their credentials, DVC, git, pipenv,
# Python, where commands and settings are found): not a terminal's own (its size, its pane, its
# prompt), so that the README's two terminals, one with `check --watch`, share the memo.
READ_VARIABLES = (
    *("STORAGE_", "GOOGLE_", "GCLOUD", "CLOUDSDK_", "GCSFS_", "FSSPEC_", "GCE_", "NO_GCE", "DVC_", "GIT_"),
    *("EMAIL", "PIPENV_", "VIRTUAL_ENV", "PYTHON", "PATH", "HOME", "XDG_", "WORKSHOP"),
)
# The prompt's name an activated environment sets (pipenv shell does, pipenv run does not): two
# terminals that differ only there read the same, and share the memo (--watch in one, checks in the other).
COSMETIC = {"VIRTUAL_ENV_PROMPT"}
BUCKET_URL = re.compile(r"gs://[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9](/[^\s'\"]*)?")
LISTING_TIMEOUT_S = 1.0
UNREAD = "unread:"


def stat_line(path: Path) -> str:
    try:
        found = os.lstat(path)
    except OSError:
        return f"{path} -"
    link = f" -> {os.readlink(path)}" if stat.S_ISLNK(found.st_mode) else ""
    return f"{path} {found.st_mtime_ns} {found.st_ctime_ns} {found.st_size} {found.st_ino}{link}"


def git_paths(git_dir: Path) -> Iterator[Path]:
    """git's own files of a repository (HEAD, config, refs, hooks, logs, an operation's files), but
    its objects (a ref moves with every new commit), its index (read as what it stages) and its
    passing locks."""
    for folder, subfolders, files in os.walk(git_dir):
        here = Path(folder)
        if here == git_dir:
            subfolders[:] = [name for name in subfolders if name != "objects"]
        skipped = ("index",) if here == git_dir else ()
        kept = [
            f
            for f in files
            if not f.startswith(LAB_TOOL_FILES) and not f.endswith(".lock") and f not in skipped
        ]
        yield from (here / name for name in kept)


def tree_paths(root: Path) -> Iterator[Path]:
    """Every file of a working tree and its git files; of DVC's cache, its folders (an object
    added or deleted changes its folder), not its tmp folder."""
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        if here == root:
            subfolders[:] = [name for name in subfolders if name != ".git"]
            yield from git_paths(root / ".git") if (root / ".git").is_dir() else [root / ".git"]
        elif here == root / ".dvc":
            subfolders[:] = [name for name in subfolders if name not in ("tmp", "cache")]
            yield from (Path(f) for f, _, _ in os.walk(here / "cache"))
        subfolders[:] = [name for name in subfolders if name not in SKIPPED]
        yield from (here / name for name in files)


def settings_paths() -> list[Path]:
    """The laptop's git and DVC settings (git's identity is step 1's)."""
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    found = [home / ".gitconfig", config / "git/config", config / "dvc/config"]
    return found + ([Path(os.environ["GIT_CONFIG_GLOBAL"])] if os.environ.get("GIT_CONFIG_GLOBAL") else [])


def state_lines(root: Path) -> list[str]:
    """What a repository's index stages, and who holds its DVC lock, if anyone alive."""
    if not (root / ".git").exists():
        return [f"{root}: no repository"]
    staged = subprocess.run(["git", "ls-files", "--stage"], cwd=root, capture_output=True, text=True)
    return [f"{root}: staged", staged.stdout, staged.stderr, f"DVC lock: {lock_holder(root)}"]


def file_lines(root: Path, beside: Iterable[Path], origin: Path | None) -> list[str]:
    """Stat lines of the lab, the folders beside it, its origin, the reference's target files and
    the lab tool's code, and the laptop's settings; what the repositories stage, their DVC locks."""
    paths, lines = [*tree_paths(root)], state_lines(root)
    for folder in beside:
        paths += tree_paths(folder) if folder.is_dir() else [folder]
        lines += state_lines(folder) if folder.is_dir() else []
    if origin is not None:
        paths += git_paths(origin) if origin.is_dir() else [origin]
    paths += [REFERENCE / name for name in REFERENCE_FILES]
    paths += [path for path in tree_paths(REFERENCE / "dvc_workshop/lab") if path.suffix == ".py"]
    return [stat_line(path) for path in [*paths, *settings_paths()]] + lines


def shell_lines() -> list[str]:
    """The variables a check reads, and which of them came from the workshop's .env, not the shell."""
    read = [f"{key}={value}" for key, value in sorted(os.environ.items())
            if key.startswith(READ_VARIABLES) and key not in COSMETIC]  # fmt: skip
    return [*read, f"taken from .env: {sorted(TAKEN_FROM_ENV_FILE)}"]


def bucket_urls(texts: Iterable[str]) -> list[str]:
    """The gs:// URLs that the lab's settings name (its remotes, its data source, its room)."""
    return sorted({match.group(0).rstrip("/") for text in texts for match in BUCKET_URL.finditer(text)})


def listing(emulator: str, url: str) -> str:
    """The objects under a gs:// URL as the emulator lists them (name, size, MD5), or why not."""
    bucket, _, prefix = url.removeprefix("gs://").partition("/")
    names, token = [], ""
    try:
        while True:
            query = urllib.parse.urlencode({"prefix": prefix, **({"pageToken": token} if token else {})})
            address = f"{emulator.rstrip('/')}/storage/v1/b/{urllib.parse.quote(bucket)}/o?{query}"
            with urllib.request.urlopen(address, timeout=LISTING_TIMEOUT_S) as answer:
                page = json.load(answer)
            items = page.get("items", [])
            names += [f"{item['name']} {item.get('size')} {item.get('md5Hash')}" for item in items]
            token = page.get("nextPageToken", "")
            if not token:
                return "\n".join(sorted(names))
    except (OSError, ValueError, KeyError) as error:  # refused, timed out, no such bucket: said as such
        return f"{UNREAD} {type(error).__name__} {getattr(error, 'code', '')}"


def remote_lines(settings: Iterable[Path]) -> list[str] | None:
    """The listing of every bucket URL the settings files name, from the emulator the shell names;
    None without one (real GCS: its listing needs an account) or where a listing fails (the
    emulator gone: the check itself says so, and nothing waits for it twice)."""
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if not emulator:
        return None
    texts = []
    for path in settings:
        with contextlib.suppress(OSError):  # absent, or not a file: nothing named there
            texts.append(path.read_text(errors="replace"))
    lines = []
    for url in bucket_urls(texts):
        said = listing(emulator, url)
        if said.startswith(UNREAD):
            return None
        lines.append(f"{url}\n{said}")
    return lines


def digest(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
