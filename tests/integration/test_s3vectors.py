"""boto3's `s3vectors` client against the emulator's HTTP server on a loopback port, reached
through AWS_ENDPOINT_URL_S3VECTORS as unchanged code would reach it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from embedrock_local.environment import emulator_environment
from embedrock_local.runtime.emulator import Emulator, EmulatorOptions

BUCKET, INDEX = "it-bucket", "it-index"
WHERE = {"vectorBucketName": BUCKET, "indexName": INDEX}


def client_for(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in emulator_environment(emulator.url).items():
        monkeypatch.setenv(name, value)
    return boto3.session.Session().client("s3vectors", region_name="us-east-1")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(EmulatorOptions(data_dir=tmp_path)) as emulator:
        yield emulator


def code_status(error: ClientError) -> tuple[str, int]:
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]


def test_boto3_creates_puts_queries_and_pages(served: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(served, monkeypatch)
    client.create_vector_bucket(vectorBucketName=BUCKET)
    client.create_index(
        **WHERE,
        dataType="float32",
        dimension=2,
        distanceMetric="cosine",
        metadataConfiguration={"nonFilterableMetadataKeys": ["text"]},
    )
    index = client.get_index(**WHERE)["index"]
    assert isinstance(index["creationTime"], datetime) and index["dimension"] == 2
    angles = [i / 10 for i in range(25)]
    vectors = [
        {
            "key": f"k{i:02d}",
            "data": {"float32": [math.cos(a), math.sin(a)]},
            "metadata": {"even": i % 2 == 0, "text": f"t{i}"},
        }
        for i, a in enumerate(angles)
    ]
    client.put_vectors(**WHERE, vectors=vectors)
    found = client.query_vectors(
        **WHERE,
        topK=3,
        queryVector={"float32": [1.0, 0.0]},
        filter={"even": True},
        returnDistance=True,
        returnMetadata=True,
    )
    assert found["distanceMetric"] == "cosine"
    assert [v["key"] for v in found["vectors"]] == ["k00", "k02", "k04"]
    assert [v["distance"] for v in found["vectors"]] == pytest.approx(
        [1 - math.cos(a) for a in (0.0, 0.2, 0.4)], abs=1e-5
    )
    assert found["vectors"][1]["metadata"] == {"even": True, "text": "t2"}
    listed = [
        v["key"]
        for page in client.get_paginator("list_vectors").paginate(**WHERE, maxResults=7)
        for v in page["vectors"]
    ]
    assert listed == [v["key"] for v in vectors]
    got = client.get_vectors(**WHERE, keys=["k03"], returnData=True)["vectors"][0]
    assert got["data"]["float32"] == pytest.approx([math.cos(0.3), math.sin(0.3)], abs=1e-6)


def test_errors_arrive_as_s3_vectors_codes_and_statuses(
    served: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(served, monkeypatch)
    with pytest.raises(client.exceptions.NotFoundException) as missing:
        client.get_vector_bucket(vectorBucketName="no-such-bucket")
    assert code_status(missing.value) == ("NotFoundException", 404)
    client.create_vector_bucket(vectorBucketName=BUCKET)
    with pytest.raises(client.exceptions.ConflictException) as taken:
        client.create_vector_bucket(vectorBucketName=BUCKET)
    assert code_status(taken.value) == ("ConflictException", 409)
    client.create_index(**WHERE, dataType="float32", dimension=2, distanceMetric="euclidean")
    with pytest.raises(client.exceptions.ValidationException) as too_many:
        client.query_vectors(**WHERE, topK=101, queryVector={"float32": [1.0, 0.0]})
    assert code_status(too_many.value) == ("ValidationException", 400)
    assert "1 to 100" in too_many.value.response["Error"]["Message"]
    with pytest.raises(client.exceptions.ValidationException) as nan:
        client.put_vectors(**WHERE, vectors=[{"key": "a", "data": {"float32": [math.nan, 0.0]}}])
    assert "NaN" in nan.value.response["Error"]["Message"]


def test_a_restarted_emulator_keeps_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator(EmulatorOptions(data_dir=tmp_path)) as first:
        client = client_for(first, monkeypatch)
        client.create_vector_bucket(vectorBucketName=BUCKET)
        client.create_index(**WHERE, dataType="float32", dimension=2, distanceMetric="euclidean")
        client.put_vectors(**WHERE, vectors=[{"key": "kept", "data": {"float32": [3.0, 4.0]}}])
    with Emulator(EmulatorOptions(data_dir=tmp_path)) as again:
        client = client_for(again, monkeypatch)
        found = client.query_vectors(
            **WHERE, topK=1, queryVector={"float32": [0.0, 0.0]}, returnDistance=True
        )
        assert [(v["key"], v["distance"]) for v in found["vectors"]] == [
            ("kept", pytest.approx(5.0, abs=1e-5))
        ]
        assert [b["vectorBucketName"] for b in client.list_vector_buckets()["vectorBuckets"]] == [BUCKET]


def test_boto3_tags_buckets_and_indexes_over_http(served: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(served, monkeypatch)
    bucket_arn = client.create_vector_bucket(vectorBucketName=BUCKET, tags={"team": "search"})[
        "vectorBucketArn"
    ]
    # An index ARN holds '/', which botocore sends percent-encoded inside the /tags/{resourceArn} path.
    index_arn = client.create_index(
        **WHERE, dataType="float32", dimension=2, distanceMetric="cosine", tags={"embedrock:model": "m1"}
    )["indexArn"]
    client.tag_resource(resourceArn=index_arn, tags={"stage": "dev", "owner": "x"})
    client.untag_resource(resourceArn=index_arn, tagKeys=["owner", "stage"])
    assert client.list_tags_for_resource(resourceArn=index_arn)["tags"] == {"embedrock:model": "m1"}
    assert client.list_tags_for_resource(resourceArn=bucket_arn)["tags"] == {"team": "search"}
    with pytest.raises(client.exceptions.ValidationException) as reserved:
        client.tag_resource(resourceArn=bucket_arn, tags={"aws:x": "y"})
    assert code_status(reserved.value) == ("ValidationException", 400)
    with pytest.raises(client.exceptions.NotFoundException):
        client.list_tags_for_resource(resourceArn=bucket_arn.replace(BUCKET, "gone-bucket"))


def test_boto3_full_text_and_hybrid_search_over_http(
    served: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(served, monkeypatch)
    client.create_vector_bucket(vectorBucketName=BUCKET)
    client.create_index(
        **WHERE,
        dataType="float32",
        dimension=2,
        distanceMetric="cosine",
        metadataConfiguration={
            "nonFilterableMetadataKeys": ["_text"],
            "textSearchConfigurations": [{"metadataKey": "_text", "language": "en"}],
        },
    )
    docs = {"near": (0.0, "an apple a day"), "far": (1.2, "error code E42 in the running engine")}
    client.put_vectors(
        **WHERE,
        vectors=[
            {"key": key, "data": {"float32": [math.cos(a), math.sin(a)]}, "metadata": {"_text": text}}
            for key, (a, text) in docs.items()
        ],
    )
    status = client.get_index(**WHERE)["index"]["metadataConfiguration"]["textSearchConfigurations"]
    assert status == [{"metadataKey": "_text", "language": "en", "status": "ACTIVE"}]
    texts = [{"metadataKey": "_text", "text": "engines run"}]
    text_only = client.query_vectors(**WHERE, topK=5, queryTexts=texts, returnScores=True)["vectors"]
    assert [v["key"] for v in text_only] == ["far"]  # stemmed: engines ~ engine, run ~ running
    assert text_only[0]["scores"]["bm25Scores"][0]["score"] > 0
    hybrid = client.query_vectors(
        **WHERE, topK=5, queryVector={"float32": [1.0, 0.0]}, queryTexts=texts, returnScores=True
    )["vectors"]
    # "far" is 1st by text and 2nd by vector; "near" only 1st by vector: far fuses higher.
    assert [v["key"] for v in hybrid] == ["far", "near"]
    assert hybrid[0]["scores"]["fused"] > hybrid[1]["scores"]["fused"] > 0
    with pytest.raises(client.exceptions.ValidationException) as unsearchable:
        client.query_vectors(**WHERE, topK=5, queryTexts=[{"metadataKey": "title", "text": "x"}])
    assert "not full-text searchable" in unsearchable.value.response["Error"]["Message"]
    updated = client.update_metadata_configuration(
        **WHERE, add={"textSearchConfigurations": [{"metadataKey": "title"}]}
    )
    assert updated["indexArn"].endswith(f"/index/{INDEX}")
