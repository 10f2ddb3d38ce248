"""Check that Pipfile.lock installs on every Python and system the workshop supports.

pipenv resolves the lock on the Python it runs on, and records each package's own
`requires-python` as a marker: a version that needs Python 3.11 would be skipped on 3.10
without an error, and a package with no wheel for some system would need a compiler there.
For each locked package this asks the package index (its JSON simple API) which files carry
the lock's hashes, and checks that every (Python, system) pair below gets one of them:

    pipenv run python scripts/check_lock.py        # about 20 s; exit 1 and one line per gap
"""

from __future__ import annotations

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


def supported_tags(python: tuple[int, int], platforms: list[str]) -> set[Tag]:
    """The wheel tags pip accepts for CPython `python` on `platforms`."""
    interpreter = f"cp{python[0]}{python[1]}"
    tags = set(cpython_tags(python, platforms=platforms))
    return tags | set(compatible_tags(python, interpreter=interpreter, platforms=platforms))


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


def gaps(name: str, entry: dict, files: list[dict]) -> list[str]:
    """What is missing for `name` (a Pipfile.lock entry) on each supported Python and system."""
    version = entry["version"].removeprefix("==")
    locked = {digest.removeprefix("sha256:") for digest in entry.get("hashes", [])}
    candidates = []  # (tags or None for a source archive, requires-python) of the locked files
    for file in files:
        if file.get("hashes", {}).get("sha256") not in locked:
            continue
        filename = file["filename"]
        if filename.endswith(".whl"):
            tags = parse_wheel_filename(filename)[3]
        elif filename.endswith((".tar.gz", ".zip")):  # a source archive pip builds
            parse_sdist_filename(filename)
            tags = None
        else:  # eggs and other old formats pip no longer installs
            continue
        candidates.append((tags, SpecifierSet(file.get("requires-python") or "")))
    if not candidates:
        return [f"{name}=={version}: none of its locked hashes is on the index"]
    problems = []
    for python in PYTHONS:
        full_version = f"{python[0]}.{python[1]}.0"
        for system, (platforms, environment) in SYSTEMS.items():
            markers = {**environment, "python_version": f"{python[0]}.{python[1]}"}
            markers["python_full_version"] = full_version
            if entry.get("markers") and not Marker(entry["markers"]).evaluate(markers):
                problems.append(f"{name}=={version}: skipped on Python {markers['python_version']} "
                                f"({entry['markers']})")  # fmt: skip
                break
            accepted = supported_tags(python, platforms)
            if not any(
                (tags is None or tags & accepted) and requires.contains(full_version)
                for tags, requires in candidates
            ):
                problems.append(f"{name}=={version}: no file for Python {python[0]}.{python[1]} on {system}")
    return problems


def main() -> int:
    lock = json.loads(LOCK.read_text())
    index_url = lock["_meta"]["sources"][0]["url"]
    entries = {name: entry for section in ("default", "develop") for name, entry in lock[section].items()}
    with ThreadPoolExecutor(max_workers=8) as pool:
        files = dict(zip(entries, pool.map(lambda name: index_files(index_url, name), entries), strict=True))
    problems = [problem for name, entry in entries.items() for problem in gaps(name, entry, files[name])]
    has_wheel = {name: any(file["filename"].endswith(".whl") for file in files[name]) for name in entries}
    source_only = sorted(name for name, wheel in has_wheel.items() if not wheel)
    for problem in problems:
        print(problem)
    pythons = ", ".join(f"{major}.{minor}" for major, minor in PYTHONS)
    print(
        f"{LOCK.name}: {len(entries)} packages, Python {pythons} on {', '.join(SYSTEMS)}: "
        f"{'ok' if not problems else f'{len(problems)} gaps'}"
        + (f" (source archives only: {', '.join(source_only)})" if source_only else "")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
