"""The argument modules: `workshop` (`lab.py`), `workshop room` (`room.py`), `pipenv run emulator`
(`emulator.py`). Each command parses its arguments, calls one action and prints what it returns."""
