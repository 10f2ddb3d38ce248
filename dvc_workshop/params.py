"""Typed, validated view of `params.yaml`, the single source of every parameter.

DVC tracks `params.yaml` per section, and `dvc exp run -S train.epochs=2` edits it, so the
stages read nothing else. Each stage loads only its own section and checks it before any
heavy work starts: a typo fails in a second with the parameter's name, not after an epoch.
pydantic checks each section (types, ranges, unknown and missing keys); its first complaint
becomes one line that names the parameter. The file is read as YAML 1.2, as DVC reads it (so
`1e-3` is a number whether typed or set by `dvc exp run -S`), and a key given twice is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dvc_workshop.data.digits import IMAGE_SIZE
from dvc_workshop.data.errors import WorkshopError, short

REMOTE_SCHEMES = ("gs://", "remote://", "https://", "http://")


class ParamsError(WorkshopError):
    """A parameter is missing, of the wrong type or out of range."""


class Section(BaseModel):
    """One section of params.yaml: every key required, none unknown, no silent type coercion."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]  # numpy's and TensorFlow's seeds are 32-bit


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


# Upper bounds keep a typo from taking a laptop's memory or its afternoon: each is several times
# what the full MNIST needs, and well inside 8 GB and an hour on two cores.
class TrainParams(Section):
    epochs: int = Field(ge=1, le=100)  # the full MNIST needs 5; 100 take over an hour on 2 cores
    batch_size: int = Field(ge=1, le=4096)  # 4096 images of 26x26 and their maps fit in 1 GB
    learning_rate: float = Field(gt=0, le=1)  # Adam diverges far below 1
    # One convolution block each; 512 maps of the first block, at batch 256, take 300 MB.
    filters: list[Annotated[int, Field(ge=1, le=512)]] = Field(min_length=1, max_length=4)
    dense_units: int = Field(ge=1, le=4096)  # the dense layer's weights stay under 100 MB
    dropout: float = Field(ge=0, lt=1)
    validation_fraction: float = Field(ge=0, le=0.5)  # held out of the training split, never the test split
    seed: Seed


def feature_map_size(image_size: int, filters: list[int]) -> int:
    """The side of the last block's maps, as ml/model.py builds the blocks: each 3x3 convolution
    ("valid") takes 2 pixels, each pooling halves the rest."""
    for _ in filters:
        image_size = (image_size - 2) // 2
    return image_size


def check_crop_fits(crop_size: int, filters: list[int]) -> None:
    """A crop too small for the network's blocks fails in Keras after preprocess has run: say so first."""
    if feature_map_size(crop_size, filters) < 1:
        smallest = next(size for size in range(1, 1000) if feature_map_size(size, filters) >= 1)
        raise ParamsError(
            f"invalid parameter preprocess.crop_size: {crop_size} is too small for {len(filters)} "
            f"convolution blocks (train.filters: {short(filters)}); use at least {smallest}, or fewer blocks"
        )


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
    "too_long": "must have at most {max_length} entries",
    "finite_number": "must be a finite number",
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
    got = "" if error["type"] == "missing" else f", got {short(error['input'])}"
    return f"invalid parameter {name}: {message}{got}"


def parse_section(section: str, raw: Any, cls: type[SectionType]) -> SectionType:
    """Build and validate one section from its YAML mapping."""
    if not isinstance(raw, dict):
        raise ParamsError(f"invalid parameter {section}: expected a mapping of parameters")
    try:
        return cls.model_validate(raw)
    except pydantic.ValidationError as error:
        raise ParamsError(_one_line(section, cls, error.errors()[0])) from None


def load_document(path: Path) -> dict[str, Any]:
    """The whole params file, read as YAML 1.2 (as DVC reads it), duplicate keys refused."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ParamsError(f"params file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise ParamsError(f"{path} is not UTF-8 text (byte {error.start}): save it as UTF-8") from None
    except OSError as error:
        raise ParamsError(f"cannot read {path}: {error.strerror}") from None
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as error:  # a syntax error, a key given twice...
        where = f" (line {error.problem_mark.line + 1})" if error.problem_mark else ""
        raise ParamsError(f"{path} is not valid YAML: {str(error.problem)[:120]}{where}") from None
    except YAMLError as error:
        raise ParamsError(f"{path} is not valid YAML: {str(error).splitlines()[0][:120]}") from None
    if not isinstance(document, dict):
        raise ParamsError(f"{path} is not a mapping of sections (download_mnist:, preprocess:, train:)")
    return document


def load_section(path: Path, section: str, cls: type[SectionType]) -> SectionType:
    """Read `section` of the params file at `path` into a validated `cls`."""
    document = load_document(path)
    if section not in document:
        raise ParamsError(f"{path} has no '{section}' section")
    return parse_section(section, document[section], cls)
