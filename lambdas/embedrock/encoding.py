"""Vectors as they go out in a response: JSON numbers, or base64 of packed bytes.

base64 is what the OpenAI client decodes with `np.frombuffer(base64.b64decode(s), dtype="float32")`:
little-endian float32 for floats; integer embedding types keep their one-byte type.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import numpy as np

PACKED_DTYPES: dict[str, np.dtype[Any]] = {
    "float": np.dtype("<f4"),
    "int8": np.dtype("i1"),
    "binary": np.dtype("i1"),
    "uint8": np.dtype("u1"),
    "ubinary": np.dtype("u1"),
}


def to_lists(vectors: np.ndarray) -> list[list[float]] | list[list[int]]:
    """Python floats for float vectors, ints for integer ones (tolist converts in C)."""
    values: list[list[float]] | list[list[int]] = vectors.tolist()
    return values


def to_base64(vectors: np.ndarray, embedding_type: str = "float") -> list[str]:
    packed = np.ascontiguousarray(vectors, dtype=PACKED_DTYPES[embedding_type])
    # One encode per vector over its raw bytes (buffer protocol): no per-number work.
    return [base64.b64encode(row).decode("ascii") for row in packed]


def encode(
    vectors: np.ndarray, embedding_type: str, encoding: Literal["float", "base64"]
) -> list[list[float]] | list[list[int]] | list[str]:
    if encoding == "base64":
        return to_base64(vectors, embedding_type)
    return to_lists(vectors)


def from_base64(value: str, embedding_type: str = "float") -> np.ndarray:
    """The inverse of to_base64 for one vector (clients and tests)."""
    vector: np.ndarray = np.frombuffer(base64.b64decode(value), dtype=PACKED_DTYPES[embedding_type])
    return vector
