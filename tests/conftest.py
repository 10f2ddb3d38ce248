"""Shared test helpers: run stages and DVC as an attendee would, in throwaway copies of the repo."""

from __future__ import annotations

import atexit
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import yaml

from dvc_workshop.data.idx import encode_idx
from dvc_workshop.data.sources import IDX_FILES

from .clones import DVC_OUTPUTS, REPO_ROOT, copy_repo, remove_local_data

__all__ = [
    "DVC_OUTPUTS",
    "REPO_ROOT",
    "WORKSHOP",
    "copy_repo",
    "remove_local_data",
]  # used by the test modules

# Never let google-auth or gcsfs probe for a Compute Engine metadata server: tests talk to
# 127.0.0.1 only, and a missing credential must fail at once instead of after a network wait.
os.environ["NO_GCE_CHECK"] = "true"

# An empty home, as on an attendee's new laptop: no global git identity (DVC reads it through
# libgit2, which looks in $HOME), no DVC or Keras settings. What needs an identity (a commit,
# `dvc exp run`) gets it as the README tells attendees to, so a missing step fails here too.
LAPTOP_HOME = Path.home()  # where this machine's own tools (pipx) live
os.environ["HOME"] = tempfile.mkdtemp(prefix="dvc-workshop-home-")
atexit.register(shutil.rmtree, os.environ["HOME"], ignore_errors=True)
os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
for variable in ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
    os.environ.pop(variable, None)

SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"
# The lab tool as attendees run it: the environment's `workshop` command, from any folder (in a lab,
# `python -m dvc_workshop.lab` would find the lab's own dvc_workshop package, which has no lab tool).
WORKSHOP = [str(Path(sys.executable).with_name("workshop"))]


def digests(repo: Path, *tops: str) -> dict[str, str]:
    """MD5 of every file under `tops`, leaving out the scratch copies a killed stage leaves."""
    return {
        str(path.relative_to(repo)): hashlib.md5(path.read_bytes()).hexdigest()
        for top in tops
        for path in sorted([repo / top, *(repo / top).rglob("*")])
        if path.is_file() and ".tmp-" not in str(path)
    }


def run(args: list[str], cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command with the test's Python environment first on PATH (as `pipenv run` does)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(
        args, cwd=cwd, env={**os.environ, "PATH": path, **env}, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def run_stage(stage: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one stage's CLI from this checkout, in any folder."""
    module = f"dvc_workshop.pipeline.{stage}"
    return run([sys.executable, "-m", module, *args], cwd=cwd, check=False, PYTHONPATH=str(REPO_ROOT))


def dvc(*args: str, cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "dvc", *args], cwd=cwd, check=check, **env)


def write_idx_folder(folder: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    """Write the four MNIST IDX .gz files for the given (images, labels) per split."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, (images_name, labels_name) in IDX_FILES.items():
        images, labels = splits[split]
        (folder / images_name).write_bytes(gzip.compress(encode_idx(images), mtime=0))
        (folder / labels_name).write_bytes(gzip.compress(encode_idx(labels), mtime=0))
    return folder


def random_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    return images, (np.arange(count) % 10).astype(np.uint8)


@pytest.fixture
def idx_folder(tmp_path: Path) -> Path:
    """A small, valid IDX source: 30 training and 20 test images of random pixels."""
    return write_idx_folder(tmp_path / "idx", {"train": random_digits(30, 1), "test": random_digits(20, 2)})


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo).stdout


def emulator_ready(server: subprocess.Popen[str]) -> str:
    """What `pipenv run emulator` printed up to its "GCS emulator on" line (the buckets and the
    default room it made come first), once it serves."""
    said = []
    for line in server.stdout:
        said.append(line)
        if line.startswith("GCS emulator on"):
            return "".join(said)
    raise AssertionError(f"the emulator stopped before serving:\n{''.join(said)}")


@contextmanager
def sample_emulator(folder: Path) -> Iterator:  # Iterator[Emulator]
    """fake-gcs-server on a free loopback port with the default room's buckets, the raw bucket
    holding the MNIST sample as IDX files (what `pipenv run emulator` serves); stopped after."""
    from dvc_workshop.emulator.server import Emulator, raw_mnist

    from .test_remote import free_port

    emulator = Emulator(folder / "buckets", free_port())
    emulator.start()
    try:
        emulator.create_buckets()
        emulator.upload_raw(
            raw_mnist(None, REPO_ROOT / "sources/mnist-sample.yaml", REPO_ROOT / "params.yaml")
        )
        yield emulator
    finally:
        emulator.stop()


@contextmanager
def lab_played_to(root: Path, step: int) -> Iterator[tuple[Path, dict[str, str]]]:
    """A lab (root/my-lab) made by `workshop start` and played with `workshop solution` to the end
    of `step`, against the sample emulator, and the environment of its attendee's shell."""
    with sample_emulator(root) as emulator:
        env = {**os.environ, **global_git_identity(root), **emulator.environment()}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        lab = root / "my-lab"
        subprocess.run(
            [*WORKSHOP, "start", str(lab)], cwd=REPO_ROOT, env=env, check=True, capture_output=True
        )
        for number in range(1, step + 1):
            subprocess.run(
                [*WORKSHOP, "solution", str(number)], cwd=lab, env=env, check=True, capture_output=True
            )
        yield lab, env


def pipenv_env(home: Path) -> dict[str, str]:
    """An attendee's shell on a laptop whose home is `home`: `pipenv run` (and `pipenv shell`)
    reuse the environment the tests run in, first on PATH (PIPENV_ACTIVE would make pipenv
    build a new one). The laptop's tools stay where they are: a pipx installed with `pip install
    --user` finds itself, and its pipenv, under the real home."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "HOME": str(home), "PIPENV_VERBOSITY": "-1", "VIRTUAL_ENV": str(bin_dir.parent)}
    env.setdefault("PYTHONUSERBASE", str(LAPTOP_HOME / ".local"))
    env.setdefault("PIPX_HOME", str(LAPTOP_HOME / ".local/share/pipx"))
    env.setdefault("PIPX_BIN_DIR", str(LAPTOP_HOME / ".local/bin"))
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    env.pop("PIPENV_ACTIVE", None)
    return env


def global_git_identity(folder: Path) -> dict[str, str]:
    """The environment of a user whose global git config has a name and email (the README's step)."""
    config = folder / "gitconfig"
    config.write_text("[user]\n\tname = Ada Attendee\n\temail = ada@example.com\n")
    return {"GIT_CONFIG_GLOBAL": str(config)}


def set_params(repo: Path, section: str, **values: object) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


# Modules that run real DVC pipelines, the emulator, the README or the hooks: minutes, not
# seconds. `pipenv run pytest -m "not slow"` leaves them out for a check in under a minute.
SLOW_MODULES = {"test_pipeline", "test_experiments", "test_readme", "test_reliability", "test_remote",
                "test_guide", "test_lint", "test_handout", "test_lab_playthrough", "test_doctor",
                "test_room", "test_mistakes", "test_busy_laptop"}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module.__name__.rpartition(".")[2] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
