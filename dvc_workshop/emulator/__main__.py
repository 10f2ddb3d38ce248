"""`python -m dvc_workshop.emulator` (`pipenv run emulator`): the workshop's GCS emulator (its
arguments: `lab/commands/emulator.py`, its server: `lab/model/emulator.py`)."""

from dvc_workshop.lab.commands.emulator import app

if __name__ == "__main__":
    app()
