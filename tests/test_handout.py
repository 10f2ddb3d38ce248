"""The original handout's commands, as printed, against the emulator on 127.0.0.1.

An attendee holding the printed sheet adds the download stage with the handout's script and
reads the raw bucket as a plain gs:// dependency: STORAGE_EMULATOR_HOST sends gcsfs, DVC and
google-cloud-storage to the emulator, as Google's clients do.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dvc_workshop.data.digits import Digits
from dvc_workshop.lab.model.emulator import CACHE_BUCKET, Emulator

from .conftest import (
    REPO_ROOT,
    WORKSHOP,
    copy_repo,
    digests,
    dvc,
    free_port,
    global_git_identity,
    random_digits,
    run,
    run_stage,
    set_params,
)

pytestmark = pytest.mark.slow

HANDOUT = [  # the sheet's lines, verbatim but for the attendee's name
    "dvc stage add -n download_mnist -d gs://dvc-workshop-raw/mnist "
    "-d dvc_workshop/utils/generate_mnist_dataset -o data/download_mnist "
    "python -m dvc_workshop.utils.generate_mnist_dataset "
    '--output-image-path "data/download_mnist/Images" --output-df-path "data/download_mnist"',
    "dvc remote add -d dvc-workshop gs://dvc-workshop-cache/ada",
    "dvc dag",
    "dvc repro",
    "dvc push",
]


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    server = Emulator(tmp_path / "buckets", free_port())
    server.start()
    server.create_buckets()
    server.upload_raw({"train": Digits(*random_digits(300, 1)), "test": Digits(*random_digits(100, 2))})
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def start_state(folder: Path) -> Path:
    """The lab's start (`workshop start`): the code and params.yaml, no pipeline, no DVC remotes."""
    command = [*WORKSHOP, "start", str(folder)]
    run(command, cwd=REPO_ROOT, **global_git_identity(folder.parent))
    return folder


def test_handout_commands_work_as_printed(tmp_path: Path, emulator: Emulator) -> None:
    repo = start_state(tmp_path / "lab")
    outputs = []
    for line in HANDOUT:
        result = dvc(*shlex.split(line)[1:], cwd=repo)
        outputs.append(result.stdout + result.stderr)
    assert "download_mnist" in outputs[2]  # dvc dag
    assert "Running stage 'download_mnist'" in outputs[3]
    (output,) = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["download_mnist"]["outs"]
    assert output["path"] == "data/download_mnist"
    assert emulator.filesystem().find(f"{CACHE_BUCKET}/ada")  # pushed under the attendee's folder
    assert "Cache and remote 'dvc-workshop' are in sync" in dvc("status", "-c", cwd=repo).stdout

    # What it wrote is what the repository's download_mnist stage writes from the same bucket.
    reference = copy_repo(tmp_path / "reference")
    set_params(reference, "download_mnist", source="gs://dvc-workshop-raw/mnist")
    stage = run_stage(
        "download_mnist",
        "--images-dir", "data/download_mnist/Images", "--labels", "data/download_mnist/labels.csv",
        cwd=reference,
    )  # fmt: skip
    assert stage.returncode == 0, stage.stderr
    assert digests(repo, "data/download_mnist") == digests(reference, "data/download_mnist")


def test_handout_script_names_a_missing_bucket_object(tmp_path: Path, emulator: Emulator) -> None:
    emulator.filesystem().rm("dvc-workshop-raw/mnist/t10k-labels-idx1-ubyte.gz")
    result = run(
        [sys.executable, "-m", "dvc_workshop.utils.generate_mnist_dataset",
         "--output-image-path", "Images", "--output-df-path", "."],
        cwd=tmp_path, check=False, PYTHONPATH=str(REPO_ROOT),
    )  # fmt: skip
    assert result.returncode == 1
    missing = "gs://dvc-workshop-raw/mnist/t10k-labels-idx1-ubyte.gz"
    assert result.stderr.strip() == f"error: missing source file: {missing} (the source needs all four)"
    assert not (tmp_path / "Images").exists()
