"""Lab step 1's exercise, the original handout's: the lab's Pipfile lacks dev packages the lock was
made with; the attendee finds them and adds them by hand, so that the Pipfile matches its lock
again (`pipenv verify`) with nothing re-locked and no pinned version moved.

The target is the reference's own Pipfile (the one its Pipfile.lock was made from): every
section pipenv hashes into the lock ([[source]], [packages], [dev-packages], [requires]) is
compared as pipenv reads it (TOML, so layout and comments do not matter), and the first
difference named with its fix. A Pipfile.lock that moved (`pipenv lock`, `pipenv install X`,
which re-resolve every package to its newest allowed version) is named with the versions moved.
"""

from __future__ import annotations

import json
import re
import shlex

from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import PIPFILE_LEFT_OUT
from dvc_workshop.lab.model.problem import Problem

HASHED = ("source", "packages", "dev-packages", "requires")  # what pipenv hashes into Pipfile.lock


def read_pipfile(text: str, where: str) -> dict:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text).unwrap()
    except TOMLKitError as error:
        raise Problem(f"{where} is not valid TOML: {error}", "git diff Pipfile shows what changed") from None


def toml_value(spec: object) -> str:
    """A Pipfile entry's value as TOML writes it ("*", or {version = "*", extras = ["gs"]})."""
    import tomlkit

    if isinstance(spec, dict):
        table = tomlkit.inline_table()
        table.update(spec)
        return table.as_string().strip()
    return tomlkit.item(spec).as_string()


def delete_line(name: str, section: str) -> str:
    """The command that deletes package `name`'s line under `[section]` only, where a correct one
    may stand in another section (sed -i.bak, a range to the next section: Linux and macOS)."""
    line = "/^" + name.replace(".", "[.]") + " = /d;"
    program = "/^\\[" + section + "\\]$/,/^\\[/{" + line + "}"
    return f"sed -i.bak {shlex.quote(program)} Pipfile && rm Pipfile.bak"


def add_line(name: str, spec: object, section: str) -> str:
    """The command that adds package `name`'s line under `[section]` (awk: Linux and macOS)."""
    line = f"{name} = {toml_value(spec)}".replace("\\", "\\\\").replace('"', '\\"')
    program = "{ print } /^\\[" + section + '\\]$/ { print "' + line + '" }'
    return f"awk {shlex.quote(program)} Pipfile > Pipfile.new && mv Pipfile.new Pipfile"


def first_difference(found: dict, wanted: dict) -> Problem | None:
    """The first section entry that differs from the target's, said where it belongs."""
    for section in HASHED:
        have, want = found.get(section) or {}, wanted.get(section) or {}
        if section == "source":
            if have != want:
                return Problem(
                    "Pipfile's [[source]] is not the one the lock was made with", "git checkout Pipfile"
                )
            continue
        for name, spec in want.items():
            if name not in have:
                elsewhere = next((s for s in found if isinstance(found[s], dict) and name in found[s]), None)
                where = f" (it is under [{elsewhere}])" if elsewhere else ""
                fix = add_line(name, spec, section)
                return Problem(
                    f"Pipfile has no {name} under [{section}]{where}: the lock was made with it",
                    f"{delete_line(name, elsewhere)} && {fix}" if elsewhere else fix,
                )
            if have[name] != spec:
                return Problem(
                    f"Pipfile's {name} is {toml_value(have[name])} under [{section}]; the lock was made with "
                    f"{toml_value(spec)}",
                    f"{delete_line(name, section)} && {add_line(name, spec, section)}",
                )
    for section in HASHED[1:]:  # then what the lock was not made with
        have, want = found.get(section) or {}, wanted.get(section) or {}
        for name in have:
            if name not in want:
                return Problem(
                    f"Pipfile's [{section}] has {name}, which the lock was not made with: "
                    "pipenv install would re-lock every package",
                    delete_line(name, section),
                )
    return None


