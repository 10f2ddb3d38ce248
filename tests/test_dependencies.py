"""Every module a stage runs is one of its dependencies in dvc.yaml.

A module missing from `deps` is the failure DVC is there to prevent: change it, and `dvc repro`
says there is nothing to do while the outputs it shapes are stale. `dvc_workshop.imports` finds
the modules by following the stage's imports; `workshop check` uses it on an attendee's lab.
"""

from __future__ import annotations

import ast
import hashlib
import re

import pytest
import yaml

from dvc_workshop.imports import PACKAGE, modules_run_by

from .conftest import REPO_ROOT

if not (REPO_ROOT / "dvc.yaml").exists():  # a lab repository before its first `dvc stage add`
    pytest.skip("no dvc.yaml yet", allow_module_level=True)
STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def test_package_init_files_hold_no_code() -> None:
    """They run with every module but are no dependency of any stage: so they must stay empty."""
    for init in (REPO_ROOT / PACKAGE).rglob("__init__.py"):
        body = ast.parse(init.read_text()).body
        assert all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body), init


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_module_a_stage_runs_is_a_dependency(stage: str) -> None:
    definition = STAGES[stage]
    (module,) = re.findall(r"python -m ([\w.]+)", definition["cmd"])
    declared = {str(dep) for dep in definition["deps"]}
    needed = modules_run_by(REPO_ROOT, module)
    assert f"{PACKAGE}/pipeline/{stage}.py" in needed
    missing = sorted(needed - declared)
    assert not missing, f"stage {stage} runs {', '.join(missing)} but does not list it under deps"
    unused = sorted(dep for dep in declared if dep.endswith(".py") and dep not in needed)
    assert not unused, f"stage {stage} lists {', '.join(unused)} under deps but never runs it"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_committed_lock_records_the_code_as_it_is(stage: str) -> None:
    """dvc.lock is committed: after a change to a stage's code, `dvc repro` and commit the lock,
    or a fresh clone's `dvc status` reports the stage changed and every attendee reruns it."""
    locked = yaml.safe_load((REPO_ROOT / "dvc.lock").read_text()) if (REPO_ROOT / "dvc.lock").exists() else {}
    if stage not in locked.get("stages", {}):
        pytest.skip(f"stage {stage} has not run yet")
    lock = locked["stages"][stage]
    stale = [
        dep["path"]
        for dep in lock["deps"]
        if dep["path"].endswith(".py")
        and hashlib.md5((REPO_ROOT / dep["path"]).read_bytes()).hexdigest() != dep["md5"]
    ]
    assert not stale, (
        f"dvc.lock records old versions of {', '.join(stale)}: run dvc repro and commit dvc.lock"
    )
