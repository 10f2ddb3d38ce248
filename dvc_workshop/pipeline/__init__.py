"""One module per DVC stage; each is a typer CLI run by `dvc.yaml` as `python -m ...`."""
