"""The code-along lab: `workshop start` makes an attendee's repository, `workshop check` says
where they stand, `workshop solution N` catches up one step.

This repository is the complete solution. The lab starts from its code and parameters without
the DVC work the attendee is there to do: no `dvc.yaml` or `dvc.lock` (they write the stages),
no DVC remotes (they add their own), `standardize` blank (the exercise), the outputs left out of
`.gitignore` (DVC writes its own), one initial commit, and a bare git repository beside it as
`origin`, so that `git push` and `dvc exp push` work offline. The steps are the README's
"Lab step N" sections; a step's solution is that section's `bash lab` blocks, run as printed.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from dvc_workshop.cli import WorkshopError, one_line_errors
from dvc_workshop.lab_checks import STEPS
from dvc_workshop.lab_state import Lab, Problem

REFERENCE = Path(__file__).resolve().parents[1]
LEFT_OUT = ("dvc.yaml", "dvc.lock", "reports/metrics.json")  # what the attendee's pipeline writes
EXERCISE = Path("dvc_workshop/transforms.py"), "standardize"  # the function whose body is blanked
START_MESSAGE = "Start of the DVC workshop lab"
BLANK = 'raise NotImplementedError("standardize: the exercise of lab step 4 (README)")'
OUTPUTS_BLOCK = "# Pipeline outputs"  # the end of .gitignore that a lab leaves out

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)


@app.callback()
def workshop() -> None:
    """The DVC workshop's lab: your own repository to build the pipeline in."""


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise WorkshopError(f"git {' '.join(args)} failed in {folder}: {result.stderr.strip()}")
    return result.stdout


def blank_function(path: Path, name: str) -> None:
    """Replace the body of function `name` (its docstring kept) with `raise NotImplementedError`."""
    source = path.read_text()
    (function,) = (node for node in ast.walk(ast.parse(source)) if getattr(node, "name", None) == name)
    first = function.body[1] if ast.get_docstring(function) else function.body[0]
    lines = source.splitlines(keepends=True)
    indent = " " * first.col_offset
    lines[first.lineno - 1 : function.end_lineno] = [f"{indent}{BLANK}\n"]
    path.write_text("".join(lines))


def remove_remotes(repo: Path) -> None:
    """No DVC remotes, no default remote: adding their own is the attendee's first DVC step."""
    from dvc.config import Config

    config = Config(dvc_dir=str(repo / ".dvc"), validate=False)
    with config.edit("repo") as settings:
        settings.get("remote", {}).clear()
        settings.get("core", {}).pop("remote", None)


def copy_start_state(folder: Path) -> None:
    """The reference's tracked files, less what the attendee writes, into `folder`."""
    tracked = git(REFERENCE, "ls-files", "-z").split("\0")
    for name in filter(None, tracked):
        if name in LEFT_OUT or not (REFERENCE / name).is_file():
            continue
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REFERENCE / name, folder / name)
    blank_function(folder / EXERCISE[0], EXERCISE[1])
    remove_remotes(folder)
    ignored = (folder / ".gitignore").read_text()
    (folder / ".gitignore").write_text(ignored[: ignored.index(OUTPUTS_BLOCK)].rstrip() + "\n")


@app.command()
@one_line_errors
def start(
    folder: Annotated[Path, typer.Argument(help="The new repository, e.g. ../my-lab.")],
) -> None:
    """Make your own lab repository, with a bare `origin` beside it (FOLDER-origin.git)."""
    folder = folder.resolve()
    origin = folder.with_name(f"{folder.name}-origin.git")
    for path in (folder, origin):
        if path.exists():
            raise WorkshopError(f"{path} already exists: choose a new folder for the lab")
    for key in ("user.name", "user.email"):
        if subprocess.run(["git", "config", key], cwd=REFERENCE, capture_output=True).returncode != 0:
            raise WorkshopError(f"git has no {key} yet: set your name and email first (README, Environment)")
    scratch = folder.with_name(f".tmp-{folder.name}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        copy_start_state(scratch)
        git(scratch, "init", "-q", "-b", "main")
        git(scratch, "add", "-A")
        git(scratch, "commit", "-qm", START_MESSAGE)
        git(folder.parent, "init", "-q", "--bare", "-b", "main", str(origin))
        git(scratch, "remote", "add", "origin", str(origin))
        git(scratch, "push", "-q", "-u", "origin", "main")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(origin, ignore_errors=True)
        raise
    scratch.rename(folder)
    print(f"Your lab is {folder} (origin: {origin}). Next: cd {folder}, then the README's lab steps.")


@app.command()
@one_line_errors
def check(
    lab: Annotated[Path, typer.Option(help="The lab repository.")] = Path("."),
) -> None:
    """Say which lab steps are done, and for the first one not done, what is wrong and a hint."""
    repo = Lab(lab)
    first: tuple[int, Problem] | None = None
    for number, (title, step_check) in enumerate(STEPS, start=1):
        if first and first[0] == 1:  # without git or the buckets, every other check would fail
            print(f"{number:>2}  {title:<40} not checked")
            continue
        try:
            step_check(repo)
            state = "done"
        except Problem as problem:
            state = "not done"
            first = first or (number, problem)
        print(f"{number:>2}  {title:<40} {state}")
    if first is None:
        print("Every step is done: well done!")
    else:
        number, problem = first
        print(f"\nStep {number}: {problem.what}\nHint: {problem.hint}")


def lab_blocks(readme: Path, step: int) -> list[str]:
    """The `bash lab` blocks of the README's section "Lab step <step>"."""
    section = re.search(rf"^### Lab step {step}:.*?(?=^##|\Z)", readme.read_text(), flags=re.M | re.S)
    if section is None:
        raise WorkshopError(f"{readme} has no section 'Lab step {step}:'")
    return re.findall(r"```bash lab\n(.*?)```", section.group(), flags=re.S)


@app.command()
@one_line_errors
def solution(
    step: Annotated[int, typer.Argument(help="The lab step to catch up on (1 to 10).")],
    lab: Annotated[Path, typer.Option(help="The lab repository.")] = Path("."),
) -> None:
    """Run a step's commands from the README, as printed (for a facilitator helping someone catch up)."""
    if not 1 <= step <= len(STEPS):
        raise WorkshopError(f"invalid step {step}: the lab has steps 1 to {len(STEPS)}")
    bash = shutil.which("bash")
    if bash is None:
        raise WorkshopError("bash not found: type the commands of the README's lab step yourself")
    for block in lab_blocks(lab / "README.md", step):
        print(f"$ {block.strip()}", flush=True)
        if subprocess.run([bash, "-euo", "pipefail", "-c", block], cwd=lab).returncode != 0:
            raise WorkshopError(f"lab step {step} stopped at the block above")


if __name__ == "__main__":
    app()
