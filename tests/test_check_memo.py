"""The check's memo: where nothing it reads changed, a check answers with the last verdict, saying
since when; any change to what it reads (a file, the data, the remote's objects, the shell, its
age) makes it read the lab again. In a copy of finn's lab done through step 6 (conftest's `lab_at`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dvc_workshop.lab.model.fingerprint import listing, tree_paths

from .conftest import WORKSHOP, free_port

NOTE = "(Nothing has changed since the check at "
DONE = "6 of 12 done. Next: lab step 7"


def check(lab: Path, env: dict[str, str]) -> tuple[float, str]:
    began = time.perf_counter()
    result = subprocess.run([*WORKSHOP, "check"], cwd=lab, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    return time.perf_counter() - began, result.stdout


def verdict(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if not line.startswith(NOTE))


def run(command: str, lab: Path, env: dict[str, str]) -> None:
    subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=lab, env=env, check=True,
                   capture_output=True)  # fmt: skip


@pytest.mark.slow
def test_a_check_where_nothing_changed_answers_from_the_last_and_any_change_reads_again(lab_at) -> None:
    lab, env = lab_at(6)
    took, first = check(lab, env)
    assert DONE in first and NOTE not in first, first
    again_took, again = check(lab, env)
    assert NOTE in again and verdict(again) == verdict(first), again
    assert again_took < took, (again_took, took)

    run("rm -rf data/preprocess", lab, env)  # the data: a file of the lab
    _, gone = check(lab, env)
    assert NOTE not in gone and "of preprocess are not here" in gone, gone
    run("dvc checkout -q", lab, env)
    assert verdict(check(lab, env)[1]) == verdict(first)

    bucket = env["STORAGE_EMULATOR_HOST"] + "/storage/v1/b/dvc-workshop-cache/o"
    with urllib.request.urlopen(f"{bucket}?prefix=finn/") as answer:
        objects = [item["name"] for item in json.load(answer)["items"]]
    for name in objects:  # a teammate's `dvc gc -c`: the remote emptied, nothing changed in the lab
        address = f"{bucket}/{urllib.parse.quote(name, safe='')}"
        urllib.request.urlopen(urllib.request.Request(address, method="DELETE"))
    _, emptied = check(lab, env)
    assert NOTE not in emptied and "not in the remote" in emptied, emptied
    run("dvc push -q && dvc push -q --all-tags", lab, env)  # the workspace's, and the tag's (step 6 keeps it)
    assert verdict(check(lab, env)[1]) == verdict(first)

    _, pane = check(lab, {**env, "TMUX_PANE": "%9"})  # another terminal, the same settings
    assert NOTE in pane and verdict(pane) == verdict(first)
    _, pane = check(lab, {**env, "VIRTUAL_ENV_PROMPT": "dvc-workshop"})  # a pipenv shell beside pipenv run
    assert NOTE in pane and verdict(pane) == verdict(first)
    _, shell = check(lab, {**env, "DVC_WORKSHOP_SOMETHING": "1"})  # another shell's settings
    assert NOTE not in shell and verdict(shell) == verdict(first)
    memo = lab / ".git/workshop-check-memo.json"
    kept = json.loads(memo.read_text())
    kept["at"] = (datetime.now(timezone.utc) - timedelta(minutes=11)).isoformat()
    memo.write_text(json.dumps(kept))
    _, old = check(lab, {**env, "DVC_WORKSHOP_SOMETHING": "1"})
    assert NOTE not in old and verdict(old) == verdict(first)  # too old: read again, whatever it read then


def test_a_remote_that_does_not_answer_is_listed_as_such() -> None:
    said = listing(f"http://127.0.0.1:{free_port()}", "gs://dvc-workshop-cache/finn")
    assert said.startswith("unread: URLError"), said
    assert os.environ.get("STORAGE_EMULATOR_HOST") is None  # the tests' own shell names no emulator


def test_what_the_fingerprint_reads_of_a_working_tree(tmp_path: Path) -> None:
    root = tmp_path / "lab"
    read_ones = {"params.yaml", "data/a.png", ".dvc/config", ".git/HEAD", ".git/refs/tags/baseline"}
    left_out = {".dvc/tmp/rwlock", ".dvc/tmp/btime", ".dvc/cache/files/md5/ab/cdef", ".git/index",
                "dvc_workshop/__pycache__/x.pyc", ".git/objects/ab/cdef", ".git/workshop-progress.json",
                ".git/index.lock"}  # fmt: skip
    for name in read_ones | left_out:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    read = {str(path.relative_to(root)) for path in tree_paths(root)}
    assert read_ones | {".dvc/cache/files/md5/ab"} <= read  # of the cache, its folders
    assert not read & (left_out | {".git", "data"}), read & left_out
