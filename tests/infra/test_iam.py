"""IAM: each function has its own least-privilege role, Bedrock access derived from the catalog."""

from __future__ import annotations

from typing import Any

import pytest

from embedrock import catalog, routes
from embedrock.routes import BedrockAccess
from tests.infra import cfn
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

FUNCTIONS = pytest.mark.parametrize("function", routes.FUNCTIONS, ids=lambda function: function.name)

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
FOUNDATION_MODEL_ARN = "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/"
CATALOG_MODEL_ARNS = {FOUNDATION_MODEL_ARN + model.id for model in catalog.MODELS}
# Written out, not derived: the rerank function may invoke these two models in its region, nothing else.
RERANK_MODEL_ARNS = {
    FOUNDATION_MODEL_ARN + "amazon.rerank-v1:0",
    FOUNDATION_MODEL_ARN + "cohere.rerank-v3-5:0",
}
# The allowed profiles (conftest) and their model in every region they route to, written out: the
# test does not re-derive them.
PROFILE_ARNS = {
    "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/us.cohere.embed-v4:0",
    "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/global.cohere.embed-v4:0",
}
ROUTED_MODEL_ARNS = {"arn:${AWS::Partition}:bedrock:*::foundation-model/cohere.embed-v4:0"}

EXPECTED_BEDROCK_GRANTS: dict[BedrockAccess, dict[str, set[str]]] = {
    BedrockAccess.INVOKE_EMBEDDING_MODELS: {
        "bedrock:InvokeModel": CATALOG_MODEL_ARNS | PROFILE_ARNS | ROUTED_MODEL_ARNS
    },
    BedrockAccess.INVOKE_RERANK_MODELS: {"bedrock:InvokeModel": RERANK_MODEL_ARNS},
    BedrockAccess.READ_MODEL_CATALOG: {
        "bedrock:ListFoundationModels": {"*"},
        "bedrock:ListInferenceProfiles": {"*"},
        "bedrock:GetFoundationModelAvailability": {"*"},
        "bedrock:GetFoundationModel": {FOUNDATION_MODEL_ARN + "*"},
    },
}


def _role_of(synthesized: Synthesized, function: routes.Function) -> tuple[str, list[dict[str, Any]]]:
    _, resource = cfn.function_named(synthesized.resources, function.name)
    role_id: str = resource["Properties"]["Role"]["Fn::GetAtt"][0]
    return role_id, cfn.role_statements(synthesized.resources, role_id)


def _grants(statements: list[dict[str, Any]], service: str) -> dict[str, set[str]]:
    """action -> resources, for the Allow statements whose actions belong to `service`."""
    grants: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in cfn.as_list(statement["Action"]):
            if action.startswith(f"{service}:"):
                grants.setdefault(action, set()).update(
                    cfn.render(r) for r in cfn.as_list(statement["Resource"])
                )
    return grants


