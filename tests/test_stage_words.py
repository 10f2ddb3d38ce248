"""A stage as `dvc stage add` would be told it (mechanisms/stage_target.py), in milliseconds: a
dvc.yaml entry read, the `dvc stage add -f` line that writes it (the README's own line for each
of the reference's stages), paths that overlap, a command's words, and the sed line that deletes
one .gitignore line, run as printed.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from dvc_workshop.lab.actions.solution import lab_blocks
from dvc_workshop.lab.mechanisms.stage_target import Stage, command_words, delete_line, overlaps

from .conftest import REPO_ROOT
from .tiny_labs import DOWNLOAD_LINE, REFERENCE_STAGES, bash

# --- Stage: a dvc.yaml entry as `dvc stage add` would be told it --------------------------------


def test_a_stage_reads_a_folded_command_as_one_line_and_each_output_with_its_kind() -> None:
    stage = Stage.read("evaluate", REFERENCE_STAGES["evaluate"])
    assert stage.command == (
        "python -m dvc_workshop.pipeline.evaluate --model models/model.keras --data-dir data/preprocess "
        "--metrics reports/metrics.json --predictions reports/predictions.csv "
        "--per-class reports/per_class.csv --mistakes reports/misclassified.png"
    )
    assert stage.params == ()
    assert stage.outs["reports/metrics.json"] == ("metrics", False)
    assert stage.outs["reports/predictions.csv"] == ("outs", True)
    assert stage.cached_outputs() == [
        "reports/predictions.csv",
        "reports/per_class.csv",
        "reports/misclassified.png",
    ]


def test_a_stage_reads_every_form_of_params_and_a_command_given_as_a_list() -> None:
    stage = Stage.read(
        "s",
        {
            "cmd": ["python a.py", "--x  1"],
            "params": ["train", {"params.yaml": ["preprocess.seed"]}, {"other.yaml": ["lr", "decay"]}],
            "plots": [{"curve.csv": {"cache": False}}, "picture.png"],
            "deps": None,
        },
    )
    assert stage == Stage(
        "s",
        "python a.py --x  1",
        (),
        ("train", "preprocess.seed", "other.yaml:lr", "other.yaml:decay"),
        {"curve.csv": ("plots", False), "picture.png": ("plots", True)},
    )


def test_the_add_command_gives_each_flag_and_quotes_what_the_shell_would_expand() -> None:
    stage = Stage.read(
        "report",
        {
            "cmd": "python -c 'print(1)'  --out   'my file.txt'",
            "deps": ["${report.source}", "a.py"],
            "params": [{"params.yaml": ["report.seed"]}],
            "outs": [{"big": {"cache": False}}, "my file.txt"],
            "metrics": [{"scores.json": {"cache": False}}, "m.json"],
            "plots": [{"p.csv": {"cache": False}}, "q.png"],
        },
    )
    assert stage.add_command() == (
        "dvc stage add -f -n report -p report.seed -d '${report.source}' -d a.py -O big -o 'my file.txt' "
        "-M scores.json -m m.json --plots-no-cache p.csv --plots q.png "
        "python -c 'print(1)' --out 'my file.txt'"
    )


def test_the_download_stage_hint_is_the_line_attendees_type() -> None:
    assert Stage.read("download_mnist", REFERENCE_STAGES["download_mnist"]).add_command() == DOWNLOAD_LINE


@pytest.mark.parametrize(
    ("step", "names"), [(3, ["download_mnist"]), (4, ["preprocess"]), (5, ["train", "evaluate"])]
)
def test_each_stage_hint_is_the_readme_line_word_for_word(step: int, names: list[str]) -> None:
    """The hint and the README give an attendee one line, not two versions of it."""
    blocks = "".join(lab_blocks(REPO_ROOT / "README.md", step)).replace("\\\n", " ")
    readme = [shlex.split(line) for line in blocks.splitlines() if line.startswith("dvc stage add")]
    hints = [shlex.split(Stage.read(name, REFERENCE_STAGES[name]).add_command()) for name in names]
    assert [[word for word in words if word != "-f"] for words in readme] == [
        [word for word in words if word != "-f"] for words in hints
    ]


# --- the small pieces -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("data", "data", True),
        ("data/", "data", True),
        ("data", "data/preprocess/stats.json", True),
        ("data/preprocess", "data", True),
        ("data/pre", "data/preprocess", False),
        ("reports/metrics.json", "reports/metrics.json.bak", False),
        ("models", "data", False),
    ],
)
def test_paths_overlap_only_at_a_folder_boundary(a: str, b: str, expected: bool) -> None:
    assert overlaps(a, b) is expected


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("python3 -m pkg.mod --a 1 --flag", (["python", "-m", "pkg.mod"], {"--a": "1", "--flag": ""})),
        ("py -m pkg.mod --out 'my file'", (["python", "-m", "pkg.mod"], {"--out": "my file"})),
        ("bash run.sh --x 1", (["bash"], {"--x": "1"})),
        ("python -m m --x 'unclosed", (["python", "-m", "m"], {"--x": "'unclosed"})),
        ("", ([], {})),
    ],
)
def test_a_command_is_its_program_and_its_options(command: str, words: tuple) -> None:
    assert command_words(command) == words


def test_delete_line_deletes_that_exact_line_only(tmp_path: Path) -> None:
    command = delete_line("reports/.gitignore", "/metrics.json")
    assert command == "sed -i.bak '/^\\/metrics\\.json$/d' reports/.gitignore && rm reports/.gitignore.bak"
    (tmp_path / "reports").mkdir()
    lines = ["/metrics.json", "/metrics.jsonl", "/metricsXjson", "x/metrics.json", "/per_class.csv"]
    (tmp_path / "reports/.gitignore").write_text("\n".join(lines) + "\n")
    bash(command, tmp_path)
    assert (tmp_path / "reports/.gitignore").read_text().splitlines() == lines[1:]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [".gitignore"]
