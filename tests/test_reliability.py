"""Faults on purpose: killed stages, a busy repository, a remote that dies, two machines.

Nothing here is mocked: real `dvc` processes are killed, real locks taken, a real GCS API
server (fake-gcs-server on 127.0.0.1) is stopped in the middle of a push.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from dvc_workshop.lab.model.emulator import CACHE_BUCKET, Emulator
from dvc_workshop.lab.model.emulator_settings import configure_project

from .conftest import DVC_OUTPUTS, copy_repo, digests, dvc, free_port, git, remove_local_data, set_params

pytestmark = pytest.mark.slow

DATA_STAGES = ("download_mnist", "preprocess")


def lock_entries(repo: Path, *stages: str) -> dict:
    return {name: yaml.safe_load((repo / "dvc.lock").read_text())["stages"][name] for name in stages}


def start_dvc(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """A dvc process in its own process group, so a kill reaches the stage it runs too."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.Popen(
        [sys.executable, "-m", "dvc", *args], cwd=cwd, env={**os.environ, "PATH": path},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def kill_while_running(process: subprocess.Popen[str], command: str, after: float) -> bool:
    """Kill dvc and its stage `after` seconds into the stage's own run, or, if the stage ends
    first, let dvc finish: DVC writes dvc.lock in place, so a kill then would truncate it,
    which is DVC's to guard against, not the stage's."""
    stage = None
    while stage is None and process.poll() is None:
        with contextlib.suppress(psutil.Error):  # a process ended while being looked at
            children = psutil.Process(process.pid).children(recursive=True)
            stage = next((child for child in children if command in " ".join(child.cmdline())), None)
    deadline, killed = time.monotonic() + after, False
    with contextlib.suppress(psutil.Error):
        while stage is not None and stage.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() >= deadline:
                os.killpg(process.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.01)
    process.wait()
    return killed


@pytest.mark.parametrize("stage", DATA_STAGES)
def test_a_stage_killed_midway_leaves_no_partial_output(repo_copy: Path, stage: str) -> None:
    dvc("repro", "preprocess", cwd=repo_copy)
    reference = lock_entries(repo_copy, *DATA_STAGES), digests(repo_copy, "data")
    rng = random.Random(stage)  # a seeded "random moment", different per stage
    kills = []
    for attempt in range(3):
        process = start_dvc("repro", "--force", "--single-item", stage, cwd=repo_copy)
        kills.append(kill_while_running(process, f"dvc_workshop.pipeline.{stage}", rng.uniform(0.2, 1.0)))
        outs = {"download_mnist": ["data/download_mnist/Images", "data/download_mnist/labels.csv"],
                "preprocess": ["data/preprocess"]}[stage]  # fmt: skip
        for out in outs:  # either gone, or complete and identical to the previous run's
            now = digests(repo_copy, out)
            assert not now or now == {k: v for k, v in reference[1].items() if k.startswith(out)}, attempt
    assert any(kills), "the stage always ended before its kill: nothing was tested"
    dvc("repro", "preprocess", cwd=repo_copy)  # may restore from the run cache, running nothing
    assert (lock_entries(repo_copy, *DATA_STAGES), digests(repo_copy, "data")) == reference
    dvc("repro", "--force", "preprocess", cwd=repo_copy)  # a real run clears any scratch copy
    assert not list(repo_copy.glob("data/**/.tmp-*"))
    assert (lock_entries(repo_copy, *DATA_STAGES), digests(repo_copy, "data")) == reference


def kill_at_epoch(process: subprocess.Popen[str], epoch: int, delay: float) -> bool:
    """Kill dvc and the train stage `delay` seconds after Keras starts `epoch` (dvclive has
    logged the epochs before it by then); False if training ended first."""
    for line in process.stdout:
        if line.startswith(f"Epoch {epoch}/"):
            time.sleep(delay)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
    process.wait()
    return False


