"""Least-privilege S3 Vectors permissions, derived from a route-table function's VectorAccess.

Action names and the resource type each takes: the Service Authorization Reference, "Actions,
resources, and condition keys for Amazon S3 Vectors" (list_amazons3vectors.html): CreateIndex,
GetIndex, DeleteIndex, PutVectors, GetVectors, DeleteVectors and QueryVectors take the Index
resource type (arn:aws:s3vectors:REGION:ACCOUNT:bucket/NAME/index/INDEX); ListIndexes lists "the
vector indexes within the specified vector bucket" and is granted on the VectorBucket ARN (its
request names the bucket only: API reference, ListIndexes; the reference's row for it could not be
read whole offline). Tags: "Creating vector indexes with tags" needs s3vectors:CreateIndex and
s3vectors:TagResource, "Viewing vector index tags" s3vectors:ListTagsForResource (the collection's
model is an index tag, embedrock.vector_store.model). QueryVectors with a filter or returnMetadata
also needs s3vectors:GetVectors (API reference, QueryVectors, "Permissions").
"""

from __future__ import annotations

from typing import assert_never

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from embedrock.routes import VectorAccess
from infra.vector_bucket import VectorBucket

COLLECTIONS_BUCKET_ACTIONS = ("s3vectors:ListIndexes",)
COLLECTIONS_INDEX_ACTIONS = (
    "s3vectors:CreateIndex",
    "s3vectors:TagResource",  # CreateIndex with tags (the collection's model)
    "s3vectors:GetIndex",
    "s3vectors:ListTagsForResource",
    "s3vectors:DeleteIndex",
    "s3vectors:PutVectors",
    "s3vectors:GetVectors",  # GET .../documents/{id}, and QueryVectors' filters and metadata
    "s3vectors:DeleteVectors",
    "s3vectors:QueryVectors",
)
UPSERT_INDEX_ACTIONS = ("s3vectors:GetIndex", "s3vectors:ListTagsForResource", "s3vectors:PutVectors")
# The vectors are encrypted with the stack's key (SSE-KMS). Which KMS calls S3 Vectors makes on the
# caller's behalf is not spelled out in the pages read here; these are the ones AWS's own construct
# grants for reading and writing a KMS-encrypted vector bucket (awslabs/generative-ai-cdk-constructs,
# s3vectors perms: kms:Decrypt to read, kms:GenerateDataKey to write), on this key only.
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def vector_statements(access: VectorAccess, vectors: VectorBucket) -> list[iam.PolicyStatement]:
    match access:
        case VectorAccess.NONE:
            return []
        case VectorAccess.COLLECTIONS:
            return [
                iam.PolicyStatement(
                    sid="ListTheCollections",
                    actions=list(COLLECTIONS_BUCKET_ACTIONS),
                    resources=[vectors.arn],
                ),
                iam.PolicyStatement(
                    sid="ManageAndSearchTheCollections",
                    actions=list(COLLECTIONS_INDEX_ACTIONS),
                    resources=[vectors.index_arns],
                ),
                _key_statement(vectors),
            ]
        case VectorAccess.UPSERT:
            return [
                iam.PolicyStatement(
                    sid="UpsertIntoTheCollections",
                    actions=list(UPSERT_INDEX_ACTIONS),
                    resources=[vectors.index_arns],
                ),
                _key_statement(vectors),
            ]
        case _:
            assert_never(access)


def _key_statement(vectors: VectorBucket) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="UseTheVectorBucketsKey", actions=list(KEY_ACTIONS), resources=[vectors.key.key_arn]
    )


def wildcard_findings(access: VectorAccess, vectors: VectorBucket) -> dict[str, str]:
    """The bucket's `index/*` resource, as cdk-nag's IAM5 names it, and why the role needs it."""
    what = {
        VectorAccess.COLLECTIONS: "creates, describes, deletes, fills and searches",
        VectorAccess.UPSERT: "describes and fills",
    }.get(access)
    if what is None:
        return {}
    bucket_id = Stack.of(vectors).get_logical_id(vectors.bucket)
    return {
        f"Resource::<{bucket_id}.VectorBucketArn>/index/*": (
            f"One index per collection, named by the API's users at run time: the function {what} any "
            "collection of this one vector bucket, and no index of any other bucket."
        )
    }
