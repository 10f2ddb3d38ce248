"""The stage CLIs on small data: what they write, and how they fail on bad input."""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from dvc_workshop.data.arrays import save_npz
from dvc_workshop.ml.transforms import center_crop, standardize

from .conftest import (
    REPO_ROOT,
    assert_one_line_error,
    download,
    preprocess,
    random_digits,
    run,
    run_stage,
    write_params,
)


def test_download_writes_one_png_per_image_in_shards_and_the_labels_table(tmp_path, idx_folder) -> None:
    result = download(tmp_path, str(idx_folder))
    assert result.returncode == 0, result.stderr
    with (tmp_path / "out/labels.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["split"] for row in rows] == ["train"] * 30 + ["test"] * 20
    images, labels = random_digits(20, 2)
    assert [int(row["label"]) for row in rows[30:]] == labels.tolist()
    assert rows[35]["shard"] == "test-00.zip" and rows[35]["image"] == "test/00005.png"
    with zipfile.ZipFile(tmp_path / "out/Images/test-00.zip") as shard:
        png = Image.open(io.BytesIO(shard.read(rows[35]["image"])))
        assert png.mode == "L" and png.format == "PNG"
        assert np.array_equal(np.asarray(png), images[5])
        assert len(shard.namelist()) == 20
    assert sorted(p.name for p in (tmp_path / "out/Images").iterdir()) == ["test-00.zip", "train-00.zip"]


def test_download_limit_keeps_the_first_images_of_each_split(tmp_path, idx_folder) -> None:
    assert download(tmp_path, str(idx_folder), limit_per_split=4).returncode == 0
    rows = (tmp_path / "out/labels.csv").read_text().splitlines()
    assert rows[1:] == [f"train-00.zip,train/0000{i}.png,{i},train" for i in range(4)] + [
        f"test-00.zip,test/0000{i}.png,{i},test" for i in range(4)
    ]


def test_download_is_byte_identical_when_repeated(tmp_path, idx_folder) -> None:
    sample = str(REPO_ROOT / "sources/mnist-sample.yaml")
    assert download(tmp_path, sample, limit_per_split=20).returncode == 0
    first = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert download(tmp_path, sample, limit_per_split=20).returncode == 0
    again = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert first == again and len(first) == 3  # two shards and the labels table


@pytest.mark.parametrize(
    ("breakage", "fragments"),
    [
        ("missing_folder", ["missing source file:", "nowhere/train-images-idx3-ubyte.gz"]),
        ("truncated_gzip", ["train-labels-idx1-ubyte.gz: not a complete gzip file"]),
        ("truncated_idx", ["train-images-idx3-ubyte.gz: truncated"]),
        ("count_mismatch", ["30 images but 29 labels"]),
    ],
)
def test_bad_sources_fail_in_one_line_and_keep_the_previous_output(tmp_path, idx_folder, breakage, fragments):
    assert download(tmp_path, str(idx_folder)).returncode == 0
    before = (tmp_path / "out/labels.csv").read_bytes()
    source = idx_folder
    if breakage == "missing_folder":
        source = tmp_path / "nowhere"
    elif breakage == "truncated_gzip":
        data = (idx_folder / "train-labels-idx1-ubyte.gz").read_bytes()
        (idx_folder / "train-labels-idx1-ubyte.gz").write_bytes(data[:-20])
    elif breakage == "truncated_idx":
        data = gzip.decompress((idx_folder / "train-images-idx3-ubyte.gz").read_bytes())
        (idx_folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(data[:-1]))
    else:
        data = gzip.decompress((idx_folder / "train-labels-idx1-ubyte.gz").read_bytes())
        (idx_folder / "train-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(b"\0\0\x08\x01\0\0\0\x1d" + data[8:-1])
        )
    result = download(tmp_path, str(source))
    assert_one_line_error(result, *fragments)
    assert (tmp_path / "out/labels.csv").read_bytes() == before
    assert not list(tmp_path.glob("out/.tmp-*"))


def test_bad_source_leaves_no_output_when_there_was_none(tmp_path) -> None:
    result = download(tmp_path, str(tmp_path / "nowhere"))
    assert_one_line_error(result, "missing source file")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_invalid_parameter_fails_before_any_work(tmp_path) -> None:
    result = download(tmp_path, "ftp://example.org/mnist")
    assert_one_line_error(result, "invalid parameter download_mnist.source")
    result = preprocess(tmp_path, write_params(tmp_path, preprocess={"crop_size": 30}))
    assert_one_line_error(result, "invalid parameter preprocess.crop_size", "got 30")


def test_verbose_shows_the_traceback(tmp_path) -> None:
    params = write_params(tmp_path, download_mnist={"source": str(tmp_path / "nowhere")})
    result = run_stage(
        "download_mnist",
        "--images-dir",
        "a",
        "--labels",
        "b",
        "--params",
        str(params),
        "--verbose",
        cwd=tmp_path,
    )
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_preprocess_standardizes_with_training_statistics_and_rotates_only_training(tmp_path, idx_folder):
    assert download(tmp_path, str(idx_folder)).returncode == 0
    params = write_params(tmp_path, preprocess={"crop_size": 24, "max_rotation": 20.0})
    result = preprocess(tmp_path, params)
    assert result.returncode == 0, result.stderr
    train_raw, _ = random_digits(30, 1)
    test_raw, test_labels = random_digits(20, 2)
    stats = yaml.safe_load((tmp_path / "prep/stats.json").read_text())
    assert stats["mean"] == pytest.approx(train_raw.mean()) and stats["std"] == pytest.approx(train_raw.std())
    with np.load(tmp_path / "prep/test.npz") as test:
        expected = center_crop(standardize(test_raw, stats["mean"], stats["std"]), 24)
        assert test["images"].dtype == np.float32 and np.array_equal(test["images"], expected)
        assert test["labels"].tolist() == test_labels.tolist()
    with np.load(tmp_path / "prep/train.npz") as train:
        assert train["images"].shape == (30, 24, 24)
        unrotated = center_crop(standardize(train_raw, stats["mean"], stats["std"]), 24)
        assert not np.allclose(train["images"], unrotated)
    assert Image.open(tmp_path / "prep.png").size[0] > 10 * 28  # a sheet of ten columns of digits


# TensorFlow 2.21's start-up lines on Linux x86-64 (tensorflow-cpu), as train and evaluate printed
# them before cli.quiet_tensorflow (the long ones cut short): the filter drops these and no other.
TENSORFLOW_NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796184021.441824    6038 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results [...] `TF_ENABLE_ONEDNN_OPTS=0`.",
    "E0000 00:00:1796184028.333136    6038 node_def_util.cc:682] NodeDef mentions attribute "
    "use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; [...] This may be "
    "expected if your graph generating binary is newer  than this binary. [...] ParallelMapDatasetV2/_15}}",
]
REAL_LINES = [
    "E0000 00:00:1796184028.333136    6038 cuda_executor.cc:1228] failed call to cuInit: UNKNOWN ERROR (303)",
    "W0000 00:00:1796184028.333136    6038 cpu_allocator_impl.cc:84] Allocation exceeds 10% of memory.",
    "F0000 00:00:1796184028.333136    6038 port.cc:153] oneDNN custom operations are on, but a check failed",
]


