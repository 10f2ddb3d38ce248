"""The raw and cache buckets on a real GCS API server (fake-gcs-server on 127.0.0.1).

Everything goes through the real dvc-gs/gcsfs code path; only the endpoint differs from GCS.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dvc_workshop.data.digits import Digits
from dvc_workshop.data.sources import load_idx
from dvc_workshop.lab.model.emulator import CACHE_BUCKET, RAW_BUCKET, RAW_PREFIX, Emulator
from dvc_workshop.lab.model.emulator_settings import configure_project

from .conftest import (
    DVC_OUTPUTS,
    copy_repo,
    digests,
    dvc,
    emulator_ready,
    free_port,
    git,
    random_digits,
    remove_local_data,
    run_stage,
    set_params,
)

pytestmark = pytest.mark.slow

RAW_SOURCE = f"remote://dvc-workshop-raw/{RAW_PREFIX}"
CACHE_PREFIX = f"{CACHE_BUCKET}/mnist"  # the dvc-workshop remote's folder (.dvc/config)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    server = Emulator(tmp_path_factory.mktemp("gcs") / "buckets", free_port())
    server.start()
    server.create_buckets()
    server.upload_raw({"train": Digits(*random_digits(300, 1)), "test": Digits(*random_digits(100, 2))})
    yield server
    server.stop()


@pytest.fixture
def remote_repo(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone configured for the emulator, reading its raw data from the raw bucket."""
    repo = copy_repo(tmp_path / "repo")
    configure_project(repo, emulator.environment())
    for name, value in emulator.environment().items():
        monkeypatch.setenv(name, value)
    buckets = emulator.filesystem()
    if buckets.exists(CACHE_PREFIX):  # every test starts from an empty cache bucket
        buckets.rm(CACHE_PREFIX, recursive=True)
    set_params(repo, "download_mnist", source=RAW_SOURCE)
    set_params(repo, "train", epochs=1)
    git(repo, "commit", "-qam", "raw bucket source")
    return repo


def test_raw_bucket_to_push_to_pull_round_trip(remote_repo: Path, emulator: Emulator) -> None:
    repro = dvc("repro", cwd=remote_repo)
    assert "Running stage 'download_mnist'" in repro.stdout
    with zipfile.ZipFile(remote_repo / "data/download_mnist/Images/train-00.zip") as shard:
        assert len(shard.namelist()) == 300
    assert "dvc-workshop-raw/mnist" in (remote_repo / "dvc.lock").read_text()

    assert "new:" in dvc("status", "-c", cwd=remote_repo).stdout
    dvc("push", cwd=remote_repo)
    assert "in sync" in dvc("status", "-c", cwd=remote_repo).stdout
    assert emulator.filesystem().find(CACHE_PREFIX)  # objects really are in the bucket

    before = digests(remote_repo, *DVC_OUTPUTS)
    remove_local_data(remote_repo)
    dvc("pull", cwd=remote_repo)
    assert digests(remote_repo, *DVC_OUTPUTS) == before
    assert "Data and pipelines are up to date" in dvc("status", cwd=remote_repo).stdout
    assert dvc("repro", cwd=remote_repo).stdout.count("didn't change, skipping") == 4


def test_changed_raw_object_reruns_download(remote_repo: Path, emulator: Emulator) -> None:
    dvc("repro", "download_mnist", cwd=remote_repo)
    assert "Data and pipelines are up to date" in dvc("status", "download_mnist", cwd=remote_repo).stdout
    labels = load_idx(f"gs://{RAW_BUCKET}/{RAW_PREFIX}")["test"].labels
    try:
        emulator.upload_raw({"train": Digits(*random_digits(300, 1)), "test": Digits(*random_digits(100, 3))})
        status = dvc("status", "download_mnist", cwd=remote_repo).stdout
        assert "changed deps" in status and RAW_SOURCE in status
        assert "Running stage 'download_mnist'" in dvc("repro", "download_mnist", cwd=remote_repo).stdout
    finally:
        emulator.upload_raw({"train": Digits(*random_digits(300, 1)), "test": Digits(*random_digits(100, 2))})
    assert np.array_equal(load_idx(f"gs://{RAW_BUCKET}/{RAW_PREFIX}")["test"].labels, labels)


def download_from(repo: Path, source: str):
    set_params(repo, "download_mnist", source=source)
    return run_stage("download_mnist", "--images-dir", "out/Images", "--labels", "out/labels.csv", cwd=repo)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            f"{RAW_SOURCE}-missing",
            "missing source file: remote://dvc-workshop-raw/mnist-missing/train-images",
        ),
        (
            "gs://no-such-bucket/mnist",
            "missing source file: gs://no-such-bucket/mnist/train-images-idx3-ubyte.gz",
        ),
    ],
)
def test_missing_bucket_or_object_is_named(remote_repo: Path, source: str, expected: str) -> None:
    result = download_from(remote_repo, source)
    assert result.returncode == 1 and result.stderr.startswith(f"error: {expected}"), result.stderr
    assert "Traceback" not in result.stderr and not (remote_repo / "out").exists()


def test_unreachable_endpoint_says_to_start_the_emulator(remote_repo: Path, monkeypatch) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    dvc("remote", "modify", "--local", "dvc-workshop-raw", "endpointurl", closed, cwd=remote_repo)
    result = download_from(remote_repo, RAW_SOURCE)
    assert result.returncode == 1 and f"error: cannot reach {closed}" in result.stderr
    assert "pipenv run emulator" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_credentials_file_is_reported(remote_repo: Path) -> None:
    for args in (["--unset", "dvc-workshop-raw", "allow_anonymous_login"],
                 ["dvc-workshop-raw", "credentialpath", "/nonexistent/key.json"]):  # fmt: skip
        dvc("remote", "modify", "--local", *args, cwd=remote_repo)
    result = download_from(remote_repo, RAW_SOURCE)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: credentials file not found: /nonexistent/key.json")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in result.stderr and len(result.stderr.splitlines()) == 1


def test_emulator_command_configures_and_starts_again(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    port, data = free_port(), tmp_path / "buckets"
    emulator = [sys.executable, "-m", "dvc_workshop.emulator"]
    command = [*emulator, "--port", str(port), "--data-dir", str(data)]
    for attempt in range(2):  # the second start finds the buckets kept in --data-dir
        server = subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, text=True)
        try:
            said = emulator_ready(server)
            assert f"GCS emulator on http://127.0.0.1:{port}" in said
            room = "4 uploaded" if attempt == 0 else "0 uploaded, 4 there already"  # nothing replaced
            assert (
                f"gs://{RAW_BUCKET}/{RAW_PREFIX}: the four MNIST files (sample), MD5 verified; {room}" in said
            )
            assert f"endpointurl = http://127.0.0.1:{port}" in (repo / ".dvc/config.local").read_text()
            assert f"STORAGE_EMULATOR_HOST=http://127.0.0.1:{port}" in (repo / ".env").read_text()
            listing = Emulator(data, port).filesystem().ls(f"{RAW_BUCKET}/{RAW_PREFIX}")
            assert f"{RAW_BUCKET}/{RAW_PREFIX}/t10k-labels-idx1-ubyte.gz" in listing, (attempt, listing)
        finally:
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=30) == 0
        assert f"endpointurl = http://127.0.0.1:{port}" in (repo / ".dvc/config.local").read_text()  # left:
        assert f"STORAGE_EMULATOR_HOST=http://127.0.0.1:{port}" in (repo / ".env").read_text()  # never Google
    assert (data / RAW_BUCKET).is_dir()
