"""The repository as an attendee's fresh clone, and the outputs DVC caches in it.

Shared by the tests (through conftest) and the benchmarks, which import it as `tests.clones`;
it needs nothing beyond the standard library, so a benchmark does not pull in pytest.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Everything the pipeline writes that DVC caches (the small metrics files live in git).
DVC_OUTPUTS = ("data", "models", "dvclive/plots", *(f"reports/{name}" for name in (
    "preprocessed.png", "predictions.csv", "per_class.csv", "misclassified.png")))  # fmt: skip


def copy_repo(copy: Path, *, git_identity: bool = True) -> Path:
    """A fresh git repository holding this working tree's files (tracked, and new ones not
    ignored), as a clone would: no outputs, no DVC cache. With `git_identity`, the clone has a
    committer name and email of its own (commits, `dvc exp run`); without, it relies on the
    global one, which the tests' home lacks, as a new laptop does."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    identity = {"user.name": "Test Attendee", "user.email": "attendee@example.com"}
    commands = [["init", "-q"], ["add", "-A"]]
    commands += [["config", key, value] for key, value in identity.items() if git_identity]
    commands += [["-c", f"user.name={identity['user.name']}", "-c", f"user.email={identity['user.email']}",
                  "commit", "-qm", "copy"]]  # fmt: skip
    for args in commands:
        subprocess.run(["git", *args], cwd=copy, check=True, capture_output=True)
    return copy


def remove_local_data(repo: Path) -> None:
    """Delete DVC's cache and every cached output, as on a teammate's fresh clone."""
    for top in (*DVC_OUTPUTS, ".dvc/cache"):
        path = repo / top
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def installed_source() -> Path | None:
    """The folder the environment's editable `dvc-workshop` runs from (its `workshop` command):
    pip records it in the install's direct_url.json."""
    import json
    from importlib.metadata import distributions
    from urllib.parse import unquote, urlparse

    for installed in distributions(name="dvc-workshop"):  # not the build's egg-info in the root
        recorded = installed.read_text("direct_url.json")
        if recorded:
            url = json.loads(recorded).get("url", "")
            return Path(unquote(urlparse(url).path)) if url.startswith("file://") else None
    return None


def install_this_checkout() -> None:
    """Point the environment's editable install back at this checkout. The README's `pipenv sync`,
    run by tests/test_readme.py in a copy, re-points it at the copy, and the environment outlives
    the test session (a CI machine keeps it between runs): every later `workshop` would run the
    copy's code, or code of an older commit from a folder pytest has not yet cleaned up."""
    if installed_source() == REPO_ROOT:
        return
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--editable", str(REPO_ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
