"""`workshop solution N`: a lab step's commands from the workshop's README, run as printed.

The lab's README is the attendee's to edit, so the commands come from the workshop's own copy
(`git config workshop.reference`, set by `workshop start`), never from inside an HTML comment,
and with the room's bucket names where the lab joined a room.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from dvc_workshop.cli import WorkshopError
from dvc_workshop.lab.state import CACHE_URL, RAW_BUCKET_URL, Lab, Problem
from dvc_workshop.lab.steps import STEPS

EXAMPLE_NAME = "ada"  # the README's attendee, in its remote's folder


def lab_blocks(readme: Path, step: int) -> list[str]:
    """The `bash lab` blocks of the README's section "Lab step <step>" (none inside an HTML comment)."""
    text = re.sub(r"<!--.*?-->", "", readme.read_text(), flags=re.S)
    section = re.search(rf"^### Lab step {step}:.*?(?=^##|\Z)", text, flags=re.M | re.S)
    if section is None:
        raise WorkshopError(f"{readme} has no section 'Lab step {step}:'")
    return re.findall(r"```bash lab\n(.*?)```", section.group(), flags=re.S)


def for_room(block: str, lab: Lab) -> str:
    """A README block with the lab's room: its buckets, and the attendee's name for ada's."""
    try:
        cache, raw = lab.room_buckets
    except Problem as problem:  # a broken room file
        raise WorkshopError(f"{problem.what}: {problem.hint}") from None
    if cache == CACHE_URL:
        return block
    name = lab.git("config", "workshop.name") or EXAMPLE_NAME
    block = block.replace(f"{CACHE_URL}/{EXAMPLE_NAME}", f"{cache}/{name}")
    return block.replace(CACHE_URL, cache).replace(RAW_BUCKET_URL, raw)


def run_solution(lab: Lab, step: int) -> None:
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
    reference = Path(lab.git("config", "workshop.reference") or Path(__file__).resolve().parents[2])
    for block in lab_blocks(reference / "README.md", step):
        block = for_room(block, lab)
        print(f"$ {block.strip()}", flush=True)
        if subprocess.run([bash, "-euo", "pipefail", "-c", block], cwd=lab.root).returncode != 0:
            raise WorkshopError(f"lab step {step} stopped at the block above")
