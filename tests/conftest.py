"""Shared test helpers: run stages and DVC as an attendee would, in throwaway copies of the repo."""

from __future__ import annotations

import atexit
import gzip
import hashlib
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import pytest
import yaml

from dvc_workshop.data.idx import encode_idx
from dvc_workshop.data.sources import IDX_FILES

from .clones import DVC_OUTPUTS, REPO_ROOT, copy_repo, install_this_checkout, remove_local_data

__all__ = [
    "DVC_OUTPUTS",
    "REPO_ROOT",
    "WORKSHOP",
    "copy_repo",
    "remove_local_data",
]  # used by the test modules

# Never let google-auth or gcsfs probe for a Compute Engine metadata server: tests talk to
# 127.0.0.1 only, and a missing credential must fail at once instead of after a network wait.
os.environ["NO_GCE_CHECK"] = "true"

# An empty home, as on an attendee's new laptop: no global git identity (DVC reads it through
# libgit2, which looks in $HOME), no DVC or Keras settings. What needs an identity (a commit,
# `dvc exp run`) gets it as the README tells attendees to, so a missing step fails here too.
# where this machine's own tools (pipx) live; the test workers (pytest -n) inherit the variable
LAPTOP_HOME = Path(os.environ.setdefault("DVC_WORKSHOP_LAPTOP_HOME", str(Path.home())))
os.environ["HOME"] = tempfile.mkdtemp(prefix="dvc-workshop-home-")
atexit.register(shutil.rmtree, os.environ["HOME"], ignore_errors=True)
os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
for variable in ("XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
    os.environ.pop(variable, None)

SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist"
# The lab tool as attendees run it: the environment's `workshop` command, from any folder (in a lab,
# `python -m dvc_workshop.lab` would find the lab's own dvc_workshop package, which has no lab tool).
WORKSHOP = [str(Path(sys.executable).with_name("workshop"))]


def digests(repo: Path, *tops: str) -> dict[str, str]:
    """MD5 of every file under `tops`, leaving out the scratch copies a killed stage leaves."""
    return {
        str(path.relative_to(repo)): hashlib.md5(path.read_bytes()).hexdigest()
        for top in tops
        for path in sorted([repo / top, *(repo / top).rglob("*")])
        if path.is_file() and ".tmp-" not in str(path)
    }


def run(args: list[str], cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command with the test's Python environment first on PATH (as `pipenv run` does)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(
        args, cwd=cwd, env={**os.environ, "PATH": path, **env}, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def run_stage(stage: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one stage's CLI from this checkout, in any folder."""
    module = f"dvc_workshop.pipeline.{stage}"
    return run([sys.executable, "-m", module, *args], cwd=cwd, check=False, PYTHONPATH=str(REPO_ROOT))


def dvc(*args: str, cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "dvc", *args], cwd=cwd, check=check, **env)


def write_idx_folder(folder: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    """Write the four MNIST IDX .gz files for the given (images, labels) per split."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, (images_name, labels_name) in IDX_FILES.items():
        images, labels = splits[split]
        (folder / images_name).write_bytes(gzip.compress(encode_idx(images), mtime=0))
        (folder / labels_name).write_bytes(gzip.compress(encode_idx(labels), mtime=0))
    return folder


def random_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    return images, (np.arange(count) % 10).astype(np.uint8)


@pytest.fixture
def idx_folder(tmp_path: Path) -> Path:
    """A small, valid IDX source: 30 training and 20 test images of random pixels."""
    return write_idx_folder(tmp_path / "idx", {"train": random_digits(30, 1), "test": random_digits(20, 2)})


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo).stdout


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def emulator_ready(server: subprocess.Popen[str]) -> str:
    """What `pipenv run emulator` printed up to its "GCS emulator on" line (the buckets and the
    default room it made come first), once it serves."""
    said = []
    for line in server.stdout:
        said.append(line)
        if line.startswith("GCS emulator on"):
            return "".join(said)
    raise AssertionError(f"the emulator stopped before serving:\n{''.join(said)}")


# The raw bucket of the lab the lab tests share (LabPlay) trains on every 4th of the sample's
# 4,000 training images (each digit about as often as in the sample) and keeps its 1,000 test
# images. That lab trains at steps 5, 6, 7, 9 and 11, and many of its mistakes train again: on a
# quarter of the images each training takes about a third less time (TensorFlow's start and each
# epoch's fixed costs stay). No check counts images, and the lab's files stay the reference's.
LAB_TRAIN_STRIDE = 4


@contextmanager
def sample_emulator(folder: Path, train_stride: int = 1) -> Iterator:  # Iterator[Emulator]
    """fake-gcs-server on a free loopback port with the default room's buckets, the raw bucket
    holding the MNIST sample as IDX files (what `pipenv run emulator` serves; with `train_stride`,
    every so many of its training images only); stopped after."""
    from dvc_workshop.data.digits import Digits
    from dvc_workshop.lab.model.emulator import Emulator, raw_mnist

    splits = raw_mnist(None, REPO_ROOT / "sources/mnist-sample.yaml", REPO_ROOT / "params.yaml")
    train = splits["train"]
    splits["train"] = Digits(train.images[::train_stride], train.labels[::train_stride])
    emulator = Emulator(folder / "buckets", free_port())
    emulator.start()
    try:
        emulator.create_buckets()
        emulator.upload_raw(splits)
        yield emulator
    finally:
        emulator.stop()


# The lab the lab tests break and fix: finn's (neither the README's ada nor its my-lab), made by
# `workshop start` in a folder named finn-lab and played with `workshop solution` against the
# sample emulator. Playing it trains models at every step from 5 on, so it is played once per test
# session, only as far as a test asks, and saved after each step; each test gets a copy.
LAB = "finn-lab"
LAB_FOLDERS = (LAB, f"{LAB}-origin.git", f"{LAB}-teammate", f"{LAB}-report")  # as the README names them


class LabPlay:
    """finn's lab, played step by step (once per session), and a saved copy after each step: the
    lab, its origin, the teammate's clone (from step 7), and the emulator's buckets as they were."""

    def __init__(self, root: Path) -> None:
        self.root, self.played, self.stack = root, -1, ExitStack()  # played: the last step saved
        self.env: dict[str, str] = {}
        self.stopped: str | None = None  # why the play stopped, if a step failed: told to every test after

    def after(self, step: int) -> Path:
        """The saved folder of the lab at the end of `step` (0: just made), played on to it if need be."""
        from dvc_workshop.lab.steps.registry import STEPS

        assert 0 <= step <= len(STEPS), step
        while self.played < step:
            assert self.stopped is None, f"the lab's play stopped at step {self.played + 1}:\n{self.stopped}"
            try:
                self.play_next()
            except AssertionError as error:
                self.stopped = str(error)
                raise
        return self.root / f"after-{step}"

    def play_next(self) -> None:
        play = self.root / "play"
        if self.played < 0:
            self.emulator = self.stack.enter_context(sample_emulator(self.root, LAB_TRAIN_STRIDE))
            home = self.root / "home"
            home.mkdir()
            (home / ".gitconfig").write_text("[user]\n\tname = Finn Example\n\temail = finn@example.com\n")
            env = {**os.environ, "HOME": str(home), **self.emulator.environment()}
            env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
            for variable in ("GIT_CONFIG_GLOBAL", "PIPENV_ACTIVE"):
                env.pop(variable, None)
            self.env = env
            play.mkdir()
            started = subprocess.run(
                [*WORKSHOP, "start", LAB], cwd=play, env=env, capture_output=True, text=True
            )
            assert "your name in it: finn" in started.stdout, started.stdout + started.stderr
        else:
            solved = subprocess.run([*WORKSHOP, "solution", str(self.played + 1)], cwd=play / LAB,
                                    env=self.env, capture_output=True, text=True)  # fmt: skip
            assert solved.returncode == 0, solved.stdout[-3000:] + solved.stderr[-3000:]
        self.played += 1
        saved = self.root / f"after-{self.played}"
        for folder in LAB_FOLDERS:
            if (play / folder).exists():
                shutil.copytree(play / folder, saved / folder, symlinks=True)
        shutil.copytree(self.emulator.data_dir, saved / "buckets", symlinks=True,
                        ignore=shutil.ignore_patterns("emulator-token-*"))  # fmt: skip

    @contextmanager
    def copy(self, step: int, place: Path) -> Iterator[tuple[Path, dict[str, str]]]:
        """A copy of the lab at the end of `step` in `place` (its origin and teammate's clone beside
        it, their remotes pointed at the copied origin), served by an emulator of its own (a copy of
        the buckets as they were then, on another port), and the environment of finn's shell there."""
        from dvc_workshop.lab.model.emulator import Emulator

        shutil.copytree(self.after(step), place, symlinks=True)
        for folder in LAB_FOLDERS:
            if (place / folder / ".git").is_dir():
                origin = subprocess.run(["git", "remote", "get-url", "origin"], cwd=place / folder,
                                        capture_output=True, text=True).stdout.strip()  # fmt: skip
                if origin and Path(origin).name == f"{LAB}-origin.git":
                    subprocess.run(["git", "remote", "set-url", "origin", str(place / f"{LAB}-origin.git")],
                                   cwd=place / folder, check=True)  # fmt: skip
        emulator = Emulator(place / "buckets", free_port())
        emulator.start()
        try:
            yield place / LAB, {**self.env, **emulator.environment()}
        finally:
            emulator.stop()


@pytest.fixture(scope="session")
def lab_play(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabPlay]:
    play = LabPlay(tmp_path_factory.mktemp("lab-play"))
    with play.stack:  # its emulator, once started, stops at the end of the session
        yield play


@pytest.fixture
def lab_at(lab_play: LabPlay, tmp_path: Path) -> Iterator[Callable[[int], tuple[Path, dict[str, str]]]]:
    """`lab_at(step)`: a copy of finn's lab at the end of `step`, fresh for this test, with its own
    emulator (stopped after the test), and the environment of finn's shell in it."""
    numbers = itertools.count(1)
    with ExitStack() as copies:

        def copy(step: int) -> tuple[Path, dict[str, str]]:
            return copies.enter_context(lab_play.copy(step, tmp_path / f"copy-{next(numbers)}"))

        yield copy


def write_params(folder: Path, **overrides: dict) -> Path:
    """The repository's params.yaml with `overrides` (a section's values each), in `folder`."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    for section, values in overrides.items():
        params[section].update(values)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def download(tmp_path: Path, source: str, **download_params):
    params = write_params(tmp_path, download_mnist={"source": source, **download_params})
    return run_stage(
        "download_mnist",
        "--images-dir", "out/Images", "--labels", "out/labels.csv", "--params", str(params),
        cwd=tmp_path,
    )  # fmt: skip


def preprocess(tmp_path: Path, params: Path):
    return run_stage(
        "preprocess", "--images-dir", "out/Images", "--labels", "out/labels.csv",
        "--out-dir", "prep", "--preview", "prep.png", "--params", str(params), cwd=tmp_path,
    )  # fmt: skip


def assert_one_line_error(result, *fragments: str, status: int = 1) -> None:
    """One `error:` line holding each fragment, exit `status` (the lab's tools: 2, could not do it)."""
    assert result.returncode == status, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# Every page with `bash` blocks, in the order the walk-through runs them (tests/test_readme.py).
DOC_PAGES = (
    "README.md",
    "docs/README.md",
    "docs/pipelines.md",
    "docs/remotes.md",
    "docs/experiments.md",
    "docs/performance.md",
    "docs/troubleshooting.md",
    "docs/facilitator.md",
    "CONTRIBUTING.md",
)


def page_blocks(page: str) -> list[tuple[str, str]]:
    """The (tag, code) of each ```bash block of one page, in order."""
    text = (REPO_ROOT / page).read_text()
    return [(tag.strip(), code) for tag, code in re.findall(r"```bash( [\w-]+)?\n(.*?)```", text, flags=re.S)]


def doc_blocks() -> list[tuple[str, int, str, str]]:
    """(page, number on its page, tag, code) of every block of every page, in walk-through order."""
    return [
        (page, number, tag, code)
        for page in DOC_PAGES
        for number, (tag, code) in enumerate(page_blocks(page), start=1)
    ]


def pipenv_env(home: Path) -> dict[str, str]:
    """An attendee's shell on a laptop whose home is `home`: `pipenv run` (and `pipenv shell`)
    reuse the environment the tests run in, first on PATH (PIPENV_ACTIVE would make pipenv
    build a new one). The laptop's tools stay where they are: a pipx installed with `pip install
    --user` finds itself, and its pipenv, under the real home."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "HOME": str(home), "PIPENV_VERBOSITY": "-1", "VIRTUAL_ENV": str(bin_dir.parent)}
    env.setdefault("PYTHONUSERBASE", str(LAPTOP_HOME / ".local"))
    env.setdefault("PIPX_HOME", str(LAPTOP_HOME / ".local/share/pipx"))
    env.setdefault("PIPX_BIN_DIR", str(LAPTOP_HOME / ".local/bin"))
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    env.pop("PIPENV_ACTIVE", None)
    return env


def global_git_identity(folder: Path) -> dict[str, str]:
    """The environment of a user whose global git config has a name and email (the README's step)."""
    config = folder / "gitconfig"
    config.write_text("[user]\n\tname = Ada Attendee\n\temail = ada@example.com\n")
    return {"GIT_CONFIG_GLOBAL": str(config)}


def set_params(repo: Path, section: str, **values: object) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


# `slow` (real DVC pipelines, the emulator, the doc pages, the hooks: minutes, not seconds) and
# `deep` are marked in the test modules themselves, one way: `pytestmark = pytest.mark.slow` for a
# module that is slow as a whole, `@pytest.mark.slow` (or a parameter's `marks=`) for a single test.

MODULE_SECONDS: dict[str, float] = defaultdict(float)  # test module -> setup + call + teardown


OUTER_SESSION = "DVC_WORKSHOP_TEST_SESSION"  # set by the outermost session, for its subprocesses


def pytest_sessionstart(session: pytest.Session) -> None:
    """The `workshop` the tests run is this checkout's, whatever ran before; a session a test runs
    in a copy of the repository (tests/test_guide.py's exercise) leaves the install alone."""
    if OUTER_SESSION not in os.environ:
        install_this_checkout()
        os.environ[OUTER_SESSION] = str(REPO_ROOT)


# The suite runs in worker processes (`-n auto` in pytest.ini), a group of tests to a worker at a
# time: every module of finn's lab (played once per worker that asks for it: so all on one), the
# doc pages' walk-through with the doctor's tests (both need the emulator's default port), and each
# other module whole (its module fixtures, once). xdist's own `--dist loadgroup` reads groups from
# the test ids, which pytest 9 no longer lets a plugin rewrite, so the groups are given here, by
# module: the controller that hands out the work sees test ids only.
LAB_GROUP, DEFAULT_PORT_GROUP = "finn-lab", "port-4443"
DEFAULT_PORT_MODULES = ("test_readme.py", "test_doctor.py", "test_room_day.py")  # the doctor binds 4443
MOST_WORKERS = 4  # each holds TensorFlow (about 1 GB); beyond four, finn's lab alone is the longest
TAKES_THE_LAB = re.compile(r"def test_\w+\([^)]*\blab_(at|play)\b")  # a test of finn's lab: its fixture
SLOW_MODULE = re.compile(r"^pytestmark = pytest\.mark\.slow", re.M)


def module_sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in Path(__file__).parent.glob("test_*.py")}


def lab_modules(sources: dict[str, str]) -> set[str]:
    """The test modules with a test of finn's lab (the controller sees no fixtures: it reads them)."""
    return {name for name, source in sources.items() if TAKES_THE_LAB.search(source)}


def group_of(nodeid: str, of_the_lab: set[str]) -> str:
    module = nodeid.split("::")[0]
    name = Path(module).name
    return LAB_GROUP if name in of_the_lab else DEFAULT_PORT_GROUP if name in DEFAULT_PORT_MODULES else module


def pytest_xdist_make_scheduler(config: pytest.Config, log):  # -> xdist.scheduler.LoadScopeScheduling
    """Work handed out a group at a time (group_of), in the order the tests were collected (below)."""
    from xdist.scheduler import LoadScopeScheduling

    of_the_lab = lab_modules(module_sources())

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid, of_the_lab)

    config.option.loadscopereorder = False  # xdist's own order: the groups with the most tests first
    return ByGroup(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest work first, so that no worker is left with it at the end while the other
    waits: finn's lab, then the default port's group, then the modules slow as a whole, then the
    rest (each module's tests in their order, and together)."""
    sources = module_sources()
    of_the_lab, first = lab_modules(sources), {LAB_GROUP: 0, DEFAULT_PORT_GROUP: 1}
    slow = {name for name, source in sources.items() if SLOW_MODULE.search(source)}

    def rank(item: pytest.Item) -> int:
        return first.get(group_of(item.nodeid, of_the_lab), 2 if item.path.name in slow else 3)

    items.sort(key=rank)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker a CPU the tests may use (a cloud machine's two vCPUs are often one
    physical core, which xdist's own count would give one worker), at most MOST_WORKERS."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(usable, MOST_WORKERS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--module-times", action="store_true", help="print each test module's time (setup, call, teardown)"
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    MODULE_SECONDS[report.nodeid.partition("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """With --module-times (CI: .ci/run): a table of the time each module took, the slowest first.
    A fixture shared by several modules (the lab played once) counts in the first that uses it."""
    if not config.getoption("module_times") or not MODULE_SECONDS:
        return
    terminalreporter.write_sep("=", "time per test module (setup + call + teardown)")
    for module, seconds in sorted(MODULE_SECONDS.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:9.1f} s  {module}")
    terminalreporter.write_line(f"{sum(MODULE_SECONDS.values()):9.1f} s  in all")
