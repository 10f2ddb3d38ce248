"""The workshop's GCS emulator: the raw and cache buckets on this laptop (`pipenv run emulator`)."""
