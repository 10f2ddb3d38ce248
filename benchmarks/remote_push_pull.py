"""Benchmark: `dvc push` and `dvc pull` of the whole default pipeline against the GCS emulator.

Run: pipenv run python benchmarks/remote_push_pull.py [--hns-probe]

`--hns-probe` measures the setting the emulator turns off: gcsfs's bucket-type probe over
TLS gRPC (GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT), which an emulator never answers.

In a temporary clone it runs `dvc repro` on the offline default, starts fake-gcs-server on
127.0.0.1, then times `dvc push` into the empty cache bucket and `dvc pull` (split into
`dvc fetch` and `dvc checkout`) into an empty cache with the outputs deleted. The baseline, in
the same run, is gcsfs alone downloading the same objects, which is the floor DVC builds on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dvc_workshop.lab.model.emulator import CACHE_BUCKET, Emulator  # noqa: E402
from dvc_workshop.lab.model.emulator_settings import configure_project  # noqa: E402
from tests.clones import DVC_OUTPUTS, remove_local_data  # noqa: E402


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    os.environ["NO_GCE_CHECK"] = "true"
    work = Path(tempfile.mkdtemp(prefix="dvc-workshop-bench-"))
    repo = work / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(repo)], check=True)
    dvc = [sys.executable, "-m", "dvc"]
    print("dvc repro (default sample) ...", flush=True)
    timed([*dvc, "repro"], repo)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emulator = Emulator(work / "buckets", port)
    emulator.start()
    try:
        emulator.create_buckets()
        configure_project(repo, emulator.environment())
        os.environ.update(emulator.environment())
        if "--hns-probe" in sys.argv:
            os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "true"
        files = sum(1 for top in DVC_OUTPUTS for p in [repo / top, *(repo / top).rglob("*")] if p.is_file())
        push = timed([*dvc, "push"], repo)
        remove_local_data(repo)
        fetch = timed([*dvc, "fetch"], repo)
        checkout = timed([*dvc, "checkout"], repo)

        fs = emulator.filesystem()
        objects = fs.find(f"{CACHE_BUCKET}/mnist")
        start = time.perf_counter()
        fs.get(objects, str(work / "gcsfs-baseline") + "/")
        gcsfs_get = time.perf_counter() - start
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)

    pull = fetch + checkout
    print(f"\n{files} output files, {len(objects)} objects in the cache bucket")
    print(f"{'dvc push':<28}{push:7.1f} s")
    print(f"{'dvc pull (fetch + checkout)':<28}{pull:7.1f} s  = {fetch:.1f} + {checkout:.1f}")
    print(f"{'push + pull':<28}{push + pull:7.1f} s  (target: under 30 s)")
    ratio = fetch / gcsfs_get
    print(f"{'gcsfs alone, same objects':<28}{gcsfs_get:7.1f} s  (dvc fetch takes {ratio:.1f}x as long)")


if __name__ == "__main__":
    main()
