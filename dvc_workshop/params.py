"""Typed, validated view of `params.yaml`, the single source of every parameter.

DVC tracks `params.yaml` per section, and `dvc exp run -S train.epochs=2` edits it, so the
stages read nothing else. Each stage loads only its own section and checks it before any
heavy work starts: a typo fails in a second with the parameter's name, not after an epoch.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from dvc_workshop.cli import WorkshopError

IMAGE_SIZE = 28  # MNIST images are 28x28 pixels
SAMPLE_SUFFIXES = (".yaml", ".yml")  # a source file describing a sample that a package ships
REMOTE_SCHEMES = ("gs://", "remote://", "https://", "http://")


class ParamsError(WorkshopError):
    """A parameter is missing, of the wrong type or out of range."""


@dataclass(frozen=True)
class DownloadParams:
    source: str  # a sample description (.yaml), or where the four IDX .gz files are
    test_fraction: float  # sample only: stratified share of images held out for testing
    limit_per_split: int | None  # keep only the first N images of each split (quick runs)
    seed: int

    def validate(self) -> None:
        if "://" in self.source and not self.source.startswith(REMOTE_SCHEMES):
            _fail(
                "download_mnist.source",
                f"unknown source {self.source!r}; use a sample .yaml, a local folder, "
                "gs://..., remote://<dvc remote>/... or https://...",
            )
        if not self.source.strip():
            _fail("download_mnist.source", "must not be empty")
        _check_range("download_mnist.test_fraction", self.test_fraction, 0, 1, low_open=True, high_open=True)
        if self.limit_per_split is not None and self.limit_per_split < 1:
            _fail("download_mnist.limit_per_split", f"must be at least 1 or null, got {self.limit_per_split}")
        _check_seed("download_mnist.seed", self.seed)


@dataclass(frozen=True)
class PreprocessParams:
    max_rotation: float  # training images turn by a random angle in [-max, +max] degrees
    crop_size: int  # side of the centred square kept from each 28x28 image
    seed: int

    def validate(self) -> None:
        _check_range("preprocess.max_rotation", self.max_rotation, 0, 180)
        if not 1 <= self.crop_size <= IMAGE_SIZE:
            _fail(
                "preprocess.crop_size",
                f"must be between 1 and the image size {IMAGE_SIZE}, got {self.crop_size}",
            )
        _check_seed("preprocess.seed", self.seed)


@dataclass(frozen=True)
class TrainParams:
    epochs: int
    batch_size: int
    learning_rate: float
    filters: list[int]  # one convolution block per entry
    dense_units: int
    dropout: float
    validation_fraction: float  # held out of the training split, never from the test split
    seed: int

    def validate(self) -> None:
        for name in ("epochs", "batch_size", "dense_units"):
            if getattr(self, name) < 1:
                _fail(f"train.{name}", f"must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            _fail("train.learning_rate", f"must be positive, got {self.learning_rate}")
        if not self.filters or any(f < 1 for f in self.filters):
            _fail("train.filters", f"must be a non-empty list of positive integers, got {self.filters}")
        _check_range("train.dropout", self.dropout, 0, 1, high_open=True)
        _check_range("train.validation_fraction", self.validation_fraction, 0, 1, high_open=True)
        _check_seed("train.seed", self.seed)


def _fail(name: str, message: str) -> typing.NoReturn:
    raise ParamsError(f"invalid parameter {name}: {message}")


def _check_seed(name: str, seed: int) -> None:
    if seed < 0:
        _fail(name, f"must be a non-negative integer, got {seed}")


def _check_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> None:
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        _fail(name, f"must be in {interval}, got {value}")


def _matches(value: Any, annotation: Any) -> bool:
    """Whether a YAML value fits a field's annotation (no silent coercion, bools are not ints)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


_TYPE_NAMES = {"int": "an integer", "float": "a number", "str": "a string"}

Section = TypeVar("Section", DownloadParams, PreprocessParams, TrainParams)


def parse_section(section: str, raw: Any, cls: type[Section]) -> Section:
    """Build and validate one section from its YAML mapping."""
    if not isinstance(raw, dict):
        raise ParamsError(f"invalid parameter {section}: expected a mapping of parameters")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        _fail(f"{section}.{unknown[0]}", f"unknown parameter (expected one of: {', '.join(names)})")
    for name in names:
        if name not in raw:
            _fail(f"{section}.{name}", "missing")
        if not _matches(raw[name], hints[name]):
            expected = _TYPE_NAMES.get(getattr(hints[name], "__name__", ""), str(hints[name]))
            _fail(f"{section}.{name}", f"expected {expected}, got {raw[name]!r}")
    params = cls(**{name: raw[name] for name in names})
    params.validate()
    return params


def load_section(path: Path, section: str, cls: type[Section]) -> Section:
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
