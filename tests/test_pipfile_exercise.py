"""Step 1's Pipfile exercise in tiny labs: a dev package written with another spelling of its name
(pre_commit for the lock's pre-commit) is said as such, and the last hint's lines, run as printed,
replace it instead of keeping both."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvc_workshop.lab.mechanisms.pipfile import check_pipfile, pipfile_hints
from dvc_workshop.lab.model.problem import Problem

from .conftest import REPO_ROOT
from .tiny_labs import bash, make_lab

PIPFILE = (REPO_ROOT / "Pipfile").read_text()


def test_a_dev_package_spelt_otherwise_is_replaced_by_the_hint(tmp_path: Path) -> None:
    spelt = PIPFILE.replace('pre-commit = "*"\n', 'pre_commit = "*"\n', 1)
    lock = (REPO_ROOT / "Pipfile.lock").read_text()
    lab = make_lab(tmp_path / "lab", {"Pipfile": spelt, "Pipfile.lock": lock})
    with pytest.raises(Problem) as raised:
        check_pipfile(lab, 1)
    assert "Pipfile lacks 1 dev package of its lock" in raised.value.what
    assert "[dev-packages] has pre_commit (the lock's pre-commit)" in raised.value.what
    last = pipfile_hints(lab)[-1]
    bash(last.split("added: ", 1)[1].split("; then", 1)[0], lab.root)
    fixed = (lab.root / "Pipfile").read_text()
    assert 'pre-commit = "*"' in fixed and "pre_commit" not in fixed
    with pytest.raises(Problem) as raised:  # what is left: the commit
        check_pipfile(lab, 1)
    assert raised.value.what == "the Pipfile's change is not committed"


def test_a_stray_line_is_deleted_from_its_section_only(tmp_path: Path) -> None:
    """ruff added twice, under [packages] (stray) and [dev-packages] (right): the hint deletes the
    stray one and keeps the right one (a loop otherwise: it deleted both)."""
    stray = PIPFILE.replace("[packages]\n", '[packages]\nruff = "==0.8"\n', 1)
    lab = make_lab(
        tmp_path / "lab", {"Pipfile": stray, "Pipfile.lock": (REPO_ROOT / "Pipfile.lock").read_text()}
    )
    with pytest.raises(Problem) as raised:
        check_pipfile(lab, 1)
    assert raised.value.what.startswith("Pipfile's [packages] has ruff"), raised.value.what
    bash(raised.value.hint, lab.root)
    fixed = (lab.root / "Pipfile").read_text()
    assert fixed == PIPFILE and not (lab.root / "Pipfile.bak").exists()
