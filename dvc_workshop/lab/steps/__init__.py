"""The lab's steps: one module each (its entry: title, check, hints, reset), `registry.py` their
order, and the mechanisms they share (`entry.py`, `stage_target.py`, `data_state.py`)."""
