"""The README works as written: its `dvc stage add` commands and its standardization exercise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import REPO_ROOT, run


def readme_block(tag: str) -> str:
    """The README's ```bash <tag> block."""
    (block,) = re.findall(rf"```bash {tag}\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    return block


def normalized(stage: dict) -> dict:
    """A stage's definition with list order and YAML layout set aside."""

    def paths(entries: list) -> list[str]:
        return sorted(next(iter(e)) if isinstance(e, dict) else e for e in entries)

    return {
        "cmd": " ".join(stage["cmd"].split()),
        **{key: paths(stage.get(key, [])) for key in ("deps", "params", "outs", "metrics")},
    }


def test_stage_add_commands_rebuild_the_repository_pipeline(repo_copy: Path) -> None:
    script = readme_block("stage-add").replace("dvc repro\n", "")  # the stages, not a whole run
    result = run(["bash", "-euo", "pipefail", "-c", script], cwd=repo_copy)
    assert "preprocess" in result.stdout  # dvc dag drew the graph
    built = yaml.safe_load((repo_copy.parent / "build-it-yourself" / "dvc.yaml").read_text())["stages"]
    ours = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    assert list(built) == list(ours)
    for name in ours:
        assert normalized(built[name]) == normalized(ours[name]), name


def test_standardization_exercise(repo_copy: Path) -> None:
    module = repo_copy / "dvc_workshop/transforms.py"
    reference = module.read_text()
    body = re.search(r"(\n    return \(images.*\n)", reference)  # standardize's one-line body
    assert body and body[1].count("\n") == 2
    module.write_text(reference.replace(body[1], "\n    raise NotImplementedError\n"))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "standardize"]
    blank = subprocess.run(command, cwd=repo_copy, capture_output=True, text=True)
    assert blank.returncode == 1, blank.stdout
    assert "implement standardize(images, mean, std)" in blank.stdout  # the hint the tests give
    module.write_text(reference)
    solved = subprocess.run(command, cwd=repo_copy, capture_output=True, text=True)
    assert solved.returncode == 0 and " passed" in solved.stdout, solved.stdout


def test_full_configuration_is_the_one_the_benchmark_measures() -> None:
    """The README's `full` command and benchmarks/full_pipeline.py apply the same overrides."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from full_pipeline import FULL_OVERRIDES

    command = "pipenv run dvc exp run " + " ".join(f"-S {override}" for override in FULL_OVERRIDES)
    assert command in (REPO_ROOT / "README.md").read_text()


def test_full_configuration_overrides_apply_as_dvc_applies_them(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from full_pipeline import FULL_OVERRIDES, apply_overrides

    params = tmp_path / "params.yaml"
    params.write_text((REPO_ROOT / "params.yaml").read_text())
    apply_overrides(params, FULL_OVERRIDES)
    values = yaml.safe_load(params.read_text())
    assert values["download_mnist"]["source"] == "../shared/data/mnist"
    assert values["train"]["epochs"] == int(FULL_OVERRIDES[1].split("=")[1])
    assert values["preprocess"] == yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["preprocess"]
