"""Which of the package's modules a `python -m` command runs: a stage's code dependencies.

A module missing from a stage's `deps` is the failure DVC is there to prevent: change it, and
`dvc repro` says there is nothing to do while the outputs it shapes are stale. The modules are
found by following imports (at any depth, inside functions too) within `dvc_workshop`; used by
`tests/test_dependencies.py` on this repository and by `workshop check` on an attendee's lab.
A dependency on a folder (`dvc_workshop/data`) stands for every file in it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "dvc_workshop"


def module_path(root: Path, module: str) -> Path | None:
    """The file of a module of this package under `root`, or None for one outside it."""
    if module != PACKAGE and not module.startswith(f"{PACKAGE}."):
        return None
    path = root / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported_modules(root: Path, path: Path) -> set[str]:
    """The modules a file imports, by absolute name (`from a import b` counts b if it is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if (file := module_path(root, name)) is not None and file.exists()}


def modules_run_by(root: Path, module: str) -> set[str]:
    """The package's files (paths relative to `root`) that `python -m module` executes, its own
    included; `__init__.py` files are left out: they hold no code (a test keeps it so)."""
    seen: set[Path] = set()
    pending = [module]
    while pending:
        path = module_path(root, pending.pop())
        if path is None or path in seen or not path.exists():
            continue
        seen.add(path)
        pending.extend(imported_modules(root, path))
    return {path.relative_to(root).as_posix() for path in seen if path.name != "__init__.py"}


def listed(path: str, deps: list[str]) -> bool:
    """Whether a file (relative to the repository) is among `deps`, itself or by a folder above it."""
    return any(path == dep or path.startswith(f"{dep.rstrip('/')}/") for dep in deps)
