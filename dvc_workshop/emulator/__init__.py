"""`pipenv run emulator`'s name, `python -m dvc_workshop.emulator`, as the Pipfile gives it: the
workshop's GCS emulator lives in the lab tool (`lab/commands/emulator.py`, `lab/model/emulator.py`)."""
