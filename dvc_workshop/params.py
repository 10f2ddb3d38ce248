"""Typed, validated view of `params.yaml`, the single source of every parameter.

DVC tracks `params.yaml` per section, and `dvc exp run -S train.epochs=2` edits it, so the
stages read nothing else. Each stage loads only its own section and checks it before any
heavy work starts: a typo fails in a second with the parameter's name, not after an epoch.
pydantic checks each section (types, ranges, unknown and missing keys); its first complaint
becomes one line that names the parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dvc_workshop.cli import WorkshopError
from dvc_workshop.data.digits import IMAGE_SIZE

SAMPLE_SUFFIXES = (".yaml", ".yml")  # a source file describing a sample that a package ships
REMOTE_SCHEMES = ("gs://", "remote://", "https://", "http://")


class ParamsError(WorkshopError):
    """A parameter is missing, of the wrong type or out of range."""


class Section(BaseModel):
    """One section of params.yaml: every key required, none unknown, no silent type coercion."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


Seed = Annotated[int, Field(ge=0)]


class DownloadParams(Section):
    source: str  # a sample description (.yaml), or where the four IDX .gz files are
    test_fraction: float = Field(gt=0, lt=1)  # sample only: stratified share held out for testing
    limit_per_split: int | None = Field(ge=1)  # keep only the first N images of each split
    seed: Seed

    @field_validator("source")
    @classmethod
    def known_source(cls, source: str) -> str:
        if not source.strip():
            raise ValueError("must not be empty")
        if "://" in source and not source.startswith(REMOTE_SCHEMES):
            raise ValueError(
                f"unknown source {source!r}; use a sample .yaml, a local folder, "
                "gs://..., remote://<dvc remote>/... or https://..."
            )
        return source


class PreprocessParams(Section):
    max_rotation: float = Field(ge=0, le=180)  # training images turn by up to this many degrees
    crop_size: int = Field(ge=1, le=IMAGE_SIZE)  # side of the centred square kept from each image
    seed: Seed


class TrainParams(Section):
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    filters: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)  # one convolution block each
    dense_units: int = Field(ge=1)
    dropout: float = Field(ge=0, lt=1)
    validation_fraction: float = Field(ge=0, lt=1)  # held out of the training split, never the test split
    seed: Seed


# pydantic's error types, in the words of the one-line `invalid parameter ...` messages.
MESSAGES = {
    "missing": "missing",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "too_short": "must not be empty",
}

SectionType = TypeVar("SectionType", DownloadParams, PreprocessParams, TrainParams)


def _one_line(section: str, cls: type[Section], error: dict[str, Any]) -> str:
    """The first problem pydantic found, as `invalid parameter <section.name>: <what is wrong>`."""
    name = ".".join([section, *map(str, error["loc"])])
    if error["type"] == "extra_forbidden":
        return f"invalid parameter {name}: unknown parameter (expected one of: {', '.join(cls.model_fields)})"
    if error["type"] == "value_error":
        return f"invalid parameter {name}: {error['ctx']['error']}"
    template = MESSAGES.get(error["type"], error["msg"])
    message = template.format(**error.get("ctx", {}))
    got = "" if error["type"] == "missing" else f", got {error['input']!r}"
    return f"invalid parameter {name}: {message}{got}"


def parse_section(section: str, raw: Any, cls: type[SectionType]) -> SectionType:
    """Build and validate one section from its YAML mapping."""
    if not isinstance(raw, dict):
        raise ParamsError(f"invalid parameter {section}: expected a mapping of parameters")
    try:
        return cls.model_validate(raw)
    except pydantic.ValidationError as error:
        raise ParamsError(_one_line(section, cls, error.errors()[0])) from None


def load_section(path: Path, section: str, cls: type[SectionType]) -> SectionType:
    """Read `section` of the params file at `path` into a validated `cls`."""
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"params file not found: {path}") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(document, dict) or section not in document:
        raise ParamsError(f"{path} has no '{section}' section")
    return parse_section(section, document[section], cls)
