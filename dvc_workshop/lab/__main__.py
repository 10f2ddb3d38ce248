"""`python -m dvc_workshop.lab`: the `workshop` command (its arguments: `commands/lab.py`)."""

from dvc_workshop.lab.commands.lab import app

if __name__ == "__main__":
    app()
