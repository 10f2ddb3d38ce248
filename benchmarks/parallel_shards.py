"""Benchmark: do the shard workers (dvc_workshop/data/parallel.py) still pay on the full MNIST?

Run: pipenv run python benchmarks/parallel_shards.py [--source DIR]

Writes the full MNIST's 70,000 digits as PNG shards and reads them back, as download_mnist and
preprocess do, once with one process per usable core and once in this process alone (the
workers' threshold raised out of reach), alternating, best of two each. Figures and their
verdict go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dvc_workshop.data import parallel  # noqa: E402
from dvc_workshop.data.shards import read_images, write_images  # noqa: E402
from dvc_workshop.data.sources import load_idx  # noqa: E402


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO_ROOT.parent / "shared/data/mnist")
    splits = load_idx(str(parser.parse_args().source.resolve()))
    threshold = parallel.MIN_IMAGES_PER_PROCESS
    times: dict[str, dict[str, list[float]]] = {"workers": {}, "one process": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(4):
            mode = "workers" if attempt % 2 == 0 else "one process"
            parallel.MIN_IMAGES_PER_PROCESS = threshold if mode == "workers" else 10**9
            folder = Path(scratch) / str(attempt)
            folder.mkdir()
            write = timed(write_images, splits, folder, folder / "labels.csv")
            read = timed(read_images, folder, folder / "labels.csv")
            times[mode].setdefault("write", []).append(write)
            times[mode].setdefault("read", []).append(read)
    print(f"70,000 digits, {parallel.usable_cpus()} usable cores, best of two:")
    for step in ("write", "read"):
        workers, alone = min(times["workers"][step]), min(times["one process"][step])
        print(f"  {step} shards: workers {workers:.1f} s, one process {alone:.1f} s ({alone / workers:.1f}x)")


if __name__ == "__main__":
    main()
