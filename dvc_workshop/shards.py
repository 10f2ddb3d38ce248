"""The downloaded images as shards: zip archives of 5,000 PNGs each, written and read in parallel.

DVC handles each file of a tracked folder one by one (hash, state lookup, cache copy,
upload), which costs tens of seconds on every `dvc repro`, `dvc status` and `dvc push`
for 70,000 loose PNGs. Packed 5,000 to a zip (stored, not recompressed: PNG is already
deflated), the full MNIST is 14 files for DVC and still one PNG per digit for people:
any zip tool opens a shard, and unzipping all of them gives `train/00000.png`, ...
Shards are also the unit of work for the processes that write and read them.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from dvc_workshop.arrays import zip_entry
from dvc_workshop.cli import WorkshopError
from dvc_workshop.png import PngError, decode_png, encode_png

IMAGES_PER_SHARD = 5000
# A worker process costs about 0.5 s to start (its imports), the work about 60 us an image:
# below ~10,000 images per process, one process alone is faster (the 5,000-image sample is).
MIN_IMAGES_PER_PROCESS = 10_000
LABELS_COLUMNS = ["shard", "image", "label", "split"]  # labels.csv: where each image is, its digit
Task = TypeVar("Task")
Result = TypeVar("Result")


def shard_name(split: str, index: int) -> str:
    """The shard holding image `index` of `split`, e.g. `train-03.zip`."""
    return f"{split}-{index // IMAGES_PER_SHARD:02d}.zip"


def member_name(split: str, index: int) -> str:
    """The PNG's name inside its shard, e.g. `train/00042.png`."""
    return f"{split}/{index:05d}.png"


def write_shard(path: Path, names: list[str], images: np.ndarray) -> int:
    """Write one shard: each image as a PNG member, fixed timestamps, stable bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, image in zip(names, images, strict=True):
            archive.writestr(zip_entry(name), encode_png(image))
    return len(names)


def read_shard(path: Path, names: list[str], size: int) -> np.ndarray:
    """The named PNGs of one shard as a (len(names), size, size) uint8 array."""
    try:
        data = path.read_bytes()
        archive = zipfile.ZipFile(io.BytesIO(data))
    except FileNotFoundError:
        raise WorkshopError(f"missing shard listed in the labels table: {path}") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkshopError(f"{path}: not a zip archive of PNGs ({error})") from None
    members = {info.filename: info for info in archive.infolist()}
    images = np.empty((len(names), size, size), dtype=np.uint8)
    for index, name in enumerate(names):
        try:
            images[index] = decode_png(_member_bytes(archive, data, members[name]), size)
        except KeyError:
            raise WorkshopError(f"{path}: no {name} in the shard (listed in the labels table)") from None
        except PngError as error:
            raise WorkshopError(f"{path}:{name}: {error}") from None
        except (zipfile.BadZipFile, OSError) as error:
            raise WorkshopError(f"{path}:{name}: unreadable member ({error})") from None
    return images


def _member_bytes(archive: zipfile.ZipFile, data: bytes, info: zipfile.ZipInfo) -> bytes:
    """One member of the zip archive whose bytes are `data`.

    Kept by measurement: `ZipFile.read` opens a stream per member (16 against 4.8 us each,
    benchmarks/library_choices.py); in the preprocess stage on the full MNIST it cost 1.1 s of
    the 8 s budget (4.7-4.8 s against 5.4-5.9 s, three runs each, same data). A member stored uncompressed (as
    write_shard stores them) is a slice of the archive, checked against the CRC in the zip's
    directory; any other member is read by zipfile.
    """
    header = info.header_offset
    if info.compress_type != zipfile.ZIP_STORED or data[header : header + 4] != b"PK\x03\x04":
        return archive.read(info)
    name_length, extra_length = struct.unpack_from("<HH", data, header + 26)
    start = header + 30 + name_length + extra_length
    member = data[start : start + info.compress_size]
    if zlib.crc32(member) != info.CRC:
        raise zipfile.BadZipFile(f"bad CRC-32 for {info.filename}")
    return member


def usable_cpus() -> int:
    """The CPU cores this process may run on (`taskset`, container limits), not the host's count."""
    if hasattr(os, "sched_getaffinity"):  # Linux; macOS and Windows have no affinity masks
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parallel_map(
    function: Callable[..., Result], tasks: Iterable[tuple], sizes: list[int], description: str
) -> list[Result]:
    """`function(*task)` for each task, in order, on up to one process per usable CPU core
    and per MIN_IMAGES_PER_PROCESS images.

    Each task is a whole shard, so the processes share no state and the results do not
    depend on their number; one task (the sample's test split, say) runs in this process.
    Not tqdm's `process_map`: it counts tasks, not images, and cannot choose the start method.
    """
    tasks = list(tasks)
    workers = max(1, min(len(tasks), usable_cpus(), sum(sizes) // MIN_IMAGES_PER_PROCESS))
    with tqdm(total=sum(sizes), desc=description, unit="img", disable=None) as progress:
        if workers <= 1:
            results = []
            for task, size in zip(tasks, sizes, strict=True):
                results.append(function(*task))
                progress.update(size)
            return results
        # "spawn", the default on macOS and Windows, everywhere: a forked worker can inherit a
        # lock held by another thread (Python 3.12+ warns), and Python 3.14 changes Linux's default.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            futures = [pool.submit(function, *task) for task in tasks]
            try:
                for future, size in zip(futures, sizes, strict=True):
                    future.result()  # raises the task's error here, in order
                    progress.update(size)
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the first error is enough: drop the rest
                raise
            return [future.result() for future in futures]
