"""The doc pages work as written: the `dvc stage add` commands (docs/pipelines.md), the
standardization exercise (README, lab step 4), the `full` configuration (docs/performance.md),
and the README stays the handout: under 36,000 bytes, its lab steps those of the lab's registry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dvc_workshop.lab.steps.registry import STEPS

from .clones import installed_source
from .conftest import DOC_PAGES, REPO_ROOT, doc_blocks, run

pytestmark = pytest.mark.slow

# The handout: twelve lab steps and the original handout's environment part; the reference is docs/.
README_LIMIT_BYTES = 36_000


def doc_block(tag: str) -> str:
    """The one ```bash <tag> block of all the doc pages, wherever it lives."""
    (block,) = [code for _, _, block_tag, code in doc_blocks() if block_tag == tag]
    return block


def pages_containing(text: str) -> list[str]:
    return [page for page in DOC_PAGES if text in (REPO_ROOT / page).read_text()]


def normalized(stage: dict) -> dict:
    """A stage's definition with list order and YAML layout set aside."""

    def paths(entries: list) -> list[str]:
        return sorted(next(iter(e)) if isinstance(e, dict) else e for e in entries)

    return {
        "cmd": " ".join(stage["cmd"].split()),
        **{key: paths(stage.get(key, [])) for key in ("deps", "params", "outs", "metrics")},
    }


def test_stage_add_commands_rebuild_the_repository_pipeline(repo_copy: Path) -> None:
    script = doc_block("stage-add").replace("dvc repro\n", "")  # the stages, not a whole run
    result = run(["bash", "-euo", "pipefail", "-c", script], cwd=repo_copy)
    assert "preprocess" in result.stdout  # dvc dag drew the graph
    built = yaml.safe_load((repo_copy.parent / "build-it-yourself" / "dvc.yaml").read_text())["stages"]
    ours = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    assert list(built) == list(ours)
    for name in ours:
        assert normalized(built[name]) == normalized(ours[name]), name


def test_standardization_exercise(repo_copy: Path) -> None:
    module = repo_copy / "dvc_workshop/ml/transforms.py"
    reference = module.read_text()
    body = re.search(r"(\n    return \(images.*\n)", reference)  # standardize's one-line body
    assert body and body[1].count("\n") == 2
    module.write_text(reference.replace(body[1], "\n    raise NotImplementedError\n"))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "standardize"]
    # (No other test's name says standardize: -k standardize, as the README gives it, runs these alone.)
    blank = subprocess.run(command, cwd=repo_copy, capture_output=True, text=True)
    assert blank.returncode == 1, blank.stdout
    assert "implement standardize(images, mean, std)" in blank.stdout  # the hint the tests give
    module.write_text(reference)
    solved = subprocess.run(command, cwd=repo_copy, capture_output=True, text=True)
    assert solved.returncode == 0 and " passed" in solved.stdout, solved.stdout
    assert installed_source() == REPO_ROOT  # a session in a copy leaves the environment's install alone


def test_full_configuration_is_the_one_the_benchmark_measures() -> None:
    """The docs' `full` command and benchmarks/full_pipeline.py apply the same overrides."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from full_pipeline import FULL_OVERRIDES

    command = "pipenv run dvc exp run " + " ".join(f"-S {override}" for override in FULL_OVERRIDES)
    assert pages_containing(command), command


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


def test_readme_is_the_handout_with_the_registry_steps() -> None:
    readme = REPO_ROOT / "README.md"
    assert readme.stat().st_size <= README_LIMIT_BYTES, f"README.md: {readme.stat().st_size} bytes"
    headings = re.findall(r"^### Lab step (\d+): (.+)$", readme.read_text(), flags=re.M)
    assert [(int(number), title.strip()) for number, title in headings] == [
        (step.number, step.title) for step in STEPS
    ]


def test_the_exercise_answer_fills_the_labs_blank() -> None:
    """Lab step 4's answer block replaces exactly the line `workshop start` blanks the body with."""
    from dvc_workshop.lab.actions.solution import lab_blocks
    from dvc_workshop.lab.model.layout import EXERCISE_FILE
    from dvc_workshop.lab.steps.preprocess import STEP, blank_line

    blocks = lab_blocks(REPO_ROOT / "README.md", STEP.number)
    (answer,) = [block for block in blocks if "NotImplementedError" in block]
    assert f"blank = '{blank_line()}'" in answer and f'Path("{EXERCISE_FILE}")' in answer


def test_moved_sections_leave_no_dangling_links() -> None:
    """Every relative link of a doc page points to a file that exists (and, with #, a heading)."""
    for page in DOC_PAGES:
        path = REPO_ROOT / page
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # https://...
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            assert linked.exists(), f"{page}: {target}"
            if anchor and linked.suffix == ".md":
                assert anchor in anchors(linked), f"{page}: {target}"


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a Markdown page's headings."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
