"""What the step entries share: a step's shape (`entry.py`), a stage compared with its target
(`stage_target.py`), data run, committed and pushed (`data_state.py`), the Pipfile (`pipfile.py`),
a grid of experiments (`grid.py`), the exercise (`exercise.py`), a stage's code (`module_imports.py`),
main moved back in the lab, origin and the teammate's clone at once (`rewind.py`)."""