@FUNCTIONS
def test_bedrock_grants_are_exactly_those_of_the_access_kind(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given the role of this function
    _, statements = _role_of(synthesized, function)
    # When its Bedrock grants are collected
    grants = _grants(statements, "bedrock")
    # Then they are exactly the actions and resources its access kind needs, and the rerank models'
    # for a function that also reranks (a collections search's `rerank`)
    expected = {
        action: set(arns) for action, arns in EXPECTED_BEDROCK_GRANTS[function.bedrock_access].items()
    }
    if function.also_reranks:
        expected["bedrock:InvokeModel"] |= RERANK_MODEL_ARNS
    assert grants == expected


def test_the_collections_function_invokes_embedding_and_rerank_models() -> None:
    # Given the route table's collections function
    # Then it embeds documents and queries, and may rerank a search's results
    assert routes.COLLECTIONS.bedrock_access is BedrockAccess.INVOKE_EMBEDDING_MODELS
    assert routes.COLLECTIONS.also_reranks
    assert [f.name for f in (*routes.FUNCTIONS, routes.INGEST) if f.also_reranks] == ["collections"]


def test_invoke_model_is_granted_on_the_catalog_and_the_allowed_profiles_only(
    synthesized: Synthesized,
) -> None:
    # Given the functions that invoke embedding models
    invokers = [f for f in routes.FUNCTIONS if f.bedrock_access is BedrockAccess.INVOKE_EMBEDDING_MODELS]
    assert invokers
    for function in invokers:
        # When their InvokeModel statements are read, by resources and condition
        _, statements = _role_of(synthesized, function)
        invoke = {
            frozenset(cfn.render(r) for r in cfn.as_list(statement["Resource"])): statement.get("Condition")
            for statement in statements
            if "bedrock:InvokeModel" in cfn.as_list(statement["Action"])
        }
        # Then the catalog's models (this region) and the allowed profiles are granted as they are,
        profile_condition = {"ArnLike": {"bedrock:InferenceProfileArn": sorted(PROFILE_ARNS)}}
        assert invoke.pop(frozenset(CATALOG_MODEL_ARNS)) is None
        assert invoke.pop(frozenset(PROFILE_ARNS)) is None
        # (the rerank models as they are, for a function that also reranks)
        if function.also_reranks:
            assert invoke.pop(frozenset(RERANK_MODEL_ARNS)) is None
        # and the profiles' models in any region only through those profiles; nothing else
        (routed,) = invoke.items()
        assert routed[0] == frozenset(ROUTED_MODEL_ARNS)
        assert _rendered_condition(routed[1]) == profile_condition


def _rendered_condition(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        operator: {key: sorted(cfn.render(v) for v in cfn.as_list(values)) for key, values in keys.items()}
        for operator, keys in condition.items()
    }


@FUNCTIONS
def test_no_marketplace_or_agreement_permission(synthesized: Synthesized, function: routes.Function) -> None:
    # Given the role of this function
    _, statements = _role_of(synthesized, function)
    actions = {action for statement in statements for action in cfn.as_list(statement["Action"])}
    # Then it can neither subscribe to a model nor accept its agreement: a person does that once
    assert not any(action.startswith("aws-marketplace:") for action in actions)
    assert not actions & {
        "bedrock:CreateFoundationModelAgreement",
        "bedrock:ListFoundationModelAgreementOffers",
    }


@FUNCTIONS
def test_no_wildcard_bedrock_action(synthesized: Synthesized, function: routes.Function) -> None:
    # Given the role of this function
    _, statements = _role_of(synthesized, function)
    # Then no statement grants bedrock:* or any wildcard Bedrock action
    actions = [action for statement in statements for action in cfn.as_list(statement["Action"])]
    assert "bedrock:*" not in actions
    assert not any(action.startswith("bedrock:") and "*" in action for action in actions)
    assert not any(action == "*" for action in actions)


@FUNCTIONS
def test_role_has_no_managed_policy_and_writes_only_its_own_logs(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given the role and the log group of this function
    resources = synthesized.resources
    _, function_resource = cfn.function_named(resources, function.name)
    log_group_id = function_resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    role_id, statements = _role_of(synthesized, function)
    # Then the role carries no managed policy, is assumable by Lambda only,
    assert "ManagedPolicyArns" not in resources[role_id]["Properties"]
    (trust,) = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    # and its log permissions name its own log group only
    assert _grants(statements, "logs") == {
        "logs:CreateLogStream": {f"${{{log_group_id}.Arn}}"},
        "logs:PutLogEvents": {f"${{{log_group_id}.Arn}}"},
    }


@FUNCTIONS
def test_only_xray_and_list_models_are_granted_on_any_resource(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given the role of this function
    _, statements = _role_of(synthesized, function)
    # When the actions granted on Resource "*" are collected
    on_any_resource = {
        action
        for statement in statements
        if "*" in cfn.as_list(statement["Resource"])
        for action in cfn.as_list(statement["Action"])
    }
    # Then they are the X-Ray writes, plus the account-level reads of the catalog reader
    expected = set(XRAY_ACTIONS)
    if function.bedrock_access is BedrockAccess.READ_MODEL_CATALOG:
        expected |= {
            "bedrock:ListFoundationModels",
            "bedrock:ListInferenceProfiles",
            "bedrock:GetFoundationModelAvailability",
        }
    assert on_any_resource == expected


def test_each_function_has_its_own_role(synthesized: Synthesized) -> None:
    # Given every function of the route table
    # When their roles are collected
    roles = {_role_of(synthesized, function)[0] for function in routes.FUNCTIONS}
    # Then no two functions share a role
    assert len(roles) == len(routes.FUNCTIONS)
