"""How the commands that run until stopped (the emulator, `check --watch`, `room show --watch`)
stop: Ctrl+C, `kill`, a closed terminal, each as a KeyboardInterrupt their own code handles.

Set explicitly, because a process started where SIGINT is ignored (a shell's `&` job, a test
runner's worker) inherits that, and Python then leaves Ctrl+C ignored: the watch ran on for an hour.
"""

from __future__ import annotations

import signal

STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _interrupt)
