"""YAML read through libyaml where PyYAML has it (its wheels for every platform do): the same
documents and the same `yaml.YAMLError`s, about eight times faster. A check parses `dvc.yaml`,
`dvc.lock` and `params.yaml`, at several commits, twenty times or more; in pure Python that was a
tenth of a check at step 6."""

from __future__ import annotations

from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """`yaml.safe_load`, through libyaml."""
    return yaml.load(text, Loader=LOADER)
