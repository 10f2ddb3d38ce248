"""Experiments and plots as attendees use them: `dvc exp run/show/apply`, the queue, the report."""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import copy_repo, dvc, git, set_params

pytestmark = pytest.mark.slow

# Headless, and quiet: this machine has no network, and Chromium's background calls would fail.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=10000",  # let vega-embed draw before the DOM is read
]


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose small pipeline (300 images per split, 2 epochs) has run and is committed."""
    repo = copy_repo(tmp_path_factory.mktemp("experiments") / "repo")
    set_params(repo, "download_mnist", limit_per_split=300)
    set_params(repo, "train", epochs=2)
    dvc("repro", cwd=repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "baseline")
    return repo


def experiments(repo: Path) -> dict[str, dict]:
    """Experiment name -> {"params": train params, "accuracy": test accuracy}, from exp show --json."""
    found: dict[str, dict] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            data = node.get("data") or {}
            if node.get("name") and "params" in data and data.get("metrics"):
                found[node["name"]] = {
                    "params": data["params"]["params.yaml"]["data"]["train"],
                    "accuracy": data["metrics"]["reports/metrics.json"]["data"]["test"]["accuracy"],
                }
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(dvc("exp", "show", "--json", cwd=repo).stdout))
    return found


def test_metrics_show_fits_a_terminal_and_per_class_scores_are_a_table(small_repo: Path) -> None:
    shown = dvc("metrics", "show", "--json", cwd=small_repo).stdout
    (workspace,) = json.loads(shown).values()
    test = workspace["data"]["reports/metrics.json"]["data"]["test"]
    assert set(test) == {"accuracy", "loss", "images"}
    table = dvc("metrics", "show", cwd=small_repo).stdout.splitlines()
    assert "test.accuracy" in table[0] and max(map(len, table)) <= 100, table
    with (small_repo / "reports/per_class.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [row["digit"] for row in rows] == [str(digit) for digit in range(10)]
    assert all(0 <= float(row[score]) <= 1 for row in rows for score in ("precision", "recall", "f1"))


def test_plots_show_writes_an_offline_page_with_every_plot(small_repo: Path, tmp_path: Path) -> None:
    dvc("plots", "show", "-o", str(tmp_path / "plots"), cwd=small_repo)
    page = (tmp_path / "plots/index.html").read_text()
    assert "cdn.jsdelivr.net" not in page and "vegaEmbed=" in page  # the libraries are inlined
    specs = re.findall(r"var spec = (\{.*?\});\s*vegaEmbed", page, flags=re.DOTALL)
    titles = {json.loads(spec).get("title", {}).get("text", "") for spec in specs}
    assert {
        "Loss per epoch (train vs validation)",
        "Accuracy per epoch (train vs validation)",
        "Test confusion matrix",
        "Test precision, recall and F1 per digit",
    } <= titles
    images = [html.unescape(src) for src in re.findall(r'<img src="(static/[^"]+)"', page)]
    assert sorted(Path(src).name.split("_")[-1] for src in images) == [
        "misclassified.png",
        "preprocessed.png",
    ]
    assert all((tmp_path / "plots" / src).stat().st_size > 1000 for src in images)

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:  # render it as a person would see it: every chart drawn
        page_url = (tmp_path / "plots/index.html").as_uri()
        dom = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path}/chrome", "--dump-dom", page_url],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        charts = dom.count("<canvas") + dom.count("<svg")
        assert dom.count('class="vega-embed') >= 4 and charts >= 4, dom[-2000:]


def test_exp_run_leaves_the_workspace_until_apply(small_repo: Path) -> None:
    baseline = (small_repo / "reports/metrics.json").read_text()
    dvc("exp", "run", "--temp", "-n", "one-epoch", "-S", "train.epochs=1", cwd=small_repo)
    assert (small_repo / "reports/metrics.json").read_text() == baseline
    assert git(small_repo, "status", "--porcelain") == ""

    found = experiments(small_repo)["one-epoch"]
    assert found["params"]["epochs"] == 1
    dvc("exp", "apply", "one-epoch", cwd=small_repo)
    applied = json.loads((small_repo / "reports/metrics.json").read_text())["test"]
    assert applied["accuracy"] == found["accuracy"]
    assert "epochs: 1" in (small_repo / "params.yaml").read_text()
    assert "Data and pipelines are up to date" in dvc("status", cwd=small_repo).stdout
    assert dvc("metrics", "diff", cwd=small_repo).stdout.strip()  # differs from the baseline commit
    git(small_repo, "checkout", ".")
    dvc("checkout", cwd=small_repo)


def test_queued_experiments_all_run(small_repo: Path) -> None:
    for name, setting in (("narrow", "train.dense_units=32"), ("fast", "train.learning_rate=0.003")):
        dvc("exp", "run", "--queue", "-n", name, "-S", "train.epochs=1", "-S", setting, cwd=small_repo)
    dvc("queue", "start", cwd=small_repo)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            status = dvc("queue", "status", cwd=small_repo).stdout
            if not re.search(r"\b(Queued|Running)\b", status):
                break
            time.sleep(3)
        assert status.count("Success") >= 2, status
    finally:
        dvc("queue", "stop", cwd=small_repo, check=False)
    found = experiments(small_repo)
    assert found["narrow"]["params"]["dense_units"] == 32
    assert found["fast"]["params"]["learning_rate"] == 0.003
    assert 0 < found["narrow"]["accuracy"] <= 1 and 0 < found["fast"]["accuracy"] <= 1
