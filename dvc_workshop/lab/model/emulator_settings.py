"""Where the project's DVC remotes point: the emulator's address in `.dvc/config.local` and `.env`.

`pipenv run emulator` writes them when it starts and takes them back when it stops; both files
are git-ignored, and whatever else the attendee keeps in them stays.
"""

from __future__ import annotations

from pathlib import Path

from dvc_workshop.cli import STAND_IN_SETTINGS
from dvc_workshop.data.errors import WorkshopError

REMOTES = ("dvc-workshop", "dvc-workshop-raw")  # DVC remotes on the emulator's buckets (.dvc/config)
# The settings the lab tool took from the workshop's .env because this shell lacks them (the
# `workshop` command's start): its own reads work, but dvc typed in this shell goes to Google.
TAKEN_FROM_ENV_FILE: dict[str, str] = {}
ENV_BEGIN, ENV_END = "# >>> dvc-workshop emulator", "# <<< dvc-workshop emulator"


def configure_project(repo: Path, emulator: dict[str, str] | None) -> None:
    """Point the DVC remotes (.dvc/config.local) and `.env` at the emulator (its environment,
    `Emulator.environment()`), or take that back (None)."""
    from dvc.config import Config, ConfigError

    config = Config(dvc_dir=str(repo / ".dvc"), validate=False)
    try:
        with config.edit("local") as local:
            for name in REMOTES:
                remote = local.setdefault("remote", {}).setdefault(name, {})
                for option in ("endpointurl", "allow_anonymous_login"):
                    remote.pop(option, None)
                if emulator:
                    remote.update(endpointurl=emulator["STORAGE_EMULATOR_HOST"], allow_anonymous_login=True)
                elif not remote:
                    del local["remote"][name]
    except ConfigError as error:
        raise WorkshopError(f"{repo / '.dvc'}: {error} (fix .dvc/config or .dvc/config.local)") from None
    local_file = repo / ".dvc/config.local"
    if local_file.exists() and not local_file.read_text().strip():
        local_file.unlink()  # nothing of the attendee's own was in it
    env_file = repo / ".env"
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    if ENV_BEGIN in lines:
        del lines[lines.index(ENV_BEGIN) : lines.index(ENV_END) + 1]
    if emulator:
        lines += [ENV_BEGIN, *(f"{k}={v}" for k, v in emulator.items()), ENV_END]
    if lines or env_file.is_symlink():  # a lab's link to the workshop's settings stays a link
        env_file.write_text("".join(f"{line}\n" for line in lines))
    else:
        env_file.unlink(missing_ok=True)


def written_settings(repo: Path) -> dict[str, str]:
    """The settings a running emulator wrote into `repo`'s `.env` ({} where none did)."""
    env_file = repo / ".env"
    lines = env_file.read_text().splitlines() if env_file.is_file() else []
    if ENV_BEGIN not in lines or ENV_END not in lines:
        return {}
    block = lines[lines.index(ENV_BEGIN) + 1 : lines.index(ENV_END)]
    return dict(line.split("=", 1) for line in block if "=" in line)


def environment(url: str) -> dict[str, str]:
    """What a process needs to reach the emulator at `url` through gcsfs (fsspec reads FSSPEC_GS_*)."""
    return {"STORAGE_EMULATOR_HOST": url, **STAND_IN_SETTINGS}


def unreachable(endpoint: str, seconds: float = 3) -> str | None:
    """Why a GCS endpoint (an emulator) does not answer, in words that point at the fix; None if it does."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=seconds).close()
        return None
    except urllib.error.HTTPError as error:  # an answer: but a storage API's?
        return None if error.code < 500 else f"{endpoint} answers HTTP {error.code} (not a working emulator)"
    except ValueError:
        return f"{endpoint} is not an address: http://HOST:PORT, e.g. http://192.168.1.20:4443"
    except OSError as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            return (
                f"{endpoint} did not answer within {seconds:.0f} s (no reply: another network, a firewall?)"
            )
        if isinstance(reason, ConnectionRefusedError):
            return f"nothing answers at {endpoint} (connection refused: is the emulator running there?)"
        return f"{endpoint} cannot be reached ({getattr(reason, 'strerror', None) or reason})"


def is_local(endpoint: str) -> bool:
    """Whether an emulator's address is this laptop's own (pipenv run emulator), not a venue's."""
    from urllib.parse import urlsplit

    return urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1")


def answers(endpoint: str) -> bool:
    """Whether a GCS endpoint (the emulator) answers at all, within 3 s."""
    return unreachable(endpoint) is None
