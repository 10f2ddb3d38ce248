"""The lab's steps: an entry each (its title, setup, check, hints, reset), `registry.py` their
order. What the entries share is in `lab/mechanisms/`."""
