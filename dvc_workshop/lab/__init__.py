"""The workshop tool: start a lab, check it, catch up a step; the steps registry; the GCS emulator."""
