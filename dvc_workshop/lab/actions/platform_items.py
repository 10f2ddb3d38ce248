"""`workshop doctor`'s items about the operating system under git and DVC: line endings, long
paths (Windows) and the pager. Each returns its ok line or raises `Red(found, fix)` (not ready)
or `Note(found, hint)` (ready; only how DVC's output looks changes).

Imported by `run_doctor` when it runs (this module imports `Red` from the doctor, not the reverse).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys

from dvc_workshop.lab.actions.doctor_items import Note, Red, run

NO_GIT = ("not checked: no git", "install git (the git line), then run the doctor again")
FILESYSTEM_KEY = r"SYSTEM\CurrentControlSet\Control\FileSystem"
LONG_PATHS_FIX = (
    "in a PowerShell run as administrator: New-ItemProperty -Path "
    f'"HKLM:\\{FILESYSTEM_KEY}" -Name LongPathsEnabled -Value 1 -PropertyType DWORD -Force'
)


def check_line_endings() -> str:
    """core.autocrlf=true (Git for Windows' installer default) checks text files out with CRLF.
    DVC 3 hashes a dependency's bytes, so every code dependency then differs from the dvc.lock
    committed on Linux or macOS: stages rerun that did not change, and a dvc.lock committed from
    that checkout makes everyone else's rerun. `input` keeps files as committed (LF). The
    repository's .gitattributes protects its own files; this setting covers every other clone."""
    if not shutil.which("git"):
        raise Red(*NO_GIT)
    done = run(["git", "config", "--show-scope", "--get", "core.autocrlf"])  # any scope git resolves
    if done.returncode > 1:  # a git older than 2.26: no --show-scope
        done = run(["git", "config", "--get", "core.autocrlf"])
    scope, _, value = done.stdout.strip().rpartition("\t")
    if value.lower() not in ("true", "yes", "on", "1"):
        return f"core.autocrlf is {value or 'unset'}: files are checked out as committed (LF)"
    found = (
        f"core.autocrlf=true{f' ({scope} config)' if scope else ''}: git checks text files out "
        "with CRLF, so DVC's hashes of the code differ from dvc.lock's and unchanged stages rerun"
    )
    local = scope in ("local", "worktree")  # set in this repository: --global would not override it
    raise Red(found, f"git config {'--local' if local else '--global'} core.autocrlf input")


def check_long_paths() -> str:
    """Windows refuses paths over 260 characters unless LongPathsEnabled is 1 in the registry
    (DVC's "Running DVC on Windows": `dvc pull` may fail), and Git for Windows checks such paths
    out only with core.longpaths. A lab's cache paths (.dvc/cache/files/md5/xx/...) inside a
    deep folder get there. Linux and macOS have no such limit."""
    if sys.platform != "win32":
        return "not Windows: no limit"
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, FILESYSTEM_KEY) as key:
            enabled = winreg.QueryValueEx(key, "LongPathsEnabled")[0] == 1
    except OSError:  # no such value: the default, off
        enabled = False
    git = bool(shutil.which("git"))
    longpaths = git and run(["git", "config", "--bool", "--get", "core.longpaths"]).stdout.strip() == "true"
    missing, fixes = [], []
    if not enabled:
        missing.append(f"LongPathsEnabled is not 1 in HKLM\\{FILESYSTEM_KEY}")
        fixes.append(f"{LONG_PATHS_FIX}, then restart")
    if git and not longpaths:
        missing.append("git's core.longpaths is not true")
        fixes.append("git config --global core.longpaths true")
    if missing:
        raise Red(f"{' and '.join(missing)}: paths over 260 characters fail", "; ".join(fixes))
    return "LongPathsEnabled is 1" + (" and git's core.longpaths is true" if git else "; no git to check")


def pager_fix() -> str:
    skip = "dvc exp show --no-pager skips the pager"
    if sys.platform == "win32":
        return f"setx DVC_PAGER more, then a new terminal, or choco install less (DVC's Windows page); {skip}"
    return f"export DVC_PAGER=more (in ~/.bashrc or ~/.zshrc to keep it), or install less; {skip}"


def check_pager() -> str:
    """`dvc exp show` and `dvc dag` page their output in a terminal, with the pager DVC picks as
    dvc/ui/pager.py does: DVC_PAGER, else PAGER, else `less` if the shell finds it. With none of
    them DVC warns "Unable to find `less` in the PATH" and prints the wide table unpaged, which
    Windows' cmd and PowerShell (no less there) get by default. Nothing stops there, so that is a
    note, not a failure; a pager that is set but cannot run is one (DVC would fail to show the
    table). `dvc exp show --no-pager` skips it."""
    for variable in ("DVC_PAGER", "PAGER"):
        if pager := os.environ.get(variable):  # an empty value is no value, as in DVC
            try:
                program = shlex.split(pager, posix=os.name != "nt")[0].strip('"')
            except (ValueError, IndexError):
                raise Red(f"{variable}={pager!r} is not a command line", pager_fix()) from None
            if not (path := shutil.which(program)):
                raise Red(f"{variable}={pager} names {program}, not on PATH", pager_fix())
            return f"dvc exp show and dvc dag page through {variable}={pager} ({path})"
    if path := shutil.which("less"):
        return f"dvc exp show and dvc dag page through less ({path})"
    found = "no DVC_PAGER, no PAGER, no less on PATH: dvc exp show and dvc dag print unpaged, with a warning"
    raise Note(found, pager_fix())
