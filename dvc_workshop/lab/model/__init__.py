"""What a lab and a room are: the lab's readings (`lab.py`), the one runner of commands
(`runner.py`), DVC's answers (`dvc_state.py`), a merge (`merge.py`), what the lab remembers
(`progress.py`), the room's buckets and records (`storage.py`, `records.py`), the emulator
(`emulator.py`, `emulator_settings.py`) and the workshop's names (`layout.py`)."""
