"""The collections' Amazon S3 vector bucket (one index per collection), encrypted with the stack's key.

The bucket's name is derived from the account, the region and this stack's id, as the ingestion
bucket's is: the key policy can then name the bucket without referring to it (the bucket refers to
the key), and the functions get the name the settings read (EMBEDROCK_VECTOR_BUCKET).
"""

from __future__ import annotations

from aws_cdk import Aws, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3vectors as s3vectors
from constructs import Construct

from infra.observability import encryption_key

# AWS CloudFormation, AWS::S3Vectors::VectorBucket EncryptionConfiguration: SseType "AES256" or
# "aws:kms"; KmsKeyArn is required with aws:kms and must be a full key ARN (no id or alias), and
# S3 Vectors only supports symmetric keys (the stack's key is one).
SSE_KMS = "aws:kms"
# The service principal S3 Vectors maintains indexes in the background with ("Data protection and
# encryption in S3 Vectors", s3-vectors-data-encryption.html): a customer managed key must let it
# decrypt. Scoped as AWS's own construct does it (awslabs/generative-ai-cdk-constructs, s3vectors
# VectorBucket, "per AWS documentation"): this account, this bucket, S3 Vectors' encryption context.
INDEXING_PRINCIPAL = "indexing.s3vectors.amazonaws.com"
INDEXING_KEY_ACTIONS = ("kms:Decrypt",)
ENCRYPTION_CONTEXT_KEYS = ("aws:s3vectors:arn", "aws:s3vectors:resource-id")


def vector_bucket_name() -> str:
    """embedrock-vectors-<account>-<region>-<first 8 hex digits of this stack's id>: at most 54
    characters, lowercase letters, digits and hyphens (the vector bucket name rules: 3-63)."""
    stack_guid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return Fn.join(
        "-", ["embedrock-vectors", Aws.ACCOUNT_ID, Aws.REGION, Fn.select(0, Fn.split("-", stack_guid))]
    )


def vector_bucket_arn() -> str:
    # ARN format of the VectorBucket resource type: arn:aws:s3vectors:REGION:ACCOUNT:bucket/NAME
    # ("Identity and Access management in S3 Vectors", resource types), indexes under /index/NAME.
    return Fn.join(
        "",
        [
            "arn:",
            Aws.PARTITION,
            ":s3vectors:",
            Aws.REGION,
            ":",
            Aws.ACCOUNT_ID,
            ":bucket/",
            vector_bucket_name(),
        ],
    )


class VectorBucket(Construct):
    """`name` for the functions' settings, `arn` and `index_arns` for their policies, `key` for KMS."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key: kms.Key = encryption_key(self)
        self.name = vector_bucket_name()
        self.bucket = s3vectors.CfnVectorBucket(
            self,
            "Bucket",
            vector_bucket_name=self.name,
            encryption_configuration=s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(
                sse_type=SSE_KMS, kms_key_arn=self.key.key_arn
            ),
        )
        # The collections are the users' documents: kept when the stack is deleted, as the ingestion
        # bucket is (CloudFormation can only delete an empty vector bucket anyway).
        self.bucket.apply_removal_policy(RemovalPolicy.RETAIN)
        self.arn = self.bucket.attr_vector_bucket_arn
        self.index_arns = f"{self.arn}/index/*"
        self._let_indexing_use_the_key()

    def _let_indexing_use_the_key(self) -> None:
        bucket_arn = vector_bucket_arn()
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3VectorsIndexesTheVectorBucket",
                principals=[iam.ServicePrincipal(INDEXING_PRINCIPAL)],
                actions=list(INDEXING_KEY_ACTIONS),
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": [bucket_arn, f"{bucket_arn}/index/*"]},
                    "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": list(ENCRYPTION_CONTEXT_KEYS)},
                },
            )
        )
