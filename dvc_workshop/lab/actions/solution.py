"""`workshop solution N`: a step's answer, the README's `bash lab` blocks of "Lab step N", run as
printed but with the lab's own names: its folder, its origin, its teammate's clone, the
attendee's name (their folder of the cache bucket) and the room's buckets.

The commands come from the workshop's own README (the lab holds none), never from inside an
HTML comment, and only once the steps before N are done.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import CACHE_URL, EXAMPLE_LAB, EXAMPLE_NAME, RAW_URL
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.model.progress import Progress
from dvc_workshop.lab.steps.registry import STEPS

HINTS_AT_MOST = 8  # a chain of hints longer than this is a loop in disguise


def lab_blocks(readme: Path, step: int) -> list[str]:
    """The `bash lab` blocks of the README's section "Lab step <step>" (none inside an HTML comment)."""
    text = re.sub(r"<!--.*?-->", "", readme.read_text(), flags=re.S)
    section = re.search(rf"^### Lab step {step}:.*?(?=^##|\Z)", text, flags=re.M | re.S)
    if section is None:
        raise WorkshopError(f"{readme} has no section 'Lab step {step}:'")
    return re.findall(r"```bash lab\n(.*?)```", section.group(), flags=re.S)


def with_names(block: str, lab: Lab) -> str:
    """A README block in this lab's names: ada's folder, ../my-lab and its kin (its origin, the folders
    steps make beside it, as their entries name them), the buckets."""
    owner = lab.attendee_lab
    cache, raw = lab.buckets
    names = {
        f"{CACHE_URL}/{EXAMPLE_NAME}": f"{cache}/{lab.attendee}",
        CACHE_URL: cache,
        RAW_URL: raw,
        f"../{EXAMPLE_LAB}-origin.git": sibling(owner, owner.origin) if owner.origin else "origin",
        **{f"../{EXAMPLE_LAB}{s.folder}": sibling(owner, s.folder_at(lab)) for s in STEPS if s.folder},
        f"../{EXAMPLE_LAB}": sibling(owner, owner.root),
    }
    pattern = re.compile("|".join(re.escape(example) + r"(?![\w.-])" for example in names))  # longest first
    return pattern.sub(lambda found: names[found.group()], block)


def sibling(lab: Lab, path: Path) -> str:
    """A folder beside the lab (its origin, the teammate's clone, the report, the lab itself) as the README
    names them, from the lab or from the clone alike: ../NAME; elsewhere, its whole path."""
    return shlex.quote(f"../{path.name}" if path.parent == lab.root.parent else str(path))


def run_solution(lab: Lab, step: int, on_line: Callable[[str], None]) -> None:
    """The step's README blocks run in bash, each said to `on_line` (`$ block`) before it runs; their
    own output goes straight to the terminal. A step done already runs nothing and says so."""
    bash = shutil.which("bash")
    if bash is None:
        raise WorkshopError("bash not found: type the commands of the README's lab step yourself")
    for earlier in STEPS[: step - 1]:
        try:
            earlier.check(lab)
        except Problem as problem:
            raise WorkshopError(
                f"lab step {earlier.number} is not done yet ({problem.what}): "
                f"workshop solution {earlier.number} first"
            ) from None
        finally:
            lab.stop()
    try:
        STEPS[step - 1].check(lab)
        on_line(f"Lab step {step} is done already (workshop check {step} says so): nothing run. "
                f"workshop reset {step} puts it back to its start.")  # fmt: skip
        return
    except Problem:
        pass  # not done: its commands run
    finally:
        lab.stop()
    if later := [done for done in Progress.load(lab.root).done if done > step]:
        on_line(f"(Lab steps {later[0]} to {later[-1]} are done on top of step {step}'s work: its "
                "README answer would take them back, so the check's hints for this step run instead, "
                "as printed.)")  # fmt: skip
        follow_hints(lab, step, bash, on_line)
        return
    try:
        run_blocks(lab, step, bash, on_line)
    except WorkshopError:  # the lab holds work of its own for the step (a stage defined otherwise)
        from dvc_workshop.lab.actions.reset import reset_step

        on_line(f"(The answer stopped on this lab's own work for step {step}: the step goes back to its "
                f"start first, as workshop reset {step} does, and the answer runs again.)")  # fmt: skip
        reset_step(lab, step, on_line)
        run_blocks(lab, step, bash, on_line)


def follow_hints(lab: Lab, step: int, bash: str, on_line: Callable[[str], None]) -> None:
    """The step's check, and its hint run as printed, until the step is done: from where the lab is,
    keeping the later steps' work. A hint that explains rather than commands, or one that comes
    back, stops it with the problem said."""
    seen: set[str] = set()
    while True:
        lab = Lab(lab.root)  # read afresh: the last hint changed the lab
        try:
            STEPS[step - 1].check(lab)
            return
        except Problem as problem:
            if not problem.hint or problem.hint in seen or len(seen) >= HINTS_AT_MOST:
                said = f"lab step {step}: {problem.what} (workshop hint {step} says more)"
                raise WorkshopError(said) from None
            seen.add(problem.hint)
            hint = problem.hint
        finally:
            lab.stop()
        on_line(f"$ {hint}")
        if subprocess.run([bash, "-eo", "pipefail", "-c", hint], cwd=lab.root).returncode != 0:
            raise WorkshopError(f"lab step {step} stopped at the command above")


def run_blocks(lab: Lab, step: int, bash: str, on_line: Callable[[str], None]) -> None:
    for block in lab_blocks(lab.reference / "README.md", step):
        block = with_names(block, lab)
        on_line(f"$ {block.strip()}")  # said, and flushed, before the block's own output
        if subprocess.run([bash, "-euo", "pipefail", "-c", block], cwd=lab.root).returncode != 0:
            raise WorkshopError(f"lab step {step} stopped at the block above")
