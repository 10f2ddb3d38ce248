"""A lab repository: what the tool reads in it (git, DVC, the exercise) and what it does to it
(start, reset, solution), apart from the commands' arguments (`lab/__main__.py`)."""
