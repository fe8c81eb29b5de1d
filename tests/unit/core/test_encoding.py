"""encoding.py: JSON lists keep the numeric kind; base64 is packed little-endian bytes."""

from __future__ import annotations

import base64
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from embedrock import encoding


def test_float_vectors_become_python_floats() -> None:
    # Given float64 vectors
    vectors = np.array([[0.5, -1.25], [2.0, 0.0]])

    # When encoded as JSON lists
    lists = encoding.encode(vectors, "float", "float")

    # Then they are plain floats, row by row
    assert lists == [[0.5, -1.25], [2.0, 0.0]]
    assert all(type(value) is float for row in lists for value in row)


def test_integer_vectors_stay_integers() -> None:
    # Given int8 vectors (as Cohere returns them)
    vectors = np.array([[-128, 0, 127]], dtype=np.int8)

    # When encoded as JSON lists
    lists = encoding.encode(vectors, "int8", "float")

    # Then they are ints, not 1.0-style floats
    assert lists == [[-128, 0, 127]]
    assert all(type(value) is int for value in lists[0])


def test_base64_float_is_little_endian_float32_bytes() -> None:
    # Given one vector
    vectors = np.array([[1.0, -2.5, 0.1]])

    # When encoded as base64
    (encoded,) = encoding.to_base64(vectors)

    # Then it is exactly the float32 little-endian bytes, as OpenAI's client decodes them
    assert base64.b64decode(encoded) == struct.pack("<3f", 1.0, -2.5, 0.1)
    np.testing.assert_array_equal(
        np.frombuffer(base64.b64decode(encoded), dtype="float32"),
        np.array([1.0, -2.5, 0.1], dtype=np.float32),
    )


@pytest.mark.parametrize(("embedding_type", "dtype"), [("int8", "i1"), ("binary", "i1"), ("uint8", "u1")])
def test_base64_integer_types_keep_one_byte_per_value(embedding_type: str, dtype: str) -> None:
    # Given integer vectors
    vectors = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], dtype=dtype)

    # When encoded as base64
    encoded = encoding.encode(vectors, embedding_type, "base64")

    # Then each row is its own bytes, decodable with the same type
    assert [len(base64.b64decode(item)) for item in encoded] == [4, 4]  # type: ignore[arg-type]
    np.testing.assert_array_equal(encoding.from_base64(encoded[1], embedding_type), [5, 6, 7, 8])  # type: ignore[arg-type]


@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 40)), elements=st.floats(-1e6, 1e6)))
def test_base64_round_trips_at_float32_precision(vectors: np.ndarray) -> None:
    # Given any finite vectors
    # When they go through base64 and back
    decoded = [encoding.from_base64(item) for item in encoding.to_base64(vectors)]

    # Then they equal the float32 rounding of the input
    np.testing.assert_array_equal(np.stack(decoded), vectors.astype(np.float32))
