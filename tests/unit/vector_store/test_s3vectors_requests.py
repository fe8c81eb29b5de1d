"""The exact S3 Vectors requests the adapter sends, checked by botocore's Stubber against the
service model (members, types and required fields), and what it makes of the answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import ANY, Stubber

from embedrock.errors import ApiError
from embedrock.vector_store import limits
from embedrock.vector_store.model import MODEL_TAG, TEXT_KEY, Collection, Document, Match, Query, WriteReport
from embedrock.vector_store.pacing import WritePacer
from embedrock.vector_store.s3vectors import S3VectorsStore
from tests.fakes import FakeClock, RawBody

BUCKET = "team-vectors"
ARN = f"arn:aws:s3vectors:us-east-1:123456789012:bucket/{BUCKET}/index/docs"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def index(name: str = "docs", *, language: str | None = None) -> dict[str, Any]:
    configuration: dict[str, Any] = {"nonFilterableMetadataKeys": [TEXT_KEY]}
    if language:
        configuration["textSearchConfigurations"] = [
            {"metadataKey": TEXT_KEY, "language": language, "status": "ACTIVE"}
        ]
    return {
        "index": {
            "vectorBucketName": BUCKET,
            "indexName": name,
            "indexArn": ARN.replace("/docs", f"/{name}"),
            "creationTime": CREATED,
            "dataType": "float32",
            "dimension": 512,
            "distanceMetric": "euclidean",
            "metadataConfiguration": configuration,
        }
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stubbed(clock: FakeClock) -> Iterator[tuple[S3VectorsStore, Stubber]]:
    client = boto3.client(
        "s3vectors", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield S3VectorsStore(client, BUCKET, clock=clock, sleep=clock.sleep), stubber
        stubber.assert_no_pending_responses()


def test_create_sends_the_layout_text_search_and_model_tag(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    stub.add_response(
        "create_index",
        {"indexArn": ARN},
        {
            "vectorBucketName": BUCKET,
            "indexName": "docs",
            "dataType": "float32",
            "dimension": 512,
            "distanceMetric": "euclidean",
            "metadataConfiguration": {
                "nonFilterableMetadataKeys": [TEXT_KEY],
                "textSearchConfigurations": [{"metadataKey": TEXT_KEY, "language": "fr"}],
            },
            "tags": {MODEL_TAG: "cohere.embed-v4:0"},
        },
    )
    stub.add_response("get_index", index(language="fr"), {"vectorBucketName": BUCKET, "indexName": "docs"})
    created = store.create(Collection("docs", "cohere.embed-v4:0", 512, "euclidean", text_language="fr"))
    assert created == Collection("docs", "cohere.embed-v4:0", 512, "euclidean", "fr", CREATED)


def test_create_without_text_search_sends_no_text_configuration(
    stubbed: tuple[S3VectorsStore, Stubber],
) -> None:
    store, stub = stubbed
    stub.add_response(
        "create_index",
        {"indexArn": ARN},
        {
            "vectorBucketName": BUCKET,
            "indexName": "docs",
            "dataType": "float32",
            "dimension": 512,
            "distanceMetric": "euclidean",
            "metadataConfiguration": {"nonFilterableMetadataKeys": [TEXT_KEY]},
            "tags": {MODEL_TAG: "amazon.titan-embed-text-v2:0"},
        },
    )
    stub.add_response("get_index", index(), {"vectorBucketName": BUCKET, "indexName": "docs"})
    created = store.create(Collection("docs", "amazon.titan-embed-text-v2:0", 512, "euclidean"))
    assert created.text_language is None


def test_describe_reads_the_index_and_its_model_tag(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    stub.add_response("get_index", index(language="en"), {"vectorBucketName": BUCKET, "indexName": "docs"})
    stub.add_response(
        "list_tags_for_resource",
        {"tags": {MODEL_TAG: "cohere.embed-v4:0", "team": "x"}},
        {"resourceArn": ARN},
    )
    assert store.describe("docs") == Collection("docs", "cohere.embed-v4:0", 512, "euclidean", "en", CREATED)


def test_collections_pages_through_list_indexes_and_describes_each(
    stubbed: tuple[S3VectorsStore, Stubber],
) -> None:
    store, stub = stubbed
    summary = {"vectorBucketName": BUCKET, "indexArn": ARN, "creationTime": CREATED}
    stub.add_response(
        "list_indexes",
        {"indexes": [{**summary, "indexName": "one"}], "nextToken": "page-2"},
        {"vectorBucketName": BUCKET, "maxResults": 500},
    )
    stub.add_response(
        "list_indexes",
        {"indexes": [{**summary, "indexName": "two"}]},
        {"vectorBucketName": BUCKET, "maxResults": 500, "nextToken": "page-2"},
    )
    for name in ("one", "two"):
        stub.add_response("get_index", index(name), {"vectorBucketName": BUCKET, "indexName": name})
        stub.add_response(
            "list_tags_for_resource", {"tags": {MODEL_TAG: f"model-{name}"}}, {"resourceArn": ANY}
        )
    assert [(c.name, c.model) for c in store.collections()] == [("one", "model-one"), ("two", "model-two")]


def docs(count: int, dimensions: int = 4, **metadata: Any) -> list[Document]:
    return [Document(f"doc-{i}", [0.25] * dimensions, metadata, f"text {i}") for i in range(count)]


def put_params(keys: list[str]) -> dict[str, Any]:
    return {"vectorBucketName": BUCKET, "indexName": "docs", "vectors": _Keys(keys)}


class _Keys:
    """Matches a PutVectors `vectors` list by its keys, in order (Stubber compares with ==)."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and [item["key"] for item in other] == self.keys

    def __hash__(self) -> int:
        return hash(tuple(self.keys))

    def __repr__(self) -> str:
        return f"vectors with keys {self.keys}"


