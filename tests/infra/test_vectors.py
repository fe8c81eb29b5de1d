"""The collections' vector bucket: its encryption, and what each function may do on it."""

from __future__ import annotations

from typing import Any

import pytest

from embedrock import routes, settings
from embedrock.routes import VectorAccess
from tests.infra import cfn
from tests.infra.conftest import MAX_COLLECTIONS, Synthesized

pytestmark = pytest.mark.infra

EVERY_FUNCTION = (*routes.FUNCTIONS, routes.INGEST)
FUNCTIONS = pytest.mark.parametrize("function", EVERY_FUNCTION, ids=lambda function: function.name)
BUCKET_VARIABLE = settings.variable(settings.Settings, "vector_bucket")
MAX_COLLECTIONS_VARIABLE = settings.variable(settings.Settings, "max_collections")

# Written out, not imported from infra: what each kind of access may do, on the bucket and its indexes.
EXPECTED_VECTOR_GRANTS: dict[VectorAccess, dict[str, set[str]]] = {
    VectorAccess.NONE: {},
    VectorAccess.COLLECTIONS: {
        "s3vectors:ListIndexes": {"bucket"},
        **{
            f"s3vectors:{action}": {"indexes"}
            for action in (
                "CreateIndex",
                "TagResource",
                "GetIndex",
                "ListTagsForResource",
                "DeleteIndex",
                "PutVectors",
                "GetVectors",
                "DeleteVectors",
                "QueryVectors",
            )
        },
    },
    VectorAccess.UPSERT: {
        "s3vectors:GetIndex": {"indexes"},
        "s3vectors:ListTagsForResource": {"indexes"},
        "s3vectors:PutVectors": {"indexes"},
    },
}


