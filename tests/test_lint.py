"""The tree passes its own pre-commit hooks (ruff lint and format, file hygiene)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run

pytestmark = pytest.mark.slow


def test_pre_commit_hooks_pass_on_every_file(repo_copy: Path) -> None:
    result = run(["pre-commit", "run", "--all-files", "--show-diff-on-failure"], cwd=repo_copy, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
