"""Check that Pipfile.lock installs on every Python and system the workshop supports.

pipenv resolves the lock on the Python it runs on, and records each package's own
`requires-python` as a marker: a version that needs Python 3.11 would be skipped on 3.10
without an error, and a package with no wheel for some system would need a compiler there.
For each locked package this asks the package index (its JSON simple API) which files carry
the lock's hashes, and checks that every (Python, system) pair below gets one of them. A
package the Pipfile's markers give to some systems only is one of `ALTERNATIVES`: each pair
gets exactly one of its group. Path entries (the project itself, editable) are not on the index.
Then it prints what `pipenv sync` (without --dev) downloads on each system, from the lock and
the index's file sizes:

    pipenv run python scripts/check_lock.py        # about 20 s; exit 1 and one line per gap
    git show main:Pipfile.lock | pipenv run python scripts/check_lock.py -    # another lock
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

LOCK = Path(__file__).resolve().parents[1] / "Pipfile.lock"
PYTHONS = [(3, 10), (3, 11), (3, 12), (3, 13)]  # TensorFlow's range; the README promises these
GLIBC_PLATFORMS = [f"manylinux_2_{minor}" for minor in range(35, 16, -1)]  # Ubuntu 22.04: 2.35
SYSTEMS = {  # name: (platform tags, newest first; environment markers)
    "linux-x86_64": (
        [f"{base}_x86_64" for base in [*GLIBC_PLATFORMS, "manylinux2014", "manylinux2010", "manylinux1"]],
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    ),
    "linux-aarch64": (
        [f"{base}_aarch64" for base in [*GLIBC_PLATFORMS, "manylinux2014"]],
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    ),
    "macos-arm64": (  # Apple silicon, macOS 13 or newer
        list(mac_platforms((13, 0), "arm64")),
        {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    ),
    "windows-amd64": (
        ["win_amd64"],
        {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
    ),
}
# Builds of one import package that the Pipfile's markers share out between the systems:
# tensorflow-cpu (no CUDA kernels) where it has wheels, tensorflow elsewhere.
ALTERNATIVES = [("tensorflow", "tensorflow-cpu")]
DOWNLOAD_PYTHON = (3, 11)  # the Python of the download figures
MB = 1_000_000


def supported_tags(python: tuple[int, int], platforms: list[str]) -> list[Tag]:
    """The wheel tags pip accepts for CPython `python` on `platforms`, the one it prefers first."""
    interpreter = f"cp{python[0]}{python[1]}"
    tags = list(cpython_tags(python, platforms=platforms))
    return tags + list(compatible_tags(python, interpreter=interpreter, platforms=platforms))


def environment(python: tuple[int, int], system: str) -> dict[str, str]:
    """The environment markers of CPython `python` on `system`."""
    return {
        **SYSTEMS[system][1],
        "python_version": f"{python[0]}.{python[1]}",
        "python_full_version": f"{python[0]}.{python[1]}.0",
    }


def installed(entry: dict, python: tuple[int, int], system: str) -> bool:
    """Whether pip installs a lock entry there: its markers, if any, hold."""
    return not entry.get("markers") or Marker(entry["markers"]).evaluate(environment(python, system))


def index_files(index_url: str, name: str) -> list[dict]:
    """The files of a project on the index, from its JSON simple API (PEP 691)."""
    request = urllib.request.Request(
        f"{index_url.rstrip('/')}/{canonicalize_name(name)}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    for attempt in (1, 2, 3):  # a passing network fault should not fail CI
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["files"]
        except OSError:
            if attempt == 3:
                raise
            time.sleep(attempt)


def locked_files(entry: dict, files: list[dict]) -> list[tuple[set[Tag] | None, SpecifierSet, dict]]:
    """(tags or None for a source archive, requires-python, the index's file) of the locked files."""
    locked = {digest.removeprefix("sha256:") for digest in entry.get("hashes", [])}
    candidates = []
    for file in files:
        if file.get("hashes", {}).get("sha256") not in locked:
            continue
        filename = file["filename"]
        if filename.endswith(".whl"):
            tags = set(parse_wheel_filename(filename)[3])
        elif filename.endswith((".tar.gz", ".zip")):  # a source archive pip builds
            parse_sdist_filename(filename)
            tags = None
        else:  # eggs and other old formats pip no longer installs
            continue
        candidates.append((tags, SpecifierSet(file.get("requires-python") or ""), file))
    return candidates


def chosen_file(entry: dict, files: list[dict], python: tuple[int, int], system: str) -> dict | None:
    """The locked file pip downloads for CPython `python` on `system`: the wheel with the tag it
    prefers, else a source archive; None where there is none."""
    full_version = f"{python[0]}.{python[1]}.0"
    accepted = supported_tags(python, SYSTEMS[system][0])
    rank = {tag: position for position, tag in enumerate(accepted)}
    best = None  # (rank, file); a source archive ranks after every wheel
    for tags, requires, file in locked_files(entry, files):
        if not requires.contains(full_version):
            continue
        if tags is None:
            position = len(rank)
        elif not (tags & rank.keys()):
            continue
        else:
            position = min(rank[tag] for tag in tags & rank.keys())
        if best is None or position < best[0]:
            best = (position, file)
    return best and best[1]


def gaps(name: str, entry: dict, files: list[dict], alternative: bool = False) -> list[str]:
    """What is missing for `name` (a Pipfile.lock entry) on each supported Python and system;
    an `alternative` (one of `ALTERNATIVES`) may be left out by its markers."""
    version = entry["version"].removeprefix("==")
    if not locked_files(entry, files):
        return [f"{name}=={version}: none of its locked hashes is on the index"]
    problems = []
    for python in PYTHONS:
        for system in SYSTEMS:
            if not installed(entry, python, system):
                if alternative:
                    continue
                problems.append(f"{name}=={version}: skipped on Python {python[0]}.{python[1]} "
                                f"({entry['markers']})")  # fmt: skip
                break
            if chosen_file(entry, files, python, system) is None:
                problems.append(f"{name}=={version}: no file for Python {python[0]}.{python[1]} on {system}")
    return problems


def alternative_gaps(entries: dict[str, dict]) -> list[str]:
    """Each (Python, system) gets exactly one package of each group of `ALTERNATIVES`, all of
    them at one version."""
    problems = []
    for group in ALTERNATIVES:
        locked = {name: entries[name]["version"] for name in group if name in entries}
        if len(set(locked.values())) > 1:
            pins = " and ".join(f"{name}{version}" for name, version in locked.items())
            problems.append(f"{pins}: one version for every system")
        for python in PYTHONS:
            for system in SYSTEMS:
                chosen = [
                    name for name in group if name in entries and installed(entries[name], python, system)
                ]
                if len(chosen) != 1:
                    where = f"Python {python[0]}.{python[1]} on {system}"
                    problems.append(f"{' or '.join(group)}: {', '.join(chosen) or 'none'} on {where}")
    return problems


def downloads(lock: dict, files: dict[str, list[dict]], python: tuple[int, int]) -> list[str]:
    """One line per system: what `pipenv sync` (the lock's default packages) downloads there."""
    lines = []
    for system in SYSTEMS:
        sizes = {}
        for name, entry in lock["default"].items():
            if "path" in entry or not installed(entry, python, system):
                continue
            file = chosen_file(entry, files[name], python, system)
            sizes[name] = file["size"] if file else 0
        biggest = sorted(sizes, key=sizes.get, reverse=True)[:4]
        lines.append(
            f"  {system:<14} {sum(sizes.values()) / MB:4.0f} MB in {len(sizes)} packages: "
            + ", ".join(f"{name} {sizes[name] / MB:.0f}" for name in biggest)
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", nargs="?", default=str(LOCK), help="the lock to check; - reads it from stdin")
    arguments = parser.parse_args(argv)
    lock = json.loads(sys.stdin.read() if arguments.lock == "-" else Path(arguments.lock).read_text())
    index_url = lock["_meta"]["sources"][0]["url"]
    entries = {
        name: entry
        for section in ("default", "develop")
        for name, entry in lock[section].items()
        if "path" not in entry  # the project itself, from its source tree
    }
    with ThreadPoolExecutor(max_workers=8) as pool:
        files = dict(zip(entries, pool.map(lambda name: index_files(index_url, name), entries), strict=True))
    alternatives = {name for group in ALTERNATIVES for name in group}
    problems = [
        problem
        for name, entry in entries.items()
        for problem in gaps(name, entry, files[name], alternative=name in alternatives)
    ] + alternative_gaps(entries)
    has_wheel = {name: any(file["filename"].endswith(".whl") for file in files[name]) for name in entries}
    source_only = sorted(name for name, wheel in has_wheel.items() if not wheel)
    for problem in problems:
        print(problem)
    pythons = ", ".join(f"{major}.{minor}" for major, minor in PYTHONS)
    name = "Pipfile.lock (stdin)" if arguments.lock == "-" else Path(arguments.lock).name
    print(
        f"{name}: {len(entries)} packages, Python {pythons} on {', '.join(SYSTEMS)}: "
        f"{'ok' if not problems else f'{len(problems)} gaps'}"
        + (f" (source archives only: {', '.join(source_only)})" if source_only else "")
    )
    major, minor = DOWNLOAD_PYTHON
    print(f"`pipenv sync` downloads on Python {major}.{minor} (total, then the biggest, in MB):")
    print("\n".join(downloads(lock, files, DOWNLOAD_PYTHON)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
