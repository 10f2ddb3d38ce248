"""The IDX format of the original MNIST files, parsed and written with numpy alone.

Parsing is a pure function of the file's bytes, so every way a download can go wrong
(wrong magic, truncated data, a header that lies) is unit-tested without any file I/O.
Layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the values in C order. MNIST uses only type 0x08 (unsigned byte).
"""

from __future__ import annotations

import struct

import numpy as np

from dvc_workshop.data.digits import IMAGE_SIZE
from dvc_workshop.data.errors import WorkshopError

UNSIGNED_BYTE = 0x08
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions: count x rows x columns
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension: count


class IdxError(WorkshopError, ValueError):
    """The bytes are not the IDX file they claim to be."""


def parse_idx(data: bytes, expected_magic: int) -> np.ndarray:
    """Decode an IDX file's bytes into a uint8 array, checking the header against the data."""
    if len(data) < 4:
        raise IdxError(f"too short for an IDX header ({len(data)} bytes)")
    (magic,) = struct.unpack(">I", data[:4])
    if magic != expected_magic:
        raise IdxError(f"wrong magic number 0x{magic:08x}, expected 0x{expected_magic:08x}")
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxError(f"header cut short: {len(data)} bytes, need {header_size} for {ndim} dimensions")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    expected_size = header_size + int(np.prod(shape, dtype=np.int64))
    if len(data) < expected_size:
        raise IdxError(
            f"truncated: header promises shape {shape} ({expected_size} bytes), file has {len(data)}"
        )
    if len(data) > expected_size:
        raise IdxError(f"{len(data) - expected_size} unexpected bytes after the data of shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of a uint8 array (the inverse of `parse_idx`)."""
    if array.dtype != np.uint8:
        raise ValueError(f"IDX writing supports uint8 only, got {array.dtype}")
    header = struct.pack(f">I{array.ndim}I", (UNSIGNED_BYTE << 8) | array.ndim, *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def check_pair(images: np.ndarray, labels: np.ndarray) -> None:
    """Check that an images file and its labels file describe the same MNIST digits."""
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise IdxError(f"images are {images.shape[1]}x{images.shape[2]}, expected {IMAGE_SIZE}x{IMAGE_SIZE}")
    if len(images) != len(labels):
        raise IdxError(f"{len(images)} images but {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise IdxError(f"label {int(labels.max())} is not a digit 0-9")
