"""What the commands do: each action takes its arguments, does the work on a lab or a room, and
returns what happened (lines to say, a verdict, a table's data). Nothing here prints."""
