"""What the room's tests share: a command run as typed (no traceback, its exit code asserted), the
venue's emulator started as `pipenv run emulator --host` starts it, and the browser for pages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

VENUE = "127.0.0.2"  # stands for the facilitator's address on the venue's network
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def sh(args: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode in ok, f"{' '.join(args)} exited {result.returncode} in {cwd}:\n{output}"
    assert "Traceback" not in output, output
    return output


def venue_emulator(
    clone: Path, env: dict[str, str], port: int, data: Path
) -> tuple[subprocess.Popen[str], str]:
    """The emulator on VENUE:port over `data`, started in `clone` as its command starts it; what it
    printed until it said to leave its terminal open (its send text)."""
    command = [sys.executable, "-m", "dvc_workshop.emulator", "--host", VENUE, "--port", str(port),
               "--data-dir", str(data)]  # fmt: skip
    output = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    server = subprocess.Popen(command, cwd=clone, env=env, **output)
    said = []
    for line in server.stdout:
        said.append(line)
        if line.startswith("Leave this terminal open") or server.poll() is not None:
            break
    printed = "".join(said)
    assert f"GCS emulator on http://{VENUE}:{port}" in printed, printed
    return server, printed
