"""Every module a stage runs is one of its dependencies in dvc.yaml.

A module missing from `deps` is the failure DVC is there to prevent: change it, and `dvc repro`
says there is nothing to do while the outputs it shapes are stale. `lab/mechanisms/module_imports.py`
finds the modules by following the stage's imports (inside functions too); `workshop check` uses
it on an attendee's lab. A folder in `deps` stands for every file in it.
"""

from __future__ import annotations

import ast
import hashlib
import re

import pytest
import yaml

from dvc_workshop.lab.mechanisms.module_imports import PACKAGE, listed, modules_run_by

from .conftest import REPO_ROOT

if not (REPO_ROOT / "dvc.yaml").exists():  # a lab repository before its first `dvc stage add`
    pytest.skip("no dvc.yaml yet", allow_module_level=True)
STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def test_package_init_files_hold_no_code() -> None:
    """They run with every module but are no dependency of any stage: so they must stay empty."""
    for init in (REPO_ROOT / PACKAGE).rglob("__init__.py"):
        body = ast.parse(init.read_text()).body
        assert all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body), init


MAX_CODE_DEPENDENCIES = 5  # what an attendee types as -d lines: a folder stands for its plumbing


def check_dependencies(definition: dict) -> list[str]:
    """What is wrong with one stage's code dependencies (nothing: an empty list)."""
    (module,) = re.findall(r"python -m ([\w.]+)", definition["cmd"])
    declared = [str(dep) for dep in definition["deps"]]
    needed = modules_run_by(REPO_ROOT, module)
    code = [dep for dep in declared if dep.startswith(f"{PACKAGE}/")]
    problems = [
        f"runs {path} but does not list it under deps"
        for path in sorted(needed)
        if not listed(path, declared)
    ]
    problems += [
        f"lists {dep} under deps but never runs it"
        for dep in code
        if not any(listed(p, [dep]) for p in needed)
    ]
    if len(code) > MAX_CODE_DEPENDENCIES:
        problems.append(f"lists {len(code)} code dependencies, more than {MAX_CODE_DEPENDENCIES}")
    return problems


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_module_a_stage_runs_is_a_dependency(stage: str) -> None:
    needed = modules_run_by(REPO_ROOT, re.findall(r"python -m ([\w.]+)", STAGES[stage]["cmd"])[0])
    assert f"{PACKAGE}/pipeline/{stage}.py" in needed
    assert check_dependencies(STAGES[stage]) == [], f"stage {stage}"


@pytest.mark.parametrize(
    ("stage", "removed", "problem"),
    [
        ("train", "dvc_workshop/ml/model.py", "runs dvc_workshop/ml/model.py"),  # imported inside main
        ("evaluate", "dvc_workshop/data", "runs dvc_workshop/data/arrays.py"),  # a folder left out
        ("preprocess", "dvc_workshop/cli.py", "runs dvc_workshop/cli.py"),
    ],
)
def test_a_stage_that_omits_a_module_fails_the_check(stage: str, removed: str, problem: str) -> None:
    definition = {**STAGES[stage], "deps": [dep for dep in STAGES[stage]["deps"] if dep != removed]}
    assert any(message.startswith(problem) for message in check_dependencies(definition))


def test_a_listed_module_no_stage_runs_fails_the_check() -> None:
    definition = {**STAGES["evaluate"], "deps": [*STAGES["evaluate"]["deps"], "dvc_workshop/ml/model.py"]}
    assert check_dependencies(definition) == ["lists dvc_workshop/ml/model.py under deps but never runs it"]


def test_listed_folders_stand_for_their_files() -> None:
    assert listed("dvc_workshop/data/shards.py", ["dvc_workshop/data"])
    assert listed("dvc_workshop/data/shards.py", ["dvc_workshop/data/"])
    assert not listed("dvc_workshop/database.py", ["dvc_workshop/data"])
    assert not listed("dvc_workshop/data/shards.py", ["dvc_workshop/data/arrays.py"])


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
