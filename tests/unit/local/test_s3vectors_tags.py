"""Tags on the emulator's vector buckets and indexes, through its in-process boto3-shaped client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedrock.vector_store import limits
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.runtime.emulator.inprocess import S3VectorsClient

BUCKET, INDEX = "tagged-bucket", "tagged-index"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def client(data_dir: Path) -> Iterator[S3VectorsClient]:
    emulator = InProcessEmulator(EmulatorOptions(data_dir=data_dir))
    yield emulator.s3vectors_client()
    emulator.close()


def arns(client: S3VectorsClient, **index_tags: str) -> tuple[str, str]:
    bucket_arn = client.create_vector_bucket(vectorBucketName=BUCKET, tags={"team": "search"})[
        "vectorBucketArn"
    ]
    index_arn = client.create_index(
        vectorBucketName=BUCKET,
        indexName=INDEX,
        dataType="float32",
        dimension=2,
        distanceMetric="cosine",
        tags=index_tags,
    )["indexArn"]
    return bucket_arn, index_arn


def code_and_message(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_tags_given_at_creation_are_listed_per_resource(client: S3VectorsClient) -> None:
    bucket_arn, index_arn = arns(client, **{"embedrock:model": "amazon.titan-embed-text-v2:0"})
    assert client.list_tags_for_resource(resourceArn=bucket_arn)["tags"] == {"team": "search"}
    assert client.list_tags_for_resource(resourceArn=index_arn)["tags"] == {
        "embedrock:model": "amazon.titan-embed-text-v2:0"
    }


def test_tag_resource_adds_and_overwrites_and_untag_removes(client: S3VectorsClient) -> None:
    _, index_arn = arns(client, owner="a", stage="dev")
    client.tag_resource(resourceArn=index_arn, tags={"stage": "prod", "cost-centre": "42"})
    assert client.list_tags_for_resource(resourceArn=index_arn)["tags"] == {
        "owner": "a",
        "stage": "prod",
        "cost-centre": "42",
    }
    # Removing a key that is not there is not an error; the others go.
    client.untag_resource(resourceArn=index_arn, tagKeys=["owner", "absent"])
    assert client.list_tags_for_resource(resourceArn=index_arn)["tags"] == {
        "stage": "prod",
        "cost-centre": "42",
    }


def test_tags_survive_a_restart(data_dir: Path) -> None:
    first = InProcessEmulator(EmulatorOptions(data_dir=data_dir))
    _, index_arn = arns(first.s3vectors_client(), model="m1")
    first.close()
    second = InProcessEmulator(EmulatorOptions(data_dir=data_dir))
    try:
        assert second.s3vectors_client().list_tags_for_resource(resourceArn=index_arn)["tags"] == {
            "model": "m1"
        }
    finally:
        second.close()


def test_a_deleted_index_takes_its_tags_and_is_not_found(client: S3VectorsClient) -> None:
    _, index_arn = arns(client, model="m1")
    client.delete_index(indexArn=index_arn)
    assert code_and_message(client.list_tags_for_resource, resourceArn=index_arn)[0] == "NotFoundException"
    client.create_index(
        vectorBucketName=BUCKET, indexName=INDEX, dataType="float32", dimension=2, distanceMetric="cosine"
    )
    assert client.list_tags_for_resource(resourceArn=index_arn)["tags"] == {}


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"": "x"}, "1 to 128 characters"),
        ({"k" * 129: "x"}, "1 to 128 characters"),
        ({"k": "v" * 257}, "0 to 256 characters"),
        ({"bad*key": "x"}, "letters, numbers, spaces"),
        ({"k": "bad#value"}, "letters, numbers, spaces"),
        ({"aws:owner": "x"}, "reserved for AWS"),
        ({f"k{i}": "v" for i in range(limits.TAGS_MAX + 1)}, f"at most {limits.TAGS_MAX}"),
    ],
)
def test_bad_tags_are_refused_at_creation(
    client: S3VectorsClient, tags: dict[str, str], expected: str
) -> None:
    code, message = code_and_message(client.create_vector_bucket, vectorBucketName=BUCKET, tags=tags)
    assert code == "ValidationException" and expected in message
    assert client.list_vector_buckets()["vectorBuckets"] == []


def test_unicode_letters_and_the_allowed_punctuation_are_accepted(client: S3VectorsClient) -> None:
    bucket_arn, _ = arns(client)
    tags = {"Équipe _.:/=+-@": "café 42", "empty": ""}
    client.tag_resource(resourceArn=bucket_arn, tags=tags)
    assert client.list_tags_for_resource(resourceArn=bucket_arn)["tags"] == {"team": "search", **tags}


def test_tag_resource_refuses_going_over_the_maximum(client: S3VectorsClient) -> None:
    bucket_arn, _ = arns(client)
    more = {f"k{i}": "v" for i in range(limits.TAGS_MAX)}  # plus "team" makes one too many
    code, message = code_and_message(client.tag_resource, resourceArn=bucket_arn, tags=more)
    assert code == "ValidationException" and f"at most {limits.TAGS_MAX}" in message
    assert client.list_tags_for_resource(resourceArn=bucket_arn)["tags"] == {"team": "search"}


def test_unknown_and_malformed_resources(client: S3VectorsClient) -> None:
    bucket_arn, index_arn = arns(client)
    missing_index = index_arn.replace(INDEX, "other-index")
    missing_bucket = bucket_arn.replace(BUCKET, "other-bucket")
    assert (
        code_and_message(client.tag_resource, resourceArn=missing_index, tags={"a": "b"})[0]
        == "NotFoundException"
    )
    assert (
        code_and_message(client.list_tags_for_resource, resourceArn=missing_bucket)[0] == "NotFoundException"
    )
    code, message = code_and_message(
        client.untag_resource, resourceArn="arn:aws:s3:::plain-bucket", tagKeys=["a"]
    )
    assert code == "ValidationException" and "vector bucket ARN" in message
    code, message = code_and_message(client.untag_resource, resourceArn=bucket_arn, tagKeys=[])
    assert code == "ValidationException" and "tagKeys" in message