def test_put_sends_the_vector_its_text_and_metadata(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    stub.add_response(
        "put_vectors",
        {},
        {
            "vectorBucketName": BUCKET,
            "indexName": "docs",
            "vectors": [
                {"key": "a", "data": {"float32": [0.5, 1.0]}, "metadata": {"lang": "en", TEXT_KEY: "hello"}},
                {"key": "b", "data": {"float32": [1.0, 0.0]}},
            ],
        },
    )
    report = store.put("docs", [Document("a", (0.5, 1), {"lang": "en"}, "hello"), Document("b", [1.0, 0.0])])
    assert report == WriteReport(documents=2, calls=1)


def test_put_batches_at_most_500_vectors_a_call(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    keys = [f"doc-{i}" for i in range(1201)]
    for start in (0, 500, 1000):
        stub.add_response("put_vectors", {}, put_params(keys[start : start + limits.PUT_MAX]))
    assert store.put("docs", docs(1201)) == WriteReport(documents=1201, calls=3)


def test_put_batches_under_the_request_byte_limit(clock: FakeClock) -> None:
    client = boto3.client(
        "s3vectors", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    sent: list[int] = []

    def measure(request: Any, **_: Any) -> None:
        sent.append(len(request.body))

    client.meta.events.register("before-send.s3vectors.PutVectors", _answer_with(measure))
    assert limits.REQUEST_BYTES_MAX == 20 * 1024 * 1024
    # 2,048 dimensions and 30 KB of text each: about 57 KB a document as JSON, 400 of them ~23 MB
    big = [Document(f"doc-{i}", [0.123456789] * 2048, {}, "x" * 30_000) for i in range(400)]
    store = S3VectorsStore(client, BUCKET, clock=clock, sleep=clock.sleep)
    report = store.put("docs", big)
    assert report.documents == 400 and report.calls == len(sent) == 2
    assert all(size <= limits.REQUEST_BYTES_MAX for size in sent)
    # A smaller limit makes more, smaller calls
    small = S3VectorsStore(client, BUCKET, max_request_bytes=600_000, clock=clock, sleep=clock.sleep)
    sent.clear()
    assert small.put("docs", big[:50]).calls == len(sent) == 5
    assert all(size <= 600_000 for size in sent)


def _answer_with(record: Any) -> Any:
    """A before-send hook that records the request and answers 200 {} without any network."""

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        record(request, **kwargs)
        return AWSResponse(request.url, 200, {}, RawBody(b"{}"))

    return answer


def test_writes_are_paced_under_the_index_vector_rate(
    stubbed: tuple[S3VectorsStore, Stubber], clock: FakeClock
) -> None:
    # 2,500 vectors a second per index: the sixth batch of 500 waits for the first to leave the window
    store, stub = stubbed
    keys = [f"doc-{i}" for i in range(3000)]
    for start in range(0, 3000, 500):
        stub.add_response("put_vectors", {}, put_params(keys[start : start + 500]))
    started = clock.now
    store.put("docs", docs(3000))
    assert len(clock.slept) == 1 and clock.now - started == pytest.approx(1.0)


def test_writes_are_paced_under_the_index_request_rate(clock: FakeClock) -> None:
    pacer = WritePacer(clock=clock, sleep=clock.sleep)
    for _ in range(limits.WRITE_REQUESTS_PER_SECOND):
        pacer.wait("docs", 1)
    assert clock.slept == []
    pacer.wait("docs", 1)
    assert clock.slept == [pytest.approx(1.0)]
    # Another index has its own budget
    pacer.wait("other", limits.WRITE_VECTORS_PER_SECOND)
    assert len(clock.slept) == 1


def test_get_asks_metadata_and_data_only_when_wanted(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    stub.add_response(
        "get_vectors",
        {
            "vectors": [
                {"key": "b", "data": {"float32": [1.0]}, "metadata": {TEXT_KEY: "bee", "n": 2}},
                {"key": "a", "data": {"float32": [0.5]}},
            ]
        },
        {
            "vectorBucketName": BUCKET,
            "indexName": "docs",
            "keys": ["a", "b", "c"],
            "returnData": True,
            "returnMetadata": True,
        },
    )
    got = store.get("docs", ["a", "b", "a", "c"], with_vectors=True)
    assert got == [Document("a", [0.5], {}, None), Document("b", [1.0], {"n": 2}, "bee")]


def test_get_and_delete_split_at_their_limits(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    keys = [f"k{i}" for i in range(250)]
    for start in (0, 100, 200):
        stub.add_response(
            "get_vectors",
            {"vectors": []},
            {
                "vectorBucketName": BUCKET,
                "indexName": "docs",
                "keys": keys[start : start + limits.GET_MAX],
                "returnData": False,
                "returnMetadata": True,
            },
        )
    assert store.get("docs", keys) == []
    many = [f"k{i}" for i in range(501)]
    for batch in (many[:500], many[500:]):
        stub.add_response(
            "delete_vectors", {}, {"vectorBucketName": BUCKET, "indexName": "docs", "keys": batch}
        )
    assert store.delete_documents("docs", many) == WriteReport(documents=501, calls=2)


def test_a_vector_query_sends_topk_vector_filter_and_asks_distances(
    stubbed: tuple[S3VectorsStore, Stubber],
) -> None:
    store, stub = stubbed
    stub.add_response(
        "query_vectors",
        {
            "vectors": [{"key": "a", "distance": 0.125, "metadata": {TEXT_KEY: "alpha", "kind": "x"}}],
            "distanceMetric": "cosine",
        },
        {
            "vectorBucketName": BUCKET,
            "indexName": "docs",
            "topK": 7,
            "queryVector": {"float32": [0.0, 1.0]},
            "filter": {"kind": {"$in": ["x", "y"]}},
            "returnMetadata": True,
            "returnDistance": True,
        },
    )
    matches = store.query("docs", Query(top_k=7, vector=[0, 1], filter={"kind": {"$in": ["x", "y"]}}))
    assert matches == [Match("a", 0.125, {}, {"kind": "x"}, "alpha")]


def test_a_text_query_sends_query_texts_on_the_text_key_and_reads_bm25(
    stubbed: tuple[S3VectorsStore, Stubber],
) -> None:
    store, stub = stubbed
    stub.add_response(
        "query_vectors",
        {
            "vectors": [
                {
                    "key": "a",
                    "scores": {"bm25Scores": [{"metadataKey": TEXT_KEY, "score": 3.5}]},
                    "metadata": {TEXT_KEY: "alpha beta"},
                }
            ],
            "distanceMetric": "cosine",
        },
        {
            "vectorBucketName": BUCKET,
            "indexName": "docs",
            "topK": 3,
            "queryTexts": [{"metadataKey": TEXT_KEY, "text": "beta"}],
            "returnScores": True,
            "returnMetadata": True,
        },
    )
    assert store.query("docs", Query(top_k=3, text="beta")) == [
        Match("a", None, {"bm25": 3.5}, {}, "alpha beta")
    ]


def test_a_hybrid_query_sends_both_and_reads_every_score(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    scores = {
        "fused": 0.032,
        "bm25Scores": [{"metadataKey": TEXT_KEY, "score": 2.0}, {"metadataKey": "title", "score": 1.0}],
        "vectorDistance": 0.25,
    }
    stub.add_response(
        "query_vectors",
        {"vectors": [{"key": "a", "distance": 0.25, "scores": scores}], "distanceMetric": "euclidean"},
        {
            "vectorBucketName": BUCKET,
            "indexName": "docs",
            "topK": 2,
            "queryVector": {"float32": [1.0]},
            "queryTexts": [{"metadataKey": TEXT_KEY, "text": "alpha"}],
            "returnScores": True,
            "returnDistance": True,
            "returnMetadata": True,
        },
    )
    (match,) = store.query("docs", Query(top_k=2, vector=[1.0], text="alpha"))
    assert match.distance == pytest.approx(0.25) and match.text is None
    assert match.scores == {"fused": 0.032, "bm25": 2.0, "bm25:title": 1.0, "vector_distance": 0.25}


def test_an_index_without_the_model_tag_is_not_taken_for_a_collection(
    stubbed: tuple[S3VectorsStore, Stubber],
) -> None:
    store, stub = stubbed
    stub.add_response("get_index", index(), {"vectorBucketName": BUCKET, "indexName": "docs"})
    stub.add_response("list_tags_for_resource", {"tags": {"team": "x"}}, {"resourceArn": ARN})
    with pytest.raises(ApiError) as caught:
        store.describe("docs")
    assert (caught.value.status, caught.value.code) == (500, "collection_untagged")
    assert MODEL_TAG in caught.value.message


def test_nothing_to_write_makes_no_call(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, _ = stubbed  # no response is stubbed: any call would fail
    assert store.put("docs", []) == WriteReport(documents=0, calls=0)
    assert store.delete_documents("docs", []) == WriteReport(documents=0, calls=0)
    assert store.get("docs", []) == []
