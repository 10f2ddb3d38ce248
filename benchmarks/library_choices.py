"""Benchmark: each hand-written part of the data stages beside the library that could replace it.

Run: pipenv run python benchmarks/library_choices.py [--source DIR] [--images N]

On N real MNIST digits (the full MNIST's training images where ../shared/data/mnist exists,
else the shipped sample), in this one process, one core, best of three:
- PNG encoding: dvc_workshop.png.encode_png vs Pillow's `Image.save`;
- PNG decoding: dvc_workshop.png.decode_png vs Pillow's `Image.open` + numpy;
- reading shard members: zipfile's `ZipFile.read` (what shards.read_shard uses);
- rotation: dvc_workshop.transforms.rotate (numpy, whole batches) vs scipy.ndimage's
  `map_coordinates` on the whole batch vs scikit-image's `rotate` per image;
- Keras's import (a fresh process each, median of three) with and without hiding
  scikit-learn, pandas and matplotlib from it, as dvc_workshop/model.py does;
- evaluate's prediction of 10,000 test images by the workshop's network (params.yaml), import
  included (a fresh process each, median of three): dvc_workshop.inference.predict (numpy) vs
  Keras' `load_model` + `predict`.
Per image, and scaled to the full MNIST's 70,000 images (60,000 rotated) on the two processes
the stages use, which is what a user waits for beside the stage targets (download_mnist <= 10 s,
preprocess <= 8 s).
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dvc_workshop.mnist import load_idx, load_sample  # noqa: E402
from dvc_workshop.png import decode_png, encode_png  # noqa: E402
from dvc_workshop.shards import write_shard  # noqa: E402
from dvc_workshop.transforms import random_angles, rotate  # noqa: E402

FULL_IMAGES, FULL_ROTATED, PROCESSES = 70_000, 60_000, 2


def best_of_three(work: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def pillow_encode(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def scipy_rotate(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """The whole batch in one `map_coordinates` call: per-image coordinates, bilinear, fill 0."""
    from scipy import ndimage

    count, height, width = images.shape
    theta = np.deg2rad(angles)[:, None, None]
    rows, cols = np.mgrid[0:height, 0:width]
    dy, dx = rows - (height - 1) / 2, cols - (width - 1) / 2
    src_x = np.cos(theta) * dx - np.sin(theta) * dy + (width - 1) / 2
    src_y = np.sin(theta) * dx + np.cos(theta) * dy + (height - 1) / 2
    index = np.broadcast_to(np.arange(count)[:, None, None], src_x.shape)
    coordinates = np.stack([index, src_y, src_x])
    return ndimage.map_coordinates(
        images.astype(np.float32), coordinates, order=1, mode="grid-constant", cval=0.0
    )


def skimage_rotate(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
    from skimage.transform import rotate as rotate_one

    return np.stack(
        [
            rotate_one(image, angle, order=1, mode="constant", preserve_range=True)
            for image, angle in zip(images, angles, strict=True)
        ]
    ).astype(np.float32)


def fresh_process_seconds(code: str) -> float:
    """Median of three fresh processes' timings of `code`, which prints its own seconds last."""
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=REPO_ROOT).stdout.split()[-1])
        for _ in range(3)
    ]  # fmt: skip
    return statistics.median(runs)


def keras_import_seconds(hidden: bool) -> float:
    hide = "import sys; sys.modules.update(dict.fromkeys(['sklearn', 'pandas', 'matplotlib']))\n"
    code = (
        hide if hidden else ""
    ) + "import time; t = time.perf_counter(); import keras; print(time.perf_counter() - t)"
    return fresh_process_seconds(code)


def prediction_seconds(folder: Path) -> tuple[float, float]:
    """Seconds to predict 10,000 test images (import included): numpy pass, then Keras."""
    model, images = folder / "model.keras", folder / "images.npy"
    np.save(images, np.random.default_rng(0).normal(size=(10_000, 26, 26)).astype(np.float32))
    build = (
        "from pathlib import Path; from dvc_workshop.params import TrainParams, load_section; "
        "from dvc_workshop.model import build_model, save_model; "
        "params = load_section(Path('params.yaml'), 'train', TrainParams); "
        f"save_model(build_model(26, params), Path({str(model)!r}))"
    )
    subprocess.run([sys.executable, "-c", build], capture_output=True, check=True, cwd=REPO_ROOT)
    start = f"import time; t = time.perf_counter(); import numpy as np; images = np.load({str(images)!r}); "
    numpy_pass = start + (
        "from pathlib import Path; from dvc_workshop.inference import predict; "
        f"predict(Path({str(model)!r}), images)"
    )
    keras_pass = start + (
        "from dvc_workshop.model import load_model; "
        f"load_model({str(model)!r}).predict(images[..., None], batch_size=1024, verbose=0)"
    )
    end = "; print(time.perf_counter() - t)"
    return fresh_process_seconds(numpy_pass + end), fresh_process_seconds(keras_pass + end)


