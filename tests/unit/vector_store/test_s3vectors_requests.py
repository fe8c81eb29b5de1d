"""The exact S3 Vectors requests the adapter sends, checked by botocore's Stubber against the
service model (members, types and required fields), and what it makes of the answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from embedrock.vector_store.model import MODEL_TAG, TEXT_KEY, Collection
from embedrock.vector_store.s3vectors import S3VectorsStore
from tests.fakes import FakeClock

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
