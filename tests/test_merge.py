"""Lab step 11's merge (model/merge.py) in seconds: params.yaml's values by their dotted names, the
line sed can set, and a real git merge in a tiny lab whose hint is run as printed, all but its
`dvc repro`, and must finish the merge keeping both sides' changes. Real git, sed and YAML; no DVC.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.merge import (
    dotted_values,
    duplicate_key,
    git_outputs,
    line_of,
    merge_problem,
    parsed,
    sed_command,
)
from dvc_workshop.lab.model.runner import Runner

from .conftest import REPO_ROOT, git, run
from .tiny_labs import PARAMS, bash, line_starting, make_lab, params_with

DENSE, EPOCHS = line_starting("  dense_units:"), line_starting("  epochs:")
VALIDATION = line_starting("  validation_fraction:")


# --- params.yaml's values by their dotted names ----------------------------------------------


def test_dotted_values_name_each_leaf_by_its_path() -> None:
    document = {"train": {"epochs": 8, "filters": [16, 64], "opt": {"lr": 0.1}, "none": None}, "top": 1}
    assert dotted_values(document) == {
        "train.epochs": 8,
        "train.filters": [16, 64],
        "train.opt.lr": 0.1,
        "train.none": None,
        "top": 1,
    }
    assert dotted_values(5) == {}
    assert dotted_values({}) == {}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("train:\n  epochs: 3\n  epochs: 8\n", "epochs"),
        ("a: 1\nb: 2\na: 3\n", "a"),
        ("a:\n- {x: 1, x: 2}\n", "x"),
        ("a:\n  b:\n    c: 1\n  d:\n    c: 2\n", None),
        (PARAMS, None),
        ("", None),
    ],
)
def test_a_key_twice_in_one_mapping_is_found_at_any_depth(text: str, key: str | None) -> None:
    assert duplicate_key(yaml.compose(text)) == key


def test_params_parse_to_values_unless_conflicted_broken_or_doubled() -> None:
    values = parsed(PARAMS)
    assert values is not None
    assert (values["train.epochs"], values["download_mnist.limit_per_split"]) == (8, None)
    assert parsed("<<<<<<< HEAD\n  dropout: 0.25\n=======\n  dropout: 0.2\n>>>>>>> abc\n") is None
    assert parsed("train: [\n") is None
    assert parsed("train:\n  dropout: 0.25\n  dropout: 0.2\n") is None
    assert parsed("") == {}


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("train.epochs", "  epochs: 8  # the full MNIST needs 5 (docs/performance.md): 54,000 images a pass"),
        ("train.seed", "  seed: 42"),
        ("download_mnist.source", "  source: sources/mnist-sample.yaml"),
        ("train.filters", None),  # its value is on the lines under it
        ("download_mnist.limit_per_split", None),  # an empty value, then a comment
        ("train.missing", None),
        ("report.seed", None),
        ("train", None),
        ("train.filters.0", None),
    ],
)
def test_the_line_of_a_parameter_is_the_one_line_sed_can_set(name: str, line: str | None) -> None:
    assert line_of(PARAMS, name) == line


# --- the sed line that writes the lost side's values back ------------------------------------


def test_sed_command_is_exact_and_limits_a_key_of_every_section_to_its_own() -> None:
    current = "a:\n  seed: 1\n  url: x\nb:\n  seed: 1\n"
    theirs = "a:\n  seed: 1\n  url: gs://b/c&d\nb:\n  seed: 2  # changed\n"
    lost = {"a.url": ("gs://b/c&d", theirs, "abc"), "b.seed": (2, theirs, "abc")}
    assert sed_command(current, lost) == (
        "sed -i.bak -e 's/^  url:.*/  url: gs:\\/\\/b\\/c\\&d/' "
        "-e '/^b:/,/^[^ #]/s/^  seed:.*/  seed: 2  # changed/' params.yaml && rm params.yaml.bak"
    )


def test_sed_command_run_as_printed_writes_the_lost_values_into_params_yaml(tmp_path: Path) -> None:
    current = params_with((DENSE, "  dense_units: 128"))
    ours = params_with(
        ("  dropout: 0.3", "  dropout: 0.25"),
        (EPOCHS, "  epochs: 3  # docs/a&b \\1"),
        (f"{VALIDATION}\n  seed: 42", f"{VALIDATION}\n  seed: 7"),
    )
    source = "download_mnist:\n  source: gs://dvc-workshop-raw/mnist\n"
    lost = {
        "train.dropout": (0.25, ours, "abc"),
        "train.epochs": (3, ours, "abc"),
        "train.filters": ([32], ours, "abc"),
        "train.seed": (7, ours, "abc"),
        "download_mnist.source": ("gs://dvc-workshop-raw/mnist", source, "def"),
    }
    command = sed_command(current, lost)
    by_hand = " && set train.filters to [32] in params.yaml (an editor)"
    assert command.endswith(by_hand)
    (tmp_path / "params.yaml").write_text(current)
    bash(command.removesuffix(by_hand), tmp_path)
    assert (tmp_path / "params.yaml").read_text() == params_with(
        (DENSE, "  dense_units: 128"),
        ("  dropout: 0.3", "  dropout: 0.25"),
        (EPOCHS, "  epochs: 3  # docs/a&b \\1"),
        (f"{VALIDATION}\n  seed: 42", f"{VALIDATION}\n  seed: 7"),
        ("  source: sources/mnist-sample.yaml", "  source: gs://dvc-workshop-raw/mnist"),
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["params.yaml"]


# --- a merge not finished, and its hint run as printed ---------------------------------------


def conflicted_merge(tmp_path: Path) -> Lab:
    """Lab step 11 in a tiny lab: the teammate's dense_units and your dropout, on adjacent lines of
    params.yaml, and both sides' dvc.lock and metrics, merged: a conflict in all three."""
    lab = make_lab(
        tmp_path / "lab",
        {
            "params.yaml": PARAMS,
            "dvc.yaml": (REPO_ROOT / "dvc.yaml").read_text(),
            "dvc.lock": "run: 0\n",
            "reports/metrics.json": '{"accuracy": 0.9}\n',
        },
    )
    git(lab.root, "branch", "teammate")
    for branch, change, message in [
        (None, ("  dropout: 0.3", "  dropout: 0.25"), "Dropout 0.25"),
        ("teammate", (DENSE, "  dense_units: 128"), "Dense units 128"),
    ]:
        if branch:
            git(lab.root, "checkout", "-q", branch)
        (lab.root / "params.yaml").write_text(params_with(change))
        (lab.root / "dvc.lock").write_text(f"run: {message}\n")
        (lab.root / "reports/metrics.json").write_text(f'{{"accuracy": "{message}"}}\n')
        git(lab.root, "commit", "-qam", message)
    git(lab.root, "checkout", "-q", "-")
    assert run(["git", "merge", "--no-edit", "teammate"], cwd=lab.root, check=False).returncode == 1
    return lab