def report(name: str, seconds: float, count: int, full_count: int, baseline: float | None = None) -> None:
    per_image = seconds / count * 1e6
    full = seconds / count * full_count / PROCESSES
    ratio = f"   {seconds / baseline:4.1f}x the time of the first" if baseline else ""
    print(
        f"  {name:<44} {per_image:7.1f} us/image   full MNIST on {PROCESSES} processes: {full:5.1f} s{ratio}"
    )


def compare(title: str, contenders: dict[str, Callable[[], object]], count: int, full_count: int) -> None:
    """Time each way of doing the same work; the first is the baseline of the ratios."""
    print(title)
    baseline = None
    for name, work in contenders.items():
        seconds = best_of_three(work)
        report(name, seconds, count, full_count, baseline)
        baseline = baseline or seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO_ROOT.parent / "shared/data/mnist")
    parser.add_argument("--images", type=int, default=10_000)
    args = parser.parse_args()
    if args.source.is_dir():
        images = load_idx(str(args.source))["train"].images[: args.images]
    else:
        images = load_sample(REPO_ROOT / "sources/mnist-sample.yaml", 0.2, 42)["train"].images[: args.images]
    count = len(images)
    print(
        f"{count} MNIST digits from {args.source if args.source.is_dir() else 'the shipped sample'}, one core"
    )

    compare(
        "PNG encoding (download_mnist)",
        {
            "dvc_workshop.png.encode_png": lambda: [encode_png(image) for image in images],
            "Pillow Image.save": lambda: [pillow_encode(image) for image in images],
        },
        count,
        FULL_IMAGES,
    )
    encoded = [encode_png(image) for image in images]
    assert all(np.array_equal(pillow_decode(png), image) for png, image in zip(encoded, images, strict=True))
    compare(
        "PNG decoding (preprocess)",
        {
            "dvc_workshop.png.decode_png": lambda: [decode_png(data, 28) for data in encoded],
            "Pillow Image.open + numpy": lambda: [pillow_decode(data) for data in encoded],
        },
        count,
        FULL_IMAGES,
    )

    print("Shard members (preprocess)")
    with tempfile.TemporaryDirectory() as folder:
        shard = Path(folder) / "shard.zip"
        names = [f"train/{index:05d}.png" for index in range(count)]
        write_shard(shard, names, images)

        def read_members() -> None:
            with zipfile.ZipFile(shard) as archive:
                for name in names:
                    archive.read(name)

        def read_slices() -> None:  # the members' bytes cut out of the file by offset, as before
            data = shard.read_bytes()
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
                    data[start : start + info.compress_size]

        slices = best_of_three(read_slices)
        report("zip headers read by offset (no CRC check)", slices, count, FULL_IMAGES)
        report("zipfile ZipFile.read", best_of_three(read_members), count, FULL_IMAGES, slices)

    print("Rotation of training images (preprocess)")
    angles = random_angles(count, 10.0, 42)
    reference = rotate(images, angles)
    assert np.abs(scipy_rotate(images[:100], angles[:100]) - reference[:100]).max() < 1e-3
    ours = best_of_three(lambda: rotate(images, angles))
    report("dvc_workshop.transforms.rotate (numpy)", ours, count, FULL_ROTATED)
    report(
        "scipy.ndimage.map_coordinates, one call",
        best_of_three(lambda: scipy_rotate(images, angles)),
        count,
        FULL_ROTATED,
        ours,
    )
    few = min(count, 2000)
    seconds = best_of_three(lambda: skimage_rotate(images[:few], angles[:few])) * count / few
    report("scikit-image rotate, per image", seconds, count, FULL_ROTATED, ours)

    print("Keras import (train, each run)")
    plain, hidden = keras_import_seconds(hidden=False), keras_import_seconds(hidden=True)
    print(f"  import keras: {plain:.2f} s; with scikit-learn, pandas, matplotlib hidden: {hidden:.2f} s "
          f"({plain - hidden:+.2f} s saved per stage run)")  # fmt: skip

    print("Prediction of 10,000 test images, import included (evaluate, each run)")
    with tempfile.TemporaryDirectory() as folder:
        ours, keras = prediction_seconds(Path(folder))
    print(f"  dvc_workshop.inference.predict (numpy): {ours:.2f} s; Keras load_model + predict: "
          f"{keras:.2f} s ({keras - ours:+.2f} s saved per evaluate run)")  # fmt: skip


if __name__ == "__main__":
    main()
