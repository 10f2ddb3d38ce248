"""Reliability, round two: parameters that validate but would crash, crafted inputs, full disks.

Each case runs a stage's real CLI (or the real loader) and must end in one line that names the
parameter or file, exit status 1, before heavy work, and leave no output behind.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import psutil
import pytest

from dvc_workshop.data.arrays import save_npz
from dvc_workshop.lab.model.emulator import Emulator
from dvc_workshop.params import ParamsError, TrainParams, load_section

from .conftest import (
    REPO_ROOT,
    WORKSHOP,
    assert_one_line_error,
    copy_repo,
    download,
    emulator_ready,
    free_port,
    git,
    global_git_identity,
    preprocess,
    run,
    run_stage,
    write_params,
)

PARAMS = (REPO_ROOT / "params.yaml").read_text()


def edited(old: str, new: str) -> str:
    assert old in PARAMS, old
    return PARAMS.replace(old, new)


# train.filters as params.yaml writes it, one entry a line (as DVC writes it back): a test puts
# its own value in its place, `filters: [...]` on one line.
FILTERS = re.search(r"^  filters:.*\n(?:  - .*\n)+", PARAMS, re.MULTILINE).group()


def with_filters(value: str, text: str = PARAMS) -> str:
    assert FILTERS in text
    return text.replace(FILTERS, f"  filters: {value}\n")


def train(tmp_path: Path, params: Path, data_dir: str = "prep") -> subprocess.CompletedProcess[str]:
    return run_stage(
        "train", "--data-dir", data_dir, "--model", "m.keras", "--live-dir", "live", "--params", str(params),
        cwd=tmp_path,
    )  # fmt: skip


def tiny_split(folder: Path, name: str, count: int, size: int = 26) -> None:
    folder.mkdir(exist_ok=True)
    images = np.zeros((count, size, size), dtype=np.float32)
    save_npz(folder / name, images=images, labels=np.arange(count) % 10)


# A params.yaml edited by hand (`sed`), then the train stage: each refused before TensorFlow loads.
TRAIN_PARAMS = {
    "filters of 100000 maps": (with_filters("[100000]"),
                               "train.filters.0: must be at most 512, got 100000"),
    "five blocks": (with_filters("[8, 8, 8, 8, 8]"),
                    "train.filters: must have at most 4 entries"),
    "a seed past 32 bits": ("99999999999999999999".join(PARAMS.rsplit("42", 1)),  # train's, the last
                            "train.seed: must be at most 4294967295, got 99999999999999999999"),
    "infinite learning rate": (edited("learning_rate: 0.005", "learning_rate: .inf"),
                               "train.learning_rate: must be a finite number, got inf"),
    "learning rate not a number": (edited("learning_rate: 0.005", "learning_rate: .nan"),
                                   "train.learning_rate: must be a finite number"),
    "learning rate above 1": (edited("learning_rate: 0.005", "learning_rate: 50"),
                              "train.learning_rate: must be at most 1"),
    "validation takes all": (edited("validation_fraction: 0.1", "validation_fraction: 0.9999"),
                             "train.validation_fraction: must be at most 0.5, got 0.9999"),
    "a billion dense units": (edited("dense_units: 256", "dense_units: 1000000000"),
                              "train.dense_units: must be at most 4096, got 1000000000"),
    "a thousand epochs": (edited("epochs: 8", "epochs: 1000"), "train.epochs: must be at most 100, got 1000"),
    "batch of 100000": (edited("batch_size: 256", "batch_size: 100000"),
                        "train.batch_size: must be at most 4096"),
    "a key given twice": (edited("  epochs: 8", "  epochs: 8\n  epochs: 3"),
                          'found duplicate key "epochs" with value "3" (original value: "8") (line 2'),
    "not a mapping": ("- train\n- epochs\n", "is not a mapping of sections"),
}  # fmt: skip


@pytest.mark.parametrize("case", TRAIN_PARAMS)
def test_train_parameters_that_would_crash_or_run_away(tmp_path: Path, case: str) -> None:
    text, message = TRAIN_PARAMS[case]
    (tmp_path / "params.yaml").write_text(text)
    tiny_split(tmp_path / "prep", "train.npz", 20)
    result = train(tmp_path, tmp_path / "params.yaml")
    assert_one_line_error(result, message)
    assert not (tmp_path / "m.keras").exists() and not (tmp_path / "live").exists()


def test_an_alias_bomb_is_named_in_a_short_line(tmp_path: Path) -> None:
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    bomb += "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    (tmp_path / "params.yaml").write_text(bomb + with_filters("[*c, *c, *c]"))
    tiny_split(tmp_path / "prep", "train.npz", 20)
    result = train(tmp_path, tmp_path / "params.yaml")
    assert_one_line_error(result, "train.filters.0: expected an integer, got [[[1, 1")
    assert len(result.stderr) < 200


def test_a_params_file_not_in_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_bytes(PARAMS.replace("# Every", "# \xc9very").encode("latin-1"))
    tiny_split(tmp_path / "prep", "train.npz", 20)
    assert_one_line_error(train(tmp_path, tmp_path / "params.yaml"), "params.yaml is not UTF-8 text (byte 2)")


def test_yaml_12_numbers_as_typed_and_as_dvc_exp_run_sets_them(tmp_path: Path) -> None:
    """PyYAML reads `1e-3` as a string; DVC and this loader read YAML 1.2: a number either way."""
    (tmp_path / "typed.yaml").write_text(edited("learning_rate: 0.005", "learning_rate: 1e-3"))
    assert load_section(tmp_path / "typed.yaml", "train", TrainParams).learning_rate == 0.001
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "params.yaml").write_text(PARAMS)
    from dvc.utils.serialize import modify_yaml  # what `dvc exp run -S` writes with

    with modify_yaml(repo / "params.yaml") as document:
        document["train"]["learning_rate"] = 1e-3
    assert load_section(repo / "params.yaml", "train", TrainParams).learning_rate == 0.001


@pytest.mark.parametrize(
    ("crop", "filters", "message"),
    [
        (9, "[16, 64]", "preprocess.crop_size: 9 is too small for 2 convolution blocks "
                        "(train.filters: [16, 64]); use at least 10"),
        (26, "[8, 8, 8, 8]", "preprocess.crop_size: 26 is too small for 4 convolution blocks"),
    ],
)  # fmt: skip
def test_preprocess_checks_the_crop_against_the_networks_blocks(
    tmp_path: Path, idx_folder: Path, crop: int, filters: str, message: str
) -> None:
    assert download(tmp_path, str(idx_folder)).returncode == 0
    text = with_filters(filters, edited("crop_size: 26", f"crop_size: {crop}"))
    (tmp_path / "params.yaml").write_text(text.replace("sources/mnist-sample.yaml", str(idx_folder)))
    assert_one_line_error(preprocess(tmp_path, tmp_path / "params.yaml"), message)
    assert not (tmp_path / "prep").exists()


def test_train_checks_the_images_against_the_networks_blocks(tmp_path: Path) -> None:
    tiny_split(tmp_path / "prep", "train.npz", 20, size=9)  # preprocessed with an older crop_size
    assert_one_line_error(train(tmp_path, write_params(tmp_path)), "9 is too small for 2 convolution blocks")


@pytest.mark.parametrize(("stage", "split"), [("train", "train.npz"), ("evaluate", "test.npz")])
def test_an_empty_split_is_refused(tmp_path: Path, stage: str, split: str) -> None:
    tiny_split(tmp_path / "prep", split, 0)
    if stage == "train":
        result = train(tmp_path, write_params(tmp_path))
    else:
        (tmp_path / "m.keras").write_bytes(b"never read")
        result = evaluate(tmp_path)
    assert_one_line_error(result, f"prep/{split}: no images (rerun the preprocess stage)")


def evaluate(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_stage(
        "evaluate", "--model", "m.keras", "--data-dir", "prep", "--metrics", "m.json", "--predictions",
        "p.csv", "--per-class", "c.csv", "--mistakes", "x.png", cwd=tmp_path,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (b"not a zip", "m.keras: not a model saved by the train stage"),
        ("malformed config", "m.keras: not a model saved by the train stage (Expecting ':' delimiter"),
    ],
)
def test_a_damaged_model_file_is_one_line(tmp_path: Path, model: bytes | str, message: str) -> None:
    tiny_split(tmp_path / "prep", "test.npz", 5)
    if model == "malformed config":
        with zipfile.ZipFile(tmp_path / "m.keras", "w") as archive:
            archive.writestr("config.json", '{"class_name": "Sequential", "config": {"layers": [{"oops"')
            archive.writestr("metadata.json", '{"keras_version": "3.12.4"}')
            archive.writestr("model.weights.h5", b"")
    else:
        (tmp_path / "m.keras").write_bytes(model)
    assert_one_line_error(evaluate(tmp_path), message)
    assert not list(tmp_path.glob("*.json")) and not list(tmp_path.glob("*.csv"))


def labels_case(out: Path, change) -> None:
    lines = (out / "labels.csv").read_text().splitlines()
    (out / "labels.csv").write_text("\n".join(change(lines)) + "\n")


LABELS_CORPUS = {
    "no test rows": (lambda ls: [line for line in ls if not line.endswith(",test")], "no test images listed"),
    "no train rows": (lambda ls: [line for line in ls if not line.endswith(",train")],
                      "no train images listed"),
    "an extra value": (lambda ls: [ls[0], ls[1] + ",7", *ls[2:]], "line 2: expected 4 values"),
    "a value missing": (lambda ls: [ls[0], ls[1].rsplit(",", 1)[0], *ls[2:]], "line 2: expected 4 values"),
    "a row twice": (lambda ls: [*ls[:3], ls[2], *ls[3:]],
                    "line 4: train-00.zip:train/00001.png already listed on line 3"),
    "one image, two labels": (lambda ls: [*ls, ls[1].replace(",0,train", ",5,train")],
                              "train-00.zip:train/00000.png already listed on line 2 with another label (0)"),
}  # fmt: skip


@pytest.mark.parametrize("case", LABELS_CORPUS)
def test_a_labels_table_that_lies(tmp_path: Path, idx_folder: Path, case: str) -> None:
    assert download(tmp_path, str(idx_folder)).returncode == 0
    change, message = LABELS_CORPUS[case]
    labels_case(tmp_path / "out", change)
    assert_one_line_error(preprocess(tmp_path, write_params(tmp_path)), message)
    assert not (tmp_path / "prep").exists()


def test_a_labels_table_not_in_utf8(tmp_path: Path, idx_folder: Path) -> None:
    assert download(tmp_path, str(idx_folder)).returncode == 0
    (tmp_path / "out/labels.csv").write_bytes(b"shard,image,label,split\n\xff\xfe,x,1,train\n")
    assert_one_line_error(preprocess(tmp_path, write_params(tmp_path)), "out/labels.csv: not a labels table")


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (png_declaring(100_000, 100_000), "train-00.zip:train/00000.png: unreadable image"),
        (png_declaring(28, 100_000), "expected a 28x28 greyscale (L) PNG, got 28x100000 L"),
        ("10 MB of zeros", "train-00.zip:train/00000.png: 10000000 bytes, too large for a digit"),
    ],
    ids=["declares 100000x100000", "declares 28x100000", "a deflated 10 MB member"],
)
def test_crafted_shard_members_are_refused_before_decoding(
    tmp_path: Path, idx_folder: Path, member: bytes | str, message: str
) -> None:
    assert download(tmp_path, str(idx_folder)).returncode == 0
    shard = tmp_path / "out/Images/train-00.zip"
    with zipfile.ZipFile(shard) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(shard, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            if name == "train/00000.png":
                data = bytes(10_000_000) if member == "10 MB of zeros" else member
            archive.writestr(name, data)
    assert shard.stat().st_size < 100_000  # small on disk: a bomb is in what it claims
    assert_one_line_error(preprocess(tmp_path, write_params(tmp_path)), message)


def test_a_full_disk_is_one_line_naming_the_path(tmp_path: Path, idx_folder: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(full)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        params = write_params(tmp_path, download_mnist={"source": str(idx_folder)})
        result = run_stage(
            "download_mnist", "--images-dir", str(full / "Images"), "--labels", str(full / "labels.csv"),
            "--params", str(params), cwd=tmp_path,
        )  # fmt: skip
        assert_one_line_error(result, "No space left on device", str(full))
        assert not any(full.iterdir())  # the scratch copies went too
    finally:
        subprocess.run(["umount", str(full)], check=True)


def test_an_output_under_a_file_is_one_line(tmp_path: Path, idx_folder: Path) -> None:
    (tmp_path / "out").write_text("a file, not a folder")
    result = download(tmp_path, str(idx_folder))
    assert_one_line_error(result, "out is a file, so out/Images cannot be written")
    assert (tmp_path / "out").read_text() == "a file, not a folder"


def test_params_problems_are_params_errors(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match=r"params.yaml is not valid YAML: .* \(line 2\)"):
        load_section(tmp_path / "params.yaml", "train", TrainParams)


# The emulator: a taken port, a closed terminal, a killed process.


def emulator_command(port: int, data: Path) -> list[str]:
    return [sys.executable, "-m", "dvc_workshop.emulator", "--port", str(port), "--data-dir", str(data)]


def settings_of(repo: Path) -> dict[str, str | None]:
    files = (repo / ".env", repo / ".dvc/config.local")
    return {path.name: path.read_text() if path.exists() else None for path in files}


@pytest.mark.slow
@pytest.mark.parametrize("holder", ["a plain socket", "another fake-gcs-server"])
def test_the_emulator_on_a_taken_port_exits_and_leaves_the_settings(tmp_path: Path, holder: str) -> None:
    repo = copy_repo(tmp_path / "repo")
    (repo / ".env").write_text("MY_SETTING=1\n")
    (repo / ".dvc/config.local").write_text("[core]\n    autostage = true\n")
    before, port = settings_of(repo), free_port()
    other = Emulator(tmp_path / "other", port)
    with socket.socket() as held:
        if holder == "a plain socket":
            held.bind(("127.0.0.1", port))
            held.listen()
        else:
            other.start()
        try:
            result = subprocess.run(emulator_command(port, tmp_path / "data"), cwd=repo, capture_output=True,
                                    text=True, timeout=60)  # fmt: skip
        finally:
            other.stop()
    assert_one_line_error(result, f"port {port} is taken")
    assert "GCS emulator on" not in result.stdout and settings_of(repo) == before


def start_emulator(repo: Path, port: int, data: Path) -> subprocess.Popen[str]:
    server = subprocess.Popen(emulator_command(port, data), cwd=repo, stdout=subprocess.PIPE, text=True)
    assert f"GCS emulator on http://127.0.0.1:{port}" in emulator_ready(server)
    return server


def fake_gcs_servers(emulator: subprocess.Popen[str]) -> list[psutil.Process]:
    return [child for child in psutil.Process(emulator.pid).children() if "fake-gcs" in child.name()]


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_the_emulator_stops_whole_on_every_stop_signal(tmp_path: Path, stop_signal: signal.Signals) -> None:
    """Its server goes with it; its settings stay, pointing at it (what runs there then says it does not
    answer, rather than going to Google's servers)."""
    repo = copy_repo(tmp_path / "repo")
    port = free_port()
    server = start_emulator(repo, port, tmp_path / "data")
    (child,) = fake_gcs_servers(server)
    running = settings_of(repo)
    assert "endpointurl" in running["config.local"]
    server.send_signal(stop_signal)  # SIGHUP: the terminal it ran in was closed
    assert server.wait(timeout=30) == 0
    assert settings_of(repo) == running
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
def test_a_killed_emulator_takes_its_server_along_and_the_next_start_takes_over(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    first = start_emulator(repo, free_port(), tmp_path / "data")
    (child,) = fake_gcs_servers(first)
    first.kill()  # kill -9: no clean-up runs
    first.wait()
    psutil.wait_procs([child], timeout=10)
    assert not child.is_running()
    port = free_port()
    second = start_emulator(repo, port, tmp_path / "data")
    try:
        assert f"endpointurl = http://127.0.0.1:{port}" in (repo / ".dvc/config.local").read_text()
        assert f"STORAGE_EMULATOR_HOST=http://127.0.0.1:{port}" in (repo / ".env").read_text()
    finally:
        second.send_signal(signal.SIGINT)
        assert second.wait(timeout=30) == 0
    assert f"STORAGE_EMULATOR_HOST=http://127.0.0.1:{port}" in settings_of(repo)[".env"]  # left, as it was


# `workshop start`: committed files only, a folder that can hold a lab.


def start_lab(reference: Path, folder: str, home: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dvc_workshop.lab", "start", folder]  # the copy's own tool
    return run(command, cwd=reference, check=False, **global_git_identity(home))


@pytest.mark.slow
def test_start_copies_committed_files_only(tmp_path: Path) -> None:
    reference = copy_repo(tmp_path / "reference")
    (reference / "params.yaml").write_text(edited("epochs: 8", "epochs: 99"))  # left uncommitted
    (reference / "notes.txt").write_text("not committed")
    result = start_lab(reference, str(tmp_path / "lab"), tmp_path)
    assert result.returncode == 0 and "its uncommitted changes were not copied" in result.stdout
    assert (tmp_path / "lab/params.yaml").read_text() == PARAMS
    assert not (tmp_path / "lab/notes.txt").exists()


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("inside/lab", "is inside the workshop's repository: make the lab beside it"),
        ("/", "/ cannot hold a lab"),
    ],
)
def test_start_refuses_a_folder_that_cannot_hold_a_lab(tmp_path: Path, folder: str, message: str) -> None:
    reference = copy_repo(tmp_path / "reference")
    result = start_lab(reference, folder, tmp_path)
    assert_one_line_error(result, message, status=2)
    assert not (reference / "inside").exists() and "??" not in git(reference, "status", "--porcelain")


def test_check_without_emulator_or_credentials_never_probes_a_cloud_metadata_server(tmp_path: Path) -> None:
    """google-auth looks for a cloud VM's metadata server (169.254.169.254) when it finds no
    credentials: pointed at a listener here, it must not be asked."""
    lab = tmp_path / "lab"
    assert start_lab(REPO_ROOT, str(lab), tmp_path).returncode == 0
    with socket.socket() as metadata:
        metadata.bind(("127.0.0.1", 0))
        metadata.listen()
        metadata.settimeout(0.5)
        address = f"127.0.0.1:{metadata.getsockname()[1]}"
        env = {**os.environ, **global_git_identity(tmp_path), "HOME": str(tmp_path)}  # no gcloud login
        env = {**env, "GCE_METADATA_HOST": address, "GCE_METADATA_IP": address}
        for name in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS", "NO_GCE_CHECK"):
            env.pop(name, None)
        command = [*WORKSHOP, "check"]
        result = subprocess.run(command, cwd=lab, env=env, capture_output=True, text=True, timeout=60)
        with pytest.raises(TimeoutError):
            metadata.accept()  # nobody came
    assert "no emulator and no GCS credentials" in result.stdout, result.stdout + result.stderr