def both_changes() -> str:
    return params_with(("  dropout: 0.3", "  dropout: 0.25"), (DENSE, "  dense_units: 128"))


def test_a_merge_in_conflict_is_finished_by_its_hint_keeping_both_changes(tmp_path: Path) -> None:
    lab = conflicted_merge(tmp_path)
    problem = merge_problem(Runner(lab.root))
    assert problem is not None
    short = git(lab.root, "rev-parse", "--short", "teammate").strip()
    assert problem.what == (
        f"the merge of {short} (Dense units 128) is not finished: "
        "params.yaml, dvc.lock, reports/metrics.json still in conflict"
    )
    assert problem.hint == (
        "git checkout --theirs params.yaml dvc.lock reports/metrics.json && "
        "sed -i.bak -e 's/^  dropout:.*/  dropout: 0.25/' params.yaml && rm params.yaml.bak && "
        "dvc repro && git add params.yaml dvc.lock reports/metrics.json && git commit --no-edit"
    )
    before, after = problem.hint.split(" && dvc repro && ")
    bash(before, lab.root)
    assert (lab.root / "params.yaml").read_text() == both_changes()
    bash(after, lab.root)
    assert merge_problem(Runner(lab.root)) is None
    assert len(git(lab.root, "rev-list", "--parents", "-n", "1", "HEAD").split()) == 3


