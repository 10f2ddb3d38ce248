"""A stage compared with its target, the reference's own dvc.yaml entry (mechanisms/stage_target.py),
in seconds: the first difference named, and the `dvc stage add -f` line that reaches the target
with the clean-up it needs, in a tiny lab (real git, real sed), never DVC itself. Each clean-up
line is run as printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dvc_workshop.lab.mechanisms.stage_target import Stage, check_definition, target
from dvc_workshop.lab.model.lab import Lab

from .tiny_labs import DOWNLOAD_LINE, REFERENCE_STAGES, bash, entry, lab_with, make_lab, problem_of

# --- check_definition: the first difference, and the line that reaches the target --------------


@pytest.mark.parametrize("name", list(REFERENCE_STAGES))
def test_the_reference_entry_itself_has_no_difference(tmp_path: Path, name: str) -> None:
    lab = lab_with(tmp_path, name)
    assert check_definition(lab, name) == target(lab, name)


def test_a_python3_command_is_the_same_command(tmp_path: Path) -> None:
    command = Stage.read("download_mnist", REFERENCE_STAGES["download_mnist"]).command
    lab = lab_with(tmp_path, "download_mnist", cmd=command.replace("python ", "python3 "))
    assert check_definition(lab, "download_mnist").command.startswith("python3 -m ")


def test_a_typo_in_a_stage_name_is_renamed_by_a_sed_line_that_works(tmp_path: Path) -> None:
    lab = make_lab(
        tmp_path / "lab",
        {"dvc.yaml": yaml.safe_dump({"stages": {"download_mnst": entry("download_mnist")}}, sort_keys=False)},
    )
    problem = problem_of(lab, "download_mnist")
    assert problem.what == "dvc.yaml has no stage download_mnist, but a stage download_mnst: a typo?"
    assert problem.hint == "sed -i.bak 's/^  download_mnst:/  download_mnist:/' dvc.yaml && rm dvc.yaml.bak"
    bash(problem.hint, lab.root)
    assert not (lab.root / "dvc.yaml.bak").exists()
    assert check_definition(Lab(lab.root), "download_mnist") == target(lab, "download_mnist")


def test_a_missing_stage_gets_its_line_only_where_writing_it_is_not_the_exercise(tmp_path: Path) -> None:
    lab = lab_with(tmp_path, "download_mnist")
    revealed, kept = problem_of(lab, "train"), problem_of(lab, "train", reveal=False)
    assert revealed.what == kept.what == "dvc.yaml has no stage train"
    assert revealed.hint == target(lab, "train").add_command()
    assert kept.hint is None


def test_a_typo_in_a_dependency_is_named_with_the_target(tmp_path: Path) -> None:
    deps = [dep.replace("params.py", "param.py") for dep in REFERENCE_STAGES["download_mnist"]["deps"]]
    lab = lab_with(tmp_path, "download_mnist", deps=deps)
    problem = problem_of(lab, "download_mnist")
    assert problem.what == (
        "stage download_mnist lists dvc_workshop/param.py, not dvc_workshop/params.py (a typo?), "
        "as a dependency"
    )
    assert problem.hint == DOWNLOAD_LINE


def test_a_missing_dependency_says_what_a_change_to_it_would_not_do(tmp_path: Path) -> None:
    deps = [dep for dep in REFERENCE_STAGES["download_mnist"]["deps"] if dep != "dvc_workshop/cli.py"]
    problem = problem_of(lab_with(tmp_path, "download_mnist", deps=deps), "download_mnist")
    assert problem.what == (
        "stage download_mnist does not list dvc_workshop/cli.py as a dependency: "
        "a change to it would not rerun the stage"
    )


def test_a_module_the_lab_s_own_code_imports_is_a_dependency(tmp_path: Path) -> None:
    code = {
        "dvc_workshop/pipeline/download_mnist.py": "from dvc_workshop import helpers\n",
        "dvc_workshop/helpers.py": "import os\n",
    }
    problem = problem_of(lab_with(tmp_path, "download_mnist", extra=code), "download_mnist")
    assert problem.what == (
        "stage download_mnist does not list dvc_workshop/helpers.py as a dependency: "
        "a change to it would not rerun the stage"
    )


def test_a_dependency_that_does_not_exist_is_named(tmp_path: Path) -> None:
    deps = [*REFERENCE_STAGES["download_mnist"]["deps"], "dvc_workshop/nowhere.py", "README.md"]
    lab = lab_with(tmp_path, "download_mnist", deps=deps, extra={"README.md": "a lab\n"})
    assert problem_of(lab, "download_mnist").what == (
        "stage download_mnist lists dvc_workshop/nowhere.py, which does not exist, as a dependency"
    )


def test_a_stage_without_its_parameters_names_the_p_flag(tmp_path: Path) -> None:
    problem = problem_of(lab_with(tmp_path, "train", params=None), "train")
    assert problem.what == (
        "stage train does not list its parameters (-p train): a change to train would not rerun it"
    )


@pytest.mark.parametrize(
    ("command", "difference"),
    [
        (
            "python -m dvc_workshop.pipeline.preprocess --images-dir data/download_mnist/Images",
            "runs python -m dvc_workshop.pipeline.preprocess, "
            "not python -m dvc_workshop.pipeline.download_mnist",
        ),
        (
            "python -m dvc_workshop.pipeline.download_mnist --images-dir data/download_mnist/Images "
            "--labels labels.csv",
            "runs its command with --labels labels.csv, not --labels data/download_mnist/labels.csv",
        ),
        (
            "python -m dvc_workshop.pipeline.download_mnist --images-dir data/download_mnist/Images",
            "runs its command with no --labels, not --labels data/download_mnist/labels.csv",
        ),
        ("", "runs no command, not python -m dvc_workshop.pipeline.download_mnist"),
    ],
)
def test_a_command_that_differs_is_named_by_its_first_difference(
    tmp_path: Path, command: str, difference: str
) -> None:
    problem = problem_of(lab_with(tmp_path, "download_mnist", cmd=command), "download_mnist")
    assert problem.what == f"stage download_mnist {difference}"
    assert problem.hint == DOWNLOAD_LINE


def test_a_typo_in_an_output_is_named_with_the_target_and_its_gitignore_line_goes(tmp_path: Path) -> None:
    outs = ["data/download_mnist/Image", "data/download_mnist/labels.csv"]
    gitignore = {"data/download_mnist/.gitignore": "/Image\n/labels.csv\n"}
    lab = lab_with(tmp_path, "download_mnist", outs=outs, extra=gitignore)
    problem = problem_of(lab, "download_mnist")
    assert problem.what == (
        "stage download_mnist declares data/download_mnist/Image, not data/download_mnist/Images "
        "(a typo?), as an output"
    )
    cleanup = (
        "sed -i.bak '/^\\/Image$/d' data/download_mnist/.gitignore && rm data/download_mnist/.gitignore.bak"
    )
    assert problem.hint == f"{DOWNLOAD_LINE} && {cleanup}"
    bash(cleanup, lab.root)
    assert (lab.root / "data/download_mnist/.gitignore").read_text() == "/labels.csv\n"


def test_an_output_folder_above_the_target_s_says_dvc_would_track_all_of_it(tmp_path: Path) -> None:
    outs = ["data/download_mnist", "data/download_mnist/labels.csv"]
    problem = problem_of(lab_with(tmp_path, "download_mnist", outs=outs), "download_mnist")
    assert problem.what == (
        "stage download_mnist declares data/download_mnist, not data/download_mnist/Images, as an output "
        "(DVC would track all of data/download_mnist)"
    )


def test_a_missing_output_names_its_flag(tmp_path: Path) -> None:
    outs = ["models/model.keras", "dvclive/metrics.json"]
    problem = problem_of(lab_with(tmp_path, "train", outs=outs), "train")
    assert problem.what == "stage train does not declare dvclive/plots as an output (-o)"


def test_a_right_output_is_never_offered_as_a_typo_of_a_missing_one(tmp_path: Path) -> None:
    outs = ["data/download_mnist/Images"]
    problem = problem_of(lab_with(tmp_path, "download_mnist", outs=outs), "download_mnist")
    assert (
        problem.what
        == "stage download_mnist does not declare data/download_mnist/labels.csv as an output (-o)"
    )


def test_an_output_the_stage_does_not_write_is_named(tmp_path: Path) -> None:
    outs = [*REFERENCE_STAGES["download_mnist"]["outs"], "data/download_mnist/extra.txt"]
    problem = problem_of(lab_with(tmp_path, "download_mnist", outs=outs), "download_mnist")
    assert problem.what == (
        "stage download_mnist declares data/download_mnist/extra.txt as an output, "
        "which the stage does not write"
    )


@pytest.mark.parametrize(
    ("changes", "flag"),
    [
        ({"metrics": ["reports/metrics.json"]}, "-m"),
        ({"metrics": None, "outs": [*REFERENCE_STAGES["evaluate"]["outs"], "reports/metrics.json"]}, "-o"),
    ],
)
def test_metrics_declared_as_cached_are_told_why_M(tmp_path: Path, changes: dict, flag: str) -> None:
    problem = problem_of(lab_with(tmp_path, "evaluate", **changes), "evaluate")
    assert problem.what == (
        f"stage evaluate declares reports/metrics.json with {flag}, not -M "
        "(metrics: small, kept in git, read by dvc metrics show)"
    )
    assert problem.hint == target(Lab(tmp_path / "lab"), "evaluate").add_command()


def test_a_dvc_add_of_a_stage_s_output_is_removed_before_the_stage_is_written(tmp_path: Path) -> None:
    tracked = {"data/download_mnist.dvc": "outs:\n- md5: 0123.dir\n  path: download_mnist\n"}
    lab = lab_with(tmp_path, "download_mnist", extra=tracked)
    problem = problem_of(lab, "download_mnist")
    assert problem.what == (
        "data/download_mnist.dvc tracks data/download_mnist, where stage download_mnist writes: "
        "a stage's outputs need no dvc add"
    )
    assert problem.hint == f"dvc remove data/download_mnist.dvc && {DOWNLOAD_LINE}"
