"""Every module a stage runs is one of its dependencies in dvc.yaml.

A module missing from `deps` is the failure DVC is there to prevent: change it, and `dvc repro`
says there is nothing to do while the outputs it shapes are stale. The modules are found by
following the stage's imports (at any depth, inside functions too) within `dvc_workshop`.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

import pytest
import yaml

from .conftest import REPO_ROOT

PACKAGE = "dvc_workshop"
if not (REPO_ROOT / "dvc.yaml").exists():  # a lab repository before its first `dvc stage add`
    pytest.skip("no dvc.yaml yet", allow_module_level=True)
STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def module_path(module: str) -> Path | None:
    """The file of a module of this package, or None for one outside it."""
    if module != PACKAGE and not module.startswith(f"{PACKAGE}."):
        return None
    path = REPO_ROOT / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported_modules(path: Path) -> set[str]:
    """The modules a file imports, by absolute name (`from a import b` counts b if it is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if (file := module_path(name)) is not None and file.exists()}


def modules_run_by(module: str) -> set[Path]:
    """The package's files that running `python -m module` executes, the module's own included."""
    seen: set[Path] = set()
    pending = [module]
    while pending:
        path = module_path(pending.pop())
        if path is None or path in seen:
            continue
        seen.add(path)
        pending.extend(imported_modules(path))
    return {path for path in seen if path.name != "__init__.py"}  # see the test below


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
    needed = {str(path.relative_to(REPO_ROOT)) for path in modules_run_by(module)}
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
