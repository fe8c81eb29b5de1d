"""Least-privilege Bedrock permissions, derived from the route table and the model catalog."""

from __future__ import annotations

from typing import assert_never

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from embedrock import catalog
from embedrock.routes import BedrockAccess

# ListFoundationModels supports no resource-level permissions: IAM only accepts "*" for it.
LIST_MODELS_RESOURCE = "*"


def foundation_model_arn(model_id: str) -> str:
    # Foundation models are AWS-owned: the ARN has a region but no account.
    return f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}::foundation-model/{model_id}"


ANY_FOUNDATION_MODEL_ARN = foundation_model_arn("*")


def bedrock_statements(access: BedrockAccess) -> list[iam.PolicyStatement]:
    match access:
        case BedrockAccess.INVOKE_EMBEDDING_MODELS:
            # Only the catalog's models: the role cannot run text-generation models, and a
            # model added to the catalog gets its permission on the next deploy.
            return [
                iam.PolicyStatement(
                    sid="InvokeCatalogEmbeddingModels",
                    actions=["bedrock:InvokeModel"],
                    resources=[foundation_model_arn(model.id) for model in catalog.MODELS],
                )
            ]
        case BedrockAccess.READ_MODEL_CATALOG:
            return [
                iam.PolicyStatement(
                    sid="ListFoundationModels",
                    actions=["bedrock:ListFoundationModels"],
                    resources=[LIST_MODELS_RESOURCE],
                ),
                # Any model id: GET /models/{id} also describes models the catalog lacks.
                iam.PolicyStatement(
                    sid="GetFoundationModel",
                    actions=["bedrock:GetFoundationModel"],
                    resources=[ANY_FOUNDATION_MODEL_ARN],
                ),
            ]
        case _:
            assert_never(access)


# The wildcard resources above, as cdk-nag's IAM5 names them, and why each is needed.
WILDCARD_FINDINGS: dict[BedrockAccess, dict[str, str]] = {
    BedrockAccess.INVOKE_EMBEDDING_MODELS: {},
    BedrockAccess.READ_MODEL_CATALOG: {
        "Resource::*": (
            "bedrock:ListFoundationModels supports no resource-level permissions, so IAM requires "
            "Resource '*'; it is a read-only listing and is the only action granted on '*'."
        ),
        "Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*": (
            "bedrock:GetFoundationModel (read-only) on any foundation model of this region: GET "
            "/models/{model_id} also describes models that Bedrock lists but the catalog lacks. "
            "InvokeModel is not granted to this role."
        ),
    },
}
