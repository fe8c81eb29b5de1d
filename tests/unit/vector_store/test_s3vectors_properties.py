"""Upserts by id: whatever the order, duplicates or re-runs, the store keeps the last write of each id;
and PutVectors batches keep the documents' order under both the count and the byte limits."""

from __future__ import annotations

import array
import itertools
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedrock.vector_store.model import Collection, Document
from embedrock.vector_store.s3vectors import S3VectorsStore, _batches, _floats, _json_bytes_bound
from tests.fakes import emulated_vector_store

IDS = st.sampled_from(["a", "b", "c", "d", "e"])
# Non-zero first component: S3 Vectors refuses zero vectors in a cosine index.
VECTORS = st.tuples(st.floats(0.5, 10.0), st.floats(-10.0, 10.0))
DOCUMENTS = st.builds(
    lambda id_, vector, text, tag: Document(id_, list(vector), {"tag": tag}, text),
    IDS,
    VECTORS,
    st.one_of(st.none(), st.text(min_size=1, max_size=20)),
    st.integers(0, 3),
)
UPSERTS = st.lists(st.lists(DOCUMENTS, min_size=1, max_size=8), min_size=1, max_size=6)

_names = (f"prop-{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def store() -> Iterator[S3VectorsStore]:
    # One emulator for every example (each gets its own collection): a fresh one per example
    # would spend the run opening databases.
    with tempfile.TemporaryDirectory() as data_dir, emulated_vector_store(Path(data_dir)) as store:
        yield store


@settings(max_examples=25, deadline=None)
@given(upserts=UPSERTS, rerun=st.booleans())
def test_the_last_write_of_each_id_wins(
    store: S3VectorsStore, upserts: list[list[Document]], rerun: bool
) -> None:
    name = next(_names)
    store.create(Collection(name, "amazon.titan-embed-text-v2:0", 2, "cosine"))
    try:
        expected: dict[str, Document] = {}
        for batch in upserts + (upserts if rerun else []):
            store.put(name, batch)
            expected.update({document.id: document for document in batch})
        stored = {d.id: d for d in store.get(name, ["a", "b", "c", "d", "e"], with_vectors=True)}
        assert set(stored) == set(expected)
        for id_, want in expected.items():
            got = stored[id_]
            assert (got.text, dict(got.metadata)) == (want.text, dict(want.metadata))
            assert got.vector is not None and want.vector is not None
            # float32 storage: equal to about 7 significant digits
            assert all(
                math.isclose(g, w, rel_tol=1e-6, abs_tol=1e-6)
                for g, w in zip(got.vector, want.vector, strict=True)
            )
    finally:
        store.delete(name)


ITEMS = st.lists(
    st.builds(
        lambda n, size: {"key": f"k{n}", "data": {"float32": [0.5] * size}},
        st.integers(0, 10**6),
        st.integers(1, 60),
    ),
    max_size=120,
)


@settings(max_examples=60, deadline=None)
@given(items=ITEMS, most=st.integers(1, 40), max_bytes=st.integers(200, 3000))
def test_batches_keep_order_and_both_limits(items: list[dict[str, Any]], most: int, max_bytes: int) -> None:
    batches = list(_batches(items, most, max_bytes))
    assert [item for batch in batches for item in batch] == items
    for batch in batches:
        assert 1 <= len(batch) <= most
        # An item too big for any request goes alone (the service then refuses it, naming it)
        assert len(batch) == 1 or len(json.dumps(batch).encode()) <= max_bytes


def _exact_batches(items: list[dict[str, Any]], most: int, max_bytes: int) -> list[list[dict[str, Any]]]:
    """The batching by every item's exact JSON size, written the plain way, to compare with."""
    batches: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_bytes = len(json.dumps(item).encode()) + 2
        if batch and (len(batch) == most or size + item_bytes > max_bytes):
            batches.append(batch)
            batch, size = [], 0
        batch.append(item)
        size += item_bytes
    return [*batches, batch] if batch else batches


# Any float, the longest reprs included (-2.2250738585072014e-308), and metadata of any size.
FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([-2.2250738585072014e-308, 0.5])
VARIED_ITEMS = st.lists(
    st.builds(
        lambda n, floats, note: {"key": f"k{n}", "data": {"float32": floats}, "metadata": {"note": note}},
        st.integers(0, 10**6),
        st.lists(FLOATS, min_size=1, max_size=40),
        st.text(max_size=60),
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(items=VARIED_ITEMS, most=st.integers(1, 30), max_bytes=st.integers(100, 6000))
def test_batches_cut_where_exact_sizes_would(items: list[dict[str, Any]], most: int, max_bytes: int) -> None:
    # Sizing by bounds until a batch nears the limit must not change where batches are cut.
    assert list(_batches(items, most, max_bytes)) == _exact_batches(items, most, max_bytes)


def test_float_bound_holds_for_the_longest_reprs() -> None:
    longest = [
        -2.2250738585072014e-308,
        -1.7976931348623157e308,
        -1.1754943508222875e-38,
        -0.00012345678901234567,
    ]
    item = {"key": "k", "data": {"float32": longest}}
    assert _json_bytes_bound(item) >= len(json.dumps(item).encode())


def test_vectors_are_sent_as_json_numbers_whatever_sequence_holds_them() -> None:
    row = np.array([0.5, -1.25], dtype=np.float32)
    as_list = [0.5, 1.0]
    assert _floats(as_list) is as_list  # sent as it is: no copy of every float
    converted = [_floats(row), _floats((0.5, 1)), _floats(array.array("f", [0.5, 2.0]))]
    assert converted == [[0.5, -1.25], [0.5, 1.0], [0.5, 2.0]]
    assert all(type(x) is float for values in converted for x in values)