@pytest.mark.parametrize(("level", "shown"), [(None, REAL_LINES), ("0", [*TENSORFLOW_NOISE, *REAL_LINES])])
def test_tensorflows_noise_is_dropped_and_the_rest_passes_even_when_the_stage_aborts(
    tmp_path: Path, level: str | None, shown: list[str]
) -> None:
    """What a stage writes to stderr after quiet_tensorflow() reaches the terminal, but for the
    noise, even if the process dies right after (as a TensorFlow check failure aborts it);
    TF_CPP_MIN_LOG_LEVEL=0 shows it all."""
    lines = [*TENSORFLOW_NOISE, *REAL_LINES]
    written = "".join(f"{line}\n" for line in lines).encode()
    code = (
        "import os, sys\nfrom dvc_workshop.cli import quiet_tensorflow\nquiet_tensorflow()\n"
        f"os.write(2, {written!r})\nprint('and a traceback', file=sys.stderr, flush=True)\nos.abort()\n"
    )
    env = {"PYTHONPATH": str(REPO_ROOT), **({"TF_CPP_MIN_LOG_LEVEL": level} if level else {})}
    result = run([sys.executable, "-c", code], cwd=tmp_path, check=False, **env)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [*[line for line in lines if line in shown], "and a traceback"]


@pytest.mark.slow  # TensorFlow loads twice: 30 s
def test_train_and_evaluate_print_nothing_on_stderr(tmp_path: Path) -> None:
    """TensorFlow's start-up lines are gone from the stages' stderr (README, the first command)."""
    (tmp_path / "prep").mkdir()
    rng = np.random.default_rng(0)
    for split, count in (("train", 40), ("test", 20)):
        images = rng.random((count, 26, 26), dtype=np.float32)
        save_npz(tmp_path / f"prep/{split}.npz", images=images, labels=np.arange(count) % 10)
    params = write_params(tmp_path, train={"epochs": 1})
    trained = run_stage(
        "train", "--data-dir", "prep", "--model", "m.keras", "--live-dir", "live", "--params", str(params),
        cwd=tmp_path,
    )  # fmt: skip
    assert (trained.returncode, trained.stderr) == (0, "")
    evaluated = run_stage(
        "evaluate", "--model", "m.keras", "--data-dir", "prep", "--metrics", "m.json",
        "--predictions", "p.csv", "--per-class", "c.csv", "--mistakes", "x.png", cwd=tmp_path,
    )  # fmt: skip
    assert (evaluated.returncode, evaluated.stderr) == (0, "")
