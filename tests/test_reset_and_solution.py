"""`workshop reset`'s edits (actions/reset.py) and `workshop solution`'s README blocks in a lab's own
names (actions/solution.py), in seconds: a params.yaml section put back, a stage and the
.gitignore lines DVC wrote for it taken out, in a tiny lab (real git, real YAML), never DVC.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.actions.reset import stage_removal, with_section
from dvc_workshop.lab.actions.solution import lab_blocks, with_names
from dvc_workshop.lab.model.lab import Lab

from .conftest import REPO_ROOT, git
from .tiny_labs import PARAMS, line_starting, make_lab, params_with

CROP = line_starting("  crop_size:")


# --- workshop reset: a params.yaml section put back, a stage taken out ------------------------


def test_with_section_puts_back_one_section_and_keeps_the_rest() -> None:
    current = params_with(("  dropout: 0.3", "  dropout: 0.25"), (CROP, "  crop_size: 20"))
    assert with_section(current, PARAMS, "train") == params_with((CROP, "  crop_size: 20"))
    assert with_section(current, PARAMS, "preprocess") == params_with(("  dropout: 0.3", "  dropout: 0.25"))
    assert with_section(PARAMS, PARAMS, "download_mnist") == PARAMS


def test_with_section_adds_a_section_the_attendee_deleted() -> None:
    assert with_section("a:\n  x: 1\n", "a:\n  x: 2\nb:\n  y: 2\n", "b") == "a:\n  x: 1\nb:\n  y: 2\n"


def test_with_section_adds_a_section_after_a_last_line_without_newline() -> None:
    assert with_section("a:\n  x: 1", "a:\n  x: 2\nb:\n  y: 2\n", "b") == "a:\n  x: 1\nb:\n  y: 2\n"


def test_stage_removal_takes_out_the_stage_and_the_gitignore_lines_dvc_wrote(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", {".gitignore": "/.venv/\n/data/download_mnist\n", "params.yaml": PARAMS})
    files = {
        "dvc.yaml": "stages:\n  download_mnist:  # the raw data\n    cmd: python -m a\n"
        "  preprocess:\n    cmd: python -m b\n    outs:\n    - data/preproces\n",
        "dvc.lock": "schema: '2.0'\nstages:\n  preprocess:\n    cmd: python -m b\n  download_mnist:\n"
        "    cmd: python -m a\n",
        ".gitignore": "/.venv/\n/data/download_mnist\n/data\n# DVC\n",
        "data/.gitignore": "/preproces\n/preprocess\n/other\n",
        "data/download_mnist/.gitignore": "/Images\n/labels.csv\n",
        "reports/.gitignore": "/preprocessed.png\n",
    }
    for name, text in files.items():
        (lab.root / name).parent.mkdir(parents=True, exist_ok=True)
        (lab.root / name).write_text(text)
    git(lab.root, "add", "-A")
    git(lab.root, "commit", "-qm", "Stages")
    assert stage_removal(Lab(lab.root), ("preprocess",)) == {
        "dvc.yaml": "stages:\n  download_mnist:  # the raw data\n    cmd: python -m a\n",
        "dvc.lock": "schema: '2.0'\nstages:\n  download_mnist:\n    cmd: python -m a\n",
        ".gitignore": "/.venv/\n/data/download_mnist\n# DVC\n",
        "data/.gitignore": "/other\n",
        "reports/.gitignore": "",
    }
    assert stage_removal(Lab(lab.root), ()) == {}


# --- workshop solution: the README's blocks, in the lab's own names ----------------------------

README = """# A workshop
### Lab step 1: One
```bash lab
echo one
```
<!--
```bash lab
echo hidden
```
-->
```bash
echo not the lab's
```
```bash lab-start
echo start
```
```bash lab
echo two
```
### Lab step 10: Ten
```bash lab
echo ten
```
## After the lab
```bash lab
echo after
```
"""


def test_lab_blocks_are_a_section_s_bash_lab_blocks_outside_comments(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(README)
    assert lab_blocks(tmp_path / "README.md", 1) == ["echo one\n", "echo two\n"]
    assert lab_blocks(tmp_path / "README.md", 10) == ["echo ten\n"]
    with pytest.raises(WorkshopError, match=r"README.md has no section 'Lab step 2:'$"):
        lab_blocks(tmp_path / "README.md", 2)


def test_every_step_of_the_readme_has_an_answer() -> None:
    assert all(lab_blocks(REPO_ROOT / "README.md", step) for step in range(1, 13))
    assert lab_blocks(REPO_ROOT / "README.md", 11)[0].startswith("cd ../my-lab-teammate\n")


BLOCK = """git clone ../my-lab-origin.git ../my-lab-teammate
cd ../my-lab-teammate && cd ../my-lab
dvc remote add -d dvc-workshop gs://dvc-workshop-cache/ada
sed 's#gs://dvc-workshop-raw/mnist#x#' ../my-lab-report/params.yaml ../my-lab.txt
"""


def grace_lab(tmp_path: Path, room: str | None = None) -> Lab:
    """grace's lab (not the README's ada and my-lab), with its origin and a teammate's clone."""
    lab = make_lab(
        tmp_path / "grace-lab",
        {"README.md": "grace's lab\n", **({"workshop-room.yaml": room} if room else {})},
    )
    git(lab.root, "config", "workshop.name", "grace")
    git(tmp_path, "clone", "-q", "--bare", "grace-lab", "grace-lab-origin.git")
    git(lab.root, "remote", "add", "origin", "../grace-lab-origin.git")
    git(tmp_path, "clone", "-q", "grace-lab-origin.git", "grace-lab-teammate")
    return Lab(lab.root)


def test_a_readme_block_is_run_with_the_lab_s_own_names_from_the_lab_and_its_clone(tmp_path: Path) -> None:
    lab = grace_lab(tmp_path)
    expected = """git clone ../grace-lab-origin.git ../grace-lab-teammate
cd ../grace-lab-teammate && cd ../grace-lab
dvc remote add -d dvc-workshop gs://dvc-workshop-cache/grace
sed 's#gs://dvc-workshop-raw/mnist#x#' ../grace-lab-report/params.yaml ../my-lab.txt
"""
    assert with_names(BLOCK, lab) == expected
    assert with_names(BLOCK, Lab(tmp_path / "grace-lab-teammate")) == expected


def test_a_readme_block_names_the_room_s_buckets(tmp_path: Path) -> None:
    lab = grace_lab(tmp_path, room="cache: gs://room-cache/\nraw: gs://room-raw\n")
    assert with_names(BLOCK, lab).splitlines()[2:] == [
        "dvc remote add -d dvc-workshop gs://room-cache/grace",
        "sed 's#gs://room-raw/mnist#x#' ../grace-lab-report/params.yaml ../my-lab.txt",
    ]
