"""The bad-input corpus: every broken input ends in one line naming it, and leaves nothing behind.

Each case is generated here from a good input, then run through the stage's real CLI.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from .conftest import assert_one_line_error, download, preprocess, write_params

IMAGES, LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"


def rewrite(folder: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    """Replace an IDX file's decompressed bytes by `change(bytes)`, gzipped again."""
    path = folder / name
    path.write_bytes(gzip.compress(change(gzip.decompress(path.read_bytes()))))


IDX_CORPUS = {
    "wrong magic": (lambda f: rewrite(f, IMAGES, lambda d: b"\0\0\x08\x01" + d[4:]),
                    f"{IMAGES}: wrong magic number 0x00000801"),
    "truncated pixels": (lambda f: rewrite(f, IMAGES, lambda d: d[:-500]), f"{IMAGES}: truncated"),
    "header promises more": (lambda f: rewrite(f, IMAGES, lambda d: d[:4] + struct.pack(">I", 31) + d[8:]),
                             f"{IMAGES}: truncated: header promises shape (31, 28, 28)"),
    "counts disagree": (lambda f: rewrite(f, LABELS, lambda d: d[:4] + struct.pack(">I", 29) + d[8:-1]),
                        "30 images but 29 labels"),
    "label out of range": (lambda f: rewrite(f, LABELS, lambda d: d[:-1] + b"\x0c"),
                           "label 12 is not a digit"),
    "gzip cut short": (lambda f: (f / LABELS).write_bytes((f / LABELS).read_bytes()[:30]),
                       f"{LABELS}: not a complete gzip file"),
    "empty file": (lambda f: (f / IMAGES).write_bytes(b""), f"{IMAGES}: too short for an IDX header"),
    "missing file": (lambda f: (f / LABELS).unlink(), f"idx/{LABELS} (the source needs all four"),
}  # fmt: skip


@pytest.mark.parametrize("case", IDX_CORPUS)
def test_broken_idx_source(tmp_path: Path, idx_folder: Path, case: str) -> None:
    breakage, message = IDX_CORPUS[case]
    breakage(idx_folder)
    result = download(tmp_path, str(idx_folder))
    assert_one_line_error(result, message)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def replace_member(shard: Path, name: str, data: bytes | None) -> None:
    """Rewrite a zip shard with one member's bytes replaced (or the member left out)."""
    with zipfile.ZipFile(shard) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members.pop(name) if data is None else members.__setitem__(name, data)
    with zipfile.ZipFile(shard, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def png_bytes(mode: str, size: tuple[int, int]) -> bytes:
    stream = io.BytesIO()
    Image.new(mode, size).save(stream, format="PNG")
    return stream.getvalue()


def break_png_size(out: Path) -> str:
    replace_member(out / "Images/train-00.zip", "train/00002.png", png_bytes("L", (27, 28)))
    return "train-00.zip:train/00002.png: expected a 28x28 greyscale (L) PNG, got 27x28 L"


def break_png_mode(out: Path) -> str:
    replace_member(out / "Images/test-00.zip", "test/00001.png", png_bytes("RGB", (28, 28)))
    return "test-00.zip:test/00001.png: expected a 28x28 greyscale (L) PNG, got 28x28 RGB"


def break_png_missing(out: Path) -> str:
    replace_member(out / "Images/test-00.zip", "test/00004.png", None)
    return "out/Images/test-00.zip: no test/00004.png in the shard (listed in the labels table)"


def break_png_garbage(out: Path) -> str:
    replace_member(out / "Images/train-00.zip", "train/00000.png", b"not a png")
    return "train-00.zip:train/00000.png: unreadable image"


def break_png_bit_flip(out: Path) -> str:
    """One flipped bit inside a PNG's compressed pixels: the checksum catches it."""
    with zipfile.ZipFile(out / "Images/train-00.zip") as archive:
        data = bytearray(archive.read("train/00003.png"))
    data[60] ^= 0x10
    replace_member(out / "Images/train-00.zip", "train/00003.png", bytes(data))
    return "train-00.zip:train/00003.png: unreadable image"


def break_shard_missing(out: Path) -> str:
    (out / "Images/test-00.zip").unlink()
    return "missing shard listed in the labels table: out/Images/test-00.zip"


def break_shard_garbage(out: Path) -> str:
    (out / "Images/train-00.zip").write_bytes(b"not a zip")
    return "out/Images/train-00.zip: not a zip archive of PNGs"


def break_labels_column(out: Path) -> str:
    (out / "labels.csv").write_text("image,label,split\n")
    return "labels.csv: expected the columns shard,image,label,split"


def break_labels_value(out: Path) -> str:
    table = (out / "labels.csv").read_text().replace("train/00003.png,3,train", "train/00003.png,x,train", 1)
    (out / "labels.csv").write_text(table)
    return "labels.csv, line 5: bad split or label"


@pytest.mark.parametrize(
    "breakage",
    [
        break_png_size,
        break_png_mode,
        break_png_missing,
        break_png_garbage,
        break_png_bit_flip,
        break_shard_missing,
        break_shard_garbage,
        break_labels_column,
        break_labels_value,
    ],
)
def test_broken_download_output(tmp_path: Path, idx_folder: Path, breakage) -> None:
    assert download(tmp_path, str(idx_folder)).returncode == 0
    message = breakage(tmp_path / "out")
    assert_one_line_error(preprocess(tmp_path, write_params(tmp_path)), message)
    assert not (tmp_path / "prep").exists() and not (tmp_path / "prep.png").exists()


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("train", {"epochs": "ten"}, "invalid parameter train.epochs: expected an integer, got 'ten'"),
        ("train", {"batch_size": 0}, "invalid parameter train.batch_size: must be at least 1, got 0"),
        (
            "preprocess",
            {"max_rotation": 400.0},
            "invalid parameter preprocess.max_rotation: must be at most 180.0, got 400.0",
        ),
        ("preprocess", {"crop_size": 28.5}, "invalid parameter preprocess.crop_size: expected an integer"),
    ],
)
def test_bad_params_stop_train_and_preprocess_at_once(tmp_path: Path, section, values, message) -> None:
    from .conftest import run_stage

    params = str(write_params(tmp_path, **{section: values}))
    if section == "train":
        result = run_stage(
            "train", "--data-dir", "nowhere", "--model", "m.keras", "--params", params, cwd=tmp_path
        )
    else:
        result = preprocess(tmp_path, Path(params))
    assert_one_line_error(result, message)
    assert not any(p.suffix in {".keras", ".npz", ".png"} for p in tmp_path.rglob("*"))