def normal(name: str) -> str:
    """A package's name as pip compares names (pre_commit and Pre.Commit are pre-commit)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def moved_versions(lab: Lab) -> list[str]:
    """Pinned versions of the lab's Pipfile.lock that differ from the reference's lock."""
    try:
        have = json.loads((lab.root / "Pipfile.lock").read_text())
        want = json.loads((lab.reference / "Pipfile.lock").read_text())
    except (OSError, ValueError):
        return ["Pipfile.lock (unreadable)"]
    moved = []
    for section in ("default", "develop"):
        for name, entry in want.get(section, {}).items():
            found = have.get(section, {}).get(name, {}).get("version")
            if found != entry.get("version"):
                moved.append(
                    f"{name} {str(entry.get('version', '')).lstrip('=')} -> {str(found).lstrip('=')}"
                )
    return moved


def pipfile_hints(lab: Lab) -> list[str]:
    """Step 1's hints for the exercise, the last one the lines still missing (none twice)."""
    try:
        found = read_pipfile((lab.root / "Pipfile").read_text(), "Pipfile")
    except Problem:
        found = {}
    have = found.get("dev-packages") or {}
    missing = [n for n in PIPFILE_LEFT_OUT if n not in have] or list(PIPFILE_LEFT_OUT)
    misspelt = [n for n in have if n not in PIPFILE_LEFT_OUT and normal(n) in map(normal, missing)]
    deletes = [delete_line(name, "dev-packages") for name in misspelt]
    adds = " && ".join([*deletes, *(add_line(n, "*", "dev-packages") for n in missing)])
    return [
        "Pipfile.lock's develop section lists every dev package and what they need; two of them are "
        "tools you run yourself, not libraries your code imports",
        "a linter and formatter, and the runner of git hooks (the original handout's flake8/black and "
        'pre-commit): here ruff and pre-commit, each as name = "*" under [dev-packages]',
        f"the lines still missing, added: {adds}; then pipenv verify says the lock is up to date (when "
        "it says Run $ pipenv lock, do not: fix the Pipfile), and git commit -m 'Pipfile: its dev "
        "packages' Pipfile",
    ]


def strays_said(found: dict, wanted: dict, missing: list[str]) -> str:
    """The dev packages the lock was not made with, each said with the name it has in the lock
    where only its spelling differs (pre_commit: the lock's pre-commit)."""
    strays = sorted(set(found.get("dev-packages") or {}) - set(wanted.get("dev-packages") or {}))
    said = [next((f"{s} (the lock's {n})" for n in missing if normal(n) == normal(s)), s) for s in strays]
    return f"; [dev-packages] has {', '.join(said)}, which the lock was not made with" if said else ""


def check_pipfile(lab: Lab, step: int) -> None:
    """The Pipfile as the lock was made from, the lock untouched, and the Pipfile committed (`step`:
    the number of the step whose exercise it is, its hint's)."""
    if moved := moved_versions(lab):
        start = lab.git_output("rev-list", "--max-parents=0", "HEAD").split()[-1][:7]
        raise Problem(
            f"Pipfile.lock was re-locked ({len(moved)} version{'s' if len(moved) > 1 else ''} moved, e.g. "
            f"{', '.join(moved[:2])}): "
            "pipenv lock and pipenv install re-resolve every package",
            f"git checkout {start} -- Pipfile.lock && pipenv verify",
        )
    found = read_pipfile((lab.root / "Pipfile").read_text(), "Pipfile")
    wanted = read_pipfile((lab.reference / "Pipfile").read_text(), f"{lab.reference}/Pipfile")
    if problem := first_difference(found, wanted):
        missing = [
            n for n in PIPFILE_LEFT_OUT if not any(isinstance(v, dict) and n in v for v in found.values())
        ]
        if missing and "Pipfile has no" in problem.what:  # the exercise itself: hints, not the answer
            stray = strays_said(found, wanted, missing)
            raise Problem(
                f"Pipfile lacks {len(missing)} dev package{'s' if len(missing) > 1 else ''} of its lock "
                f"(the exercise of step {step}){stray}",
                f"workshop hint {step}",
            )
        raise problem
    if "Pipfile" in lab.uncommitted:
        raise Problem(
            "the Pipfile's change is not committed",
            f"git commit -m {shlex.quote('Pipfile: its dev packages')} Pipfile",
        )
