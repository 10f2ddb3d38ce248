"""What a facilitator sends attendees, printed by `room create` and by the emulator serving a
venue's room: the repository to clone, the README's first command, the doctor before the day,
and the line that starts each lab in the room.
"""

from __future__ import annotations

import re
import subprocess

from dvc_workshop.lab.model.layout import REFERENCE


def repository() -> tuple[str, str]:
    """The address attendees clone (this clone's `origin`) and a note where it cannot be theirs."""
    try:
        url = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=REFERENCE, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        url = ""
    if not url:
        return "REPOSITORY-URL", "this clone has no origin remote: put your repository's address in"
    if "://" not in url and not re.match(r"[\w.-]+@[\w.-]+:", url):  # a folder of this laptop
        return url, f"{url} is a folder on this laptop: put your repository's address in"
    return url, ""


def readme_first_command() -> str:
    """The README's first bash block: the install and the pipeline on the offline default."""
    text = (REFERENCE / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^```bash\n(.+?)\n```", text, re.M | re.S)
    return found.group(1).strip() if found else "pipenv sync"


def handout_lines(cache_url: str, logins: bool, use_line: str | None = None) -> list[str]:
    """The lines to send attendees for the room at `cache_url` (`use_line`: a venue's room)."""
    url, note = repository()
    folder = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or REFERENCE.name
    login = "gcloud auth application-default login && " if logins else ""
    lines = ["Send attendees, a week before (each in a terminal, with their own name for NAME):"]
    lines.append(f"  git clone {url} && cd {folder}")
    if note:
        lines.append(f"  ({note})")
    lines.append(f"  {readme_first_command()}")
    if use_line:  # the room is reachable on the venue's network only: its checks wait for the day
        lines.append("  pipenv run workshop doctor")
        lines.append("On the day, on the venue's network, first:")
        lines.append(f"  {use_line}")
        lines.append(f"  pipenv run workshop doctor --room {cache_url} --name NAME")
    else:
        lines.append(f"  {login}pipenv run workshop doctor --room {cache_url} --name NAME")
    lines.append("On the day, each attendee starts their lab in the room:")
    lines.append(f"  pipenv run workshop start ../my-lab --room {cache_url} --name NAME")
    return lines