def _bucket(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    return cfn.only(synthesized.resources, "AWS::S3Vectors::VectorBucket")


def _key(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    return cfn.only(synthesized.resources, "AWS::KMS::Key")


def _statements(synthesized: Synthesized, function: routes.Function) -> list[dict[str, Any]]:
    _, resource = cfn.function_named(synthesized.resources, function.name)
    role_id: str = resource["Properties"]["Role"]["Fn::GetAtt"][0]
    return cfn.role_statements(synthesized.resources, role_id)


def _grants(statements: list[dict[str, Any]], prefix: str) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in cfn.as_list(statement["Action"]):
            if action.startswith(prefix):
                grants.setdefault(action, set()).update(
                    cfn.render(r) for r in cfn.as_list(statement["Resource"])
                )
    return grants


def test_one_vector_bucket_encrypted_with_the_stacks_key_and_kept_with_the_data(
    synthesized: Synthesized,
) -> None:
    # Given the stack's vector bucket and key
    _, bucket = _bucket(synthesized)
    key_id, key = _key(synthesized)
    # Then the bucket is SSE-KMS with the stack's own (rotated) key, by its full ARN
    assert bucket["Properties"]["EncryptionConfiguration"] == {
        "SseType": "aws:kms",
        "KmsKeyArn": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert key["Properties"]["EnableKeyRotation"] is True
    # and the bucket is kept like the ingestion bucket, its key with it (else the kept vectors
    # could not be read)
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"


def test_the_bucket_name_is_unique_per_stack_and_within_s3_vectors_rules(synthesized: Synthesized) -> None:
    # Given the bucket's name, account and region being deploy-time values
    _, bucket = _bucket(synthesized)
    name = cfn.render(bucket["Properties"]["VectorBucketName"])
    # Then it is the project's prefix, the account, the region and this stack's id
    assert name.startswith("embedrock-vectors-${AWS::AccountId}-${AWS::Region}-")
    assert "AWS::StackId" in str(bucket["Properties"]["VectorBucketName"])
    # and the longest it can be stays within S3 Vectors' 63 (12-digit account, 14-character region)
    longest = len("embedrock-vectors-") + 12 + 1 + len("ap-southeast-2") + 1 + 8
    assert longest <= 63


def test_the_key_lets_s3_vectors_index_this_bucket_only(synthesized: Synthesized) -> None:
    # Given the key policy
    _, key = _key(synthesized)
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    # When the statement for S3 Vectors' indexing service is read
    (indexing,) = [
        s for s in statements if s.get("Principal", {}).get("Service") == "indexing.s3vectors.amazonaws.com"
    ]
    # Then it may only decrypt, for this account and this bucket (and its indexes), in S3 Vectors'
    # encryption context
    assert indexing["Action"] == "kms:Decrypt"
    conditions = indexing["Condition"]
    assert cfn.render(conditions["StringEquals"]["aws:SourceAccount"]) == "${AWS::AccountId}"
    _, bucket = _bucket(synthesized)
    name = cfn.render(bucket["Properties"]["VectorBucketName"])
    bucket_arn = f"arn:${{AWS::Partition}}:s3vectors:${{AWS::Region}}:${{AWS::AccountId}}:bucket/{name}"
    assert [cfn.render(arn) for arn in conditions["ArnLike"]["aws:SourceArn"]] == [
        bucket_arn,
        f"{bucket_arn}/index/*",
    ]
    assert conditions["ForAnyValue:StringEquals"] == {
        "kms:EncryptionContextKeys": ["aws:s3vectors:arn", "aws:s3vectors:resource-id"]
    }


@FUNCTIONS
def test_s3_vectors_grants_are_exactly_those_of_the_access_kind(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given this function's role, and the bucket's ARN and index ARNs as the template writes them
    bucket_id, _ = _bucket(synthesized)
    where = {
        "bucket": f"${{{bucket_id}.VectorBucketArn}}",
        "indexes": f"${{{bucket_id}.VectorBucketArn}}/index/*",
    }
    # When its S3 Vectors grants are collected
    grants = _grants(_statements(synthesized, function), "s3vectors:")
    # Then they are exactly its access kind's actions, on this bucket or its indexes, never "*"
    expected = {
        action: {where[place] for place in places}
        for action, places in EXPECTED_VECTOR_GRANTS[function.vector_access].items()
    }
    assert grants == expected


@FUNCTIONS
def test_the_key_is_usable_by_exactly_the_functions_with_vector_access(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given this function's KMS grants
    key_id, _ = _key(synthesized)
    grants = _grants(_statements(synthesized, function), "kms:")
    # Then those with vector access may decrypt and generate data keys with the stack's key only
    if function.vector_access is VectorAccess.NONE:
        assert grants == {}
    else:
        key_arn = f"${{{key_id}.Arn}}"
        assert grants == {"kms:Decrypt": {key_arn}, "kms:GenerateDataKey": {key_arn}}


@FUNCTIONS
def test_functions_with_vector_access_are_told_the_buckets_name(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given this function's environment and the bucket's name
    _, resource = cfn.function_named(synthesized.resources, function.name)
    variables = resource["Properties"]["Environment"]["Variables"]
    _, bucket = _bucket(synthesized)
    # Then the bucket's name is there exactly when the function has vector access, under the settings'
    # variable, and the cost guard only for the function that creates collections
    if function.vector_access is VectorAccess.NONE:
        assert BUCKET_VARIABLE not in variables
    else:
        assert variables[BUCKET_VARIABLE] == bucket["Properties"]["VectorBucketName"]
    if function.vector_access is VectorAccess.COLLECTIONS:
        assert variables[MAX_COLLECTIONS_VARIABLE] == str(MAX_COLLECTIONS)  # the context's (conftest)
    else:
        assert MAX_COLLECTIONS_VARIABLE not in variables


def test_the_pipeline_may_fill_collections(synthesized: Synthesized) -> None:
    # Given the route table's ingest function
    # Then it upserts into collections (a file's `collection`), and may neither create nor delete them
    assert routes.INGEST.vector_access is VectorAccess.UPSERT
    actions = set(_grants(_statements(synthesized, routes.INGEST), "s3vectors:"))
    assert "s3vectors:PutVectors" in actions
    assert not actions & {"s3vectors:CreateIndex", "s3vectors:DeleteIndex", "s3vectors:DeleteVectors"}


def test_the_stack_prints_the_vector_buckets_name(synthesized: Synthesized) -> None:
    _, bucket = _bucket(synthesized)
    output = synthesized.assembly.get_stack_by_name(synthesized.stack.stack_name).template["Outputs"]
    assert output["VectorBucketName"]["Value"] == bucket["Properties"]["VectorBucketName"]
