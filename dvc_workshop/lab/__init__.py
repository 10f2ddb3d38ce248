"""The lab tool (`workshop`) and the room's emulator, in DVC's own layers, each importing only
downward (`.importlinter` holds the contract; tests/test_layers.py enforces it):

- `commands/`: the argument modules (the lab's, the room's, the emulator's). They parse, call one
  action, and print what it returns.
- `actions/`: start, check, hint, reset, solution, doctor, the room's operations. They do the work
  and return what happened; they print nothing.
- `steps/`: the lab's steps, an entry each, in `registry.py`'s order.
- `mechanisms/`: what the entries share (a stage compared with its target, data run, committed
  and pushed, the Pipfile, the grid, the exercise).
- `model/`: what a lab and a room are (the lab's readings, git, DVC's answers, progress, the
  room's records, the emulator).
"""
