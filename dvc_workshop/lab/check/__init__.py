"""`workshop check` and `workshop hint`: the verdict on a lab, what the lab remembers between
commands, and the hints that follow the current problem."""