def test_a_merge_committed_with_its_markers_is_finished_by_a_new_commit(tmp_path: Path) -> None:
    lab = conflicted_merge(tmp_path)
    git(lab.root, "commit", "-qam", "Merge with markers")
    problem = merge_problem(Runner(lab.root))
    assert problem is not None
    theirs = git(lab.root, "rev-parse", "--short=7", "teammate").strip()
    assert problem.what == (
        "the last commit, a merge, has conflict markers in params.yaml, dvc.lock, reports/metrics.json: "
        "committed before they were resolved"
    )
    assert problem.hint == (
        f"git checkout {theirs} -- params.yaml dvc.lock reports/metrics.json && "
        "sed -i.bak -e 's/^  dropout:.*/  dropout: 0.25/' params.yaml && rm params.yaml.bak && "
        "dvc repro && git add params.yaml dvc.lock reports/metrics.json && "
        "git commit -m 'Resolve the conflicts of the merge'"
    )
    for part in problem.hint.split(" && dvc repro && "):
        bash(part, lab.root)
    assert (lab.root / "params.yaml").read_text() == both_changes()
    assert merge_problem(Runner(lab.root)) is None


def test_markers_deleted_with_both_sides_lines_kept_name_the_doubled_key(tmp_path: Path) -> None:
    lab = conflicted_merge(tmp_path)
    text = (lab.root / "params.yaml").read_text()
    markers = ("<<<<<<<", "=======", ">>>>>>>")
    kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith(markers))
    (lab.root / "params.yaml").write_text(kept)
    problem = merge_problem(Runner(lab.root))
    assert problem is not None
    assert problem.what.endswith(
        "still in conflict (params.yaml has dense_units twice: both sides' lines kept)"
    )


def test_no_merge_is_no_problem(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", {"params.yaml": PARAMS})
    assert merge_problem(Runner(lab.root)) is None


@pytest.mark.parametrize(
    ("dvc_yaml", "outputs"),
    [
        ((REPO_ROOT / "dvc.yaml").read_text(), ["dvc.lock", "reports/metrics.json"]),
        (
            "stages:\n  s:\n    plots:\n    - p.csv:\n        cache: false\n    - q.png\n",
            ["dvc.lock", "p.csv"],
        ),
        ("stages: [1, 2]\n", ["dvc.lock"]),
        ("stages: {\n", ["dvc.lock"]),
        (None, ["dvc.lock"]),
    ],
)
def test_git_outputs_are_dvc_lock_and_the_outputs_git_keeps(
    tmp_path: Path, dvc_yaml: str | None, outputs: list[str]
) -> None:
    if dvc_yaml is not None:
        (tmp_path / "dvc.yaml").write_text(dvc_yaml)
    assert git_outputs(Runner(tmp_path)) == outputs


def test_a_parameter_both_sides_changed_is_named_with_the_value_the_hint_drops(tmp_path: Path) -> None:
    """Both commits set train.dropout: one value can stay. The problem says which the hint keeps (the
    merged commit's) and which it drops, so that no one's change goes without a word."""
    lab = make_lab(tmp_path / "lab", {"params.yaml": PARAMS, "dvc.yaml": (REPO_ROOT / "dvc.yaml").read_text(),
                                      "dvc.lock": "run: 0\n", "reports/metrics.json": "{}\n"})  # fmt: skip
    git(lab.root, "branch", "teammate")
    for branch, value in ((None, "0.25"), ("teammate", "0.35")):
        if branch:
            git(lab.root, "checkout", "-q", branch)
        (lab.root / "params.yaml").write_text(params_with(("  dropout: 0.3", f"  dropout: {value}")))
        git(lab.root, "commit", "-qam", f"Dropout {value}")
    git(lab.root, "checkout", "-q", "-")
    assert run(["git", "merge", "--no-edit", "teammate"], cwd=lab.root, check=False).returncode == 1
    problem = merge_problem(Runner(lab.root))
    short = git(lab.root, "rev-parse", "--short", "teammate").strip()
    assert problem is not None and (
        f"; both sides changed train.dropout (0.25 here, 0.35 in {short} (Dropout 0.35)): the hint keeps 0.35"
        in problem.what
    ), problem.what
