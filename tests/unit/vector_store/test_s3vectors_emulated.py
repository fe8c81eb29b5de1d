"""The S3 Vectors adapter's behaviour over the emulator's in-process backend (sockets blocked)."""

from __future__ import annotations

import math

import pytest

from embedrock.errors import Conflict, InvalidRequest, NotFound
from embedrock.vector_store import limits
from embedrock.vector_store.model import Collection, Document, Query
from embedrock.vector_store.s3vectors import S3VectorsStore

DOCS = Collection(name="docs", model="amazon.titan-embed-text-v2:0", dimensions=3, metric="cosine")


def doc(id_: str, vector: list[float], text: str | None = None, **metadata: object) -> Document:
    return Document(id_, vector, metadata, text)


def test_create_answers_the_collection_with_its_creation_time(vector_store: S3VectorsStore) -> None:
    created = vector_store.create(DOCS)
    assert (created.name, created.model, created.dimensions, created.metric) == (
        "docs",
        "amazon.titan-embed-text-v2:0",
        3,
        "cosine",
    )
    assert created.text_language is None and created.created_at is not None


def test_a_second_collection_of_a_name_is_a_conflict_naming_it(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    with pytest.raises(Conflict) as caught:
        vector_store.create(DOCS)
    assert caught.value.code == "collection_exists" and "docs" in caught.value.message


def test_a_missing_collection_is_not_found_naming_it(vector_store: S3VectorsStore) -> None:
    with pytest.raises(NotFound) as caught:
        vector_store.put("nowhere", [doc("a", [1.0, 0.0, 0.0])])
    assert caught.value.code == "collection_not_found" and "nowhere" in caught.value.message
    assert caught.value.status == 404 and caught.value.param == "name"


def test_put_then_get_round_trips_text_metadata_and_vectors(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    report = vector_store.put(
        "docs",
        [doc("a", [1.0, 0.0, 0.0], "first", lang="en"), doc("b", [0.0, 1.0, 0.0], None, tags=["x", "y"])],
    )
    assert (report.documents, report.calls) == (2, 1)
    got = vector_store.get("docs", ["b", "missing", "a"], with_vectors=True)
    assert [d.id for d in got] == ["b", "a"]
    b, a = got
    assert (a.text, dict(a.metadata)) == ("first", {"lang": "en"})
    assert (b.text, dict(b.metadata)) == (None, {"tags": ["x", "y"]})
    assert a.vector is not None and [pytest.approx(x) for x in a.vector] == [1.0, 0.0, 0.0]
    # Without vectors asked, none come back
    assert [d.vector for d in vector_store.get("docs", ["a"])] == [None]


def test_get_pages_past_the_get_limit_in_the_order_asked(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    ids = [f"id-{i:03d}" for i in range(limits.GET_MAX + 20)]
    vector_store.put("docs", [doc(i, [1.0, float(n), 0.5]) for n, i in enumerate(ids)])
    asked = list(reversed(ids))
    assert [d.id for d in vector_store.get("docs", asked)] == asked


def test_query_ranks_by_the_index_metric_and_splits_the_text_back(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    vector_store.put(
        "docs",
        [
            doc("near", [1.0, 0.1, 0.0], "close by", kind="a"),
            doc("far", [-1.0, 0.0, 0.0], "opposite", kind="b"),
            doc("side", [0.0, 1.0, 0.0], "orthogonal", kind="a"),
        ],
    )
    matches = vector_store.query("docs", Query(top_k=3, vector=[1.0, 0.0, 0.0]))
    assert [m.id for m in matches] == ["near", "side", "far"]
    near = matches[0]
    assert near.text == "close by" and dict(near.metadata) == {"kind": "a"}
    assert near.distance is not None and math.isclose(near.distance, 1 - 1 / math.sqrt(1.01), abs_tol=1e-5)


def test_query_filters_pass_through_to_the_service(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    vector_store.put(
        "docs",
        [
            doc("a1", [1.0, 0.0, 0.0], kind="a", year=2020),
            doc("a2", [0.9, 0.1, 0.0], kind="a", year=2024),
            doc("b1", [1.0, 0.0, 0.1], kind="b", year=2024),
        ],
    )
    found = vector_store.query(
        "docs",
        Query(top_k=5, vector=[1.0, 0.0, 0.0], filter={"$and": [{"kind": "a"}, {"year": {"$gte": 2021}}]}),
    )
    assert [m.id for m in found] == ["a2"]


def test_a_filter_on_the_text_key_is_refused_by_the_service(vector_store: S3VectorsStore) -> None:
    # The text is non-filterable metadata: S3 Vectors refuses a filter on it, and so does the emulator.
    vector_store.create(DOCS)
    vector_store.put("docs", [doc("a", [1.0, 0.0, 0.0], "text")])
    with pytest.raises(InvalidRequest) as caught:
        vector_store.query("docs", Query(top_k=1, vector=[1.0, 0.0, 0.0], filter={"_text": "text"}))
    assert caught.value.code == "vector_store_validation" and "docs" in caught.value.message


def test_put_is_idempotent_and_the_last_write_of_an_id_wins(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    first = [doc("a", [1.0, 0.0, 0.0], "one"), doc("a", [0.0, 1.0, 0.0], "two"), doc("b", [0.0, 0.0, 1.0])]
    assert vector_store.put("docs", first).documents == 2
    vector_store.put("docs", first)
    got = vector_store.get("docs", ["a", "b"], with_vectors=True)
    assert [(d.id, d.text) for d in got] == [("a", "two"), ("b", None)]
    assert got[0].vector is not None and [round(x, 6) for x in got[0].vector] == [0.0, 1.0, 0.0]


def test_delete_documents_removes_them_and_counts_each_once(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    vector_store.put("docs", [doc(i, [1.0, 0.0, 0.0]) for i in "abc"])
    report = vector_store.delete_documents("docs", ["a", "c", "a"])
    assert (report.documents, report.calls) == (2, 1)
    assert [d.id for d in vector_store.get("docs", ["a", "b", "c"])] == ["b"]


def test_delete_removes_the_collection(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    vector_store.delete("docs")
    with pytest.raises(NotFound):
        vector_store.delete("docs")


def test_reserved_metadata_keys_and_missing_vectors_are_refused_before_any_call(
    vector_store: S3VectorsStore,
) -> None:
    vector_store.create(DOCS)
    with pytest.raises(InvalidRequest) as reserved:
        vector_store.put("docs", [doc("a", [1.0, 0.0, 0.0]), doc("b", [1.0, 0.0, 0.0], _text="sneaky")])
    assert reserved.value.param == "documents[1].metadata" and "_text" in reserved.value.message
    with pytest.raises(InvalidRequest) as vectorless:
        vector_store.put("docs", [Document("a", None)])
    assert vectorless.value.param == "documents[0]"
    assert vector_store.get("docs", ["a", "b"]) == []


def test_a_query_needs_a_vector_or_a_text(vector_store: S3VectorsStore) -> None:
    with pytest.raises(InvalidRequest) as caught:
        vector_store.query("docs", Query(top_k=1))
    assert caught.value.param == "query"


def test_describe_and_list_read_back_model_metric_and_text_language(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    searched = Collection("papers", "cohere.embed-v4:0", 4, "euclidean", text_language="en")
    vector_store.create(searched)
    described = vector_store.describe("papers")
    assert (described.model, described.dimensions, described.metric, described.text_language) == (
        "cohere.embed-v4:0",
        4,
        "euclidean",
        "en",
    )
    assert [(c.name, c.model, c.text_language) for c in vector_store.collections()] == [
        ("docs", "amazon.titan-embed-text-v2:0", None),
        ("papers", "cohere.embed-v4:0", "en"),
    ]
    with pytest.raises(NotFound) as caught:
        vector_store.describe("absent")
    assert caught.value.code == "collection_not_found"


SEARCHED = Collection("papers", "amazon.titan-embed-text-v2:0", 3, "cosine", text_language="en")


def test_text_search_ranks_by_bm25_over_the_documents_text(vector_store: S3VectorsStore) -> None:
    vector_store.create(SEARCHED)
    vector_store.put(
        "papers",
        [
            doc("cats", [1.0, 0.0, 0.0], "cats chase mice and cats sleep", kind="pets"),
            doc("dogs", [0.0, 1.0, 0.0], "dogs fetch sticks", kind="pets"),
            doc("stocks", [0.0, 0.0, 1.0], "markets and stocks fell", kind="money"),
        ],
    )
    matches = vector_store.query("papers", Query(top_k=3, text="cats"))
    assert [m.id for m in matches] == ["cats"]
    (cats,) = matches
    assert cats.distance is None and cats.scores["bm25"] > 0 and cats.text == "cats chase mice and cats sleep"
    assert dict(cats.metadata) == {"kind": "pets"}


def test_hybrid_search_fuses_text_and_vector_ranks(vector_store: S3VectorsStore) -> None:
    vector_store.create(SEARCHED)
    vector_store.put(
        "papers",
        [
            doc("cats", [1.0, 0.0, 0.0], "cats chase mice"),
            doc("dogs", [0.0, 1.0, 0.0], "dogs fetch sticks"),
            doc("both", [0.7, 0.7, 0.0], "cats and dogs"),
        ],
    )
    matches = vector_store.query("papers", Query(top_k=3, vector=[0.0, 1.0, 0.0], text="cats"))
    assert {m.id for m in matches} == {"cats", "dogs", "both"}
    # "both" is second by vector and first by text (its text is the shorter): fused, it leads
    assert matches[0].id == "both" and "fused" in matches[0].scores
    assert all(m.distance is not None for m in matches)


def test_text_search_on_a_collection_without_it_is_refused(vector_store: S3VectorsStore) -> None:
    vector_store.create(DOCS)
    vector_store.put("docs", [doc("a", [1.0, 0.0, 0.0], "words")])
    with pytest.raises(InvalidRequest) as caught:
        vector_store.query("docs", Query(top_k=1, text="words"))
    assert caught.value.status == 400 and "docs" in caught.value.message