def test_train_killed_midway_leaves_dvc_checkout_the_committed_outputs(repo_copy: Path) -> None:
    """The model is written beside its place and dvclive's curves in a scratch folder, both moved
    in at the end: after a kill, `dvc checkout` (no --force) finds nothing unsaved to refuse."""
    set_params(repo_copy, "download_mnist", limit_per_split=600)
    set_params(repo_copy, "train", epochs=6)
    dvc("repro", cwd=repo_copy)
    outputs = ("models", "dvclive")
    reference = lock_entries(repo_copy, "train"), digests(repo_copy, *outputs)
    rng = random.Random("train")
    for attempt in range(3):  # at a random epoch, a random moment into it
        process = start_dvc("repro", "--force", "--single-item", "train", cwd=repo_copy)
        assert kill_at_epoch(process, rng.randint(2, 6), rng.uniform(0, 0.3)), "train ended before its kill"
        checkout = dvc("checkout", cwd=repo_copy, check=False)
        assert checkout.returncode == 0, (attempt, checkout.stdout + checkout.stderr)
        assert (lock_entries(repo_copy, "train"), digests(repo_copy, *outputs)) == reference, attempt
    dvc("repro", cwd=repo_copy)  # completes (from the run cache, or by training again)
    assert "Data and pipelines are up to date" in dvc("status", cwd=repo_copy).stdout


def test_a_second_repro_is_refused_while_one_runs(repo_copy: Path) -> None:
    set_params(repo_copy, "download_mnist", limit_per_split=300)
    set_params(repo_copy, "train", epochs=1)
    first = start_dvc("repro", cwd=repo_copy)
    deadline = time.monotonic() + 60
    while not (repo_copy / "data").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    second = dvc("repro", cwd=repo_copy, check=False)
    output, _ = first.communicate(timeout=600)
    # DVC's repo lock ("Unable to acquire lock") or its per-output lock ("... is busy").
    refused = "Unable to acquire lock" in second.stderr or "it is being blocked by" in second.stderr
    assert second.returncode != 0 and refused, second.stderr
    assert first.returncode == 0, output
    assert "Data and pipelines are up to date" in dvc("status", cwd=repo_copy).stdout


def test_two_clones_in_different_folders_agree(tmp_path: Path) -> None:
    clones = [copy_repo(tmp_path / name / "workshop") for name in ("alice", "bob-elsewhere")]
    for clone in clones:
        set_params(clone, "download_mnist", limit_per_split=300)
        set_params(clone, "train", epochs=1)
        dvc("repro", cwd=clone)
    first, second = clones
    assert lock_entries(first, *DATA_STAGES) == lock_entries(second, *DATA_STAGES)
    # Training twice on one machine gives the same model, byte for byte (and the same curves).
    assert lock_entries(first, "train", "evaluate") == lock_entries(second, "train", "evaluate")
    metrics = [json.loads((clone / "reports/metrics.json").read_text()) for clone in clones]
    assert metrics[0] == metrics[1]


@pytest.fixture
def pushed_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A small pipeline, run, and an emulator with an empty cache bucket (restartable)."""
    server = Emulator(tmp_path / "buckets", free_port())
    server.start()
    server.create_buckets()
    repo = copy_repo(tmp_path / "repo")
    configure_project(repo, server.environment())
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    set_params(repo, "download_mnist", limit_per_split=1000)
    set_params(repo, "train", epochs=1)
    dvc("repro", cwd=repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "run")
    yield repo, server
    server.stop()


def test_push_survives_a_remote_that_dies_midway(pushed_repo) -> None:
    """gcsfs retries with backoff, so a push whose server comes back finishes; none loses data."""
    repo, server = pushed_repo
    before = digests(repo, *DVC_OUTPUTS)
    push = start_dvc("push", cwd=repo)
    deadline = time.monotonic() + 30
    while not server.filesystem().find(f"{CACHE_BUCKET}/mnist") and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop()
    time.sleep(3)
    server.start()  # same port, same --data-dir: what was pushed is still there
    push.communicate(timeout=600)

    dvc("push", cwd=repo)
    assert "in sync" in dvc("status", "-c", cwd=repo).stdout
    remove_local_data(repo)
    dvc("pull", cwd=repo)
    assert digests(repo, *DVC_OUTPUTS) == before


def test_pull_names_the_output_a_missing_object_belongs_to(pushed_repo) -> None:
    repo, server = pushed_repo
    dvc("push", cwd=repo)
    outs = lock_entries(repo, "train")["train"]["outs"]
    model_hash = next(out["md5"] for out in outs if out["path"] == "models/model.keras")
    buckets = server.filesystem()
    buckets.rm(f"{CACHE_BUCKET}/mnist/files/md5/{model_hash[:2]}/{model_hash[2:]}")
    remove_local_data(repo)
    pull = dvc("pull", cwd=repo, check=False)
    assert pull.returncode != 0
    assert "models/model.keras" in pull.stderr, pull.stderr
    assert "data/preprocess" not in pull.stderr  # the other outputs came back
    assert (repo / "data/preprocess/train.npz").is_file()
