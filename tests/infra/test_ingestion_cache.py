"""The opt-in embeddings cache: off by default; with -c embedrock:cache=true a table for the embedders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from embedrock import routes
from embedrock.routes import BedrockAccess
from infra import config
from infra.app_builder import build_app
from tests.infra import cfn
from tests.infra.conftest import CONTEXT, Synthesized

pytestmark = pytest.mark.infra

DYNAMODB_ACTIONS = {
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
}
EMBEDDERS = [f.name for f in routes.FUNCTIONS if f.bedrock_access is BedrockAccess.INVOKE_EMBEDDING_MODELS]


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> cfn.Resources:
    """The stack synthesized with the cache on (cdk-nag runs, and raises on any finding)."""
    app, stack = build_app(
        context={**CONTEXT, config.CACHE: "true"}, outdir=str(tmp_path_factory.mktemp("cdk.out"))
    )
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template["Resources"]


def _dynamodb_grants(resources: cfn.Resources, name: str) -> dict[str, set[str]]:
    _, function = cfn.function_named(resources, name)
    grants: dict[str, set[str]] = {}
    for statement in cfn.role_statements(resources, function["Properties"]["Role"]["Fn::GetAtt"][0]):
        for action in cfn.as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                grants.setdefault(action, set()).update(
                    cfn.render(r) for r in cfn.as_list(statement["Resource"])
                )
    return grants


def test_the_cache_is_off_by_default(synthesized: Synthesized) -> None:
    # Given the stack synthesized without the cache context
    resources = synthesized.resources
    # Then there is no table, no function knows one, and no role touches DynamoDB
    assert not cfn.of_type(resources, "AWS::DynamoDB::Table")
    for name in (*EMBEDDERS, routes.INGEST.name):
        _, function = cfn.function_named(resources, name)
        assert "EMBEDROCK_CACHE_TABLE" not in function["Properties"]["Environment"]["Variables"]
        assert _dynamodb_grants(resources, name) == {}


def test_the_cache_table_is_on_demand_with_ttl(cached: cfn.Resources) -> None:
    # Given the stack with the cache on
    ((table_id, table),) = cfn.of_type(cached, "AWS::DynamoDB::Table").items()
    properties = table["Properties"]
    # Then the table is keyed by the text's hash, billed on demand, expires items, and is encrypted
    assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert table_id


@pytest.mark.parametrize("name", [*EMBEDDERS, routes.INGEST.name])
def test_every_embedding_function_reads_and_writes_the_table_only(cached: cfn.Resources, name: str) -> None:
    # Given a function that embeds (the API's and the pipeline's)
    ((table_id, _),) = cfn.of_type(cached, "AWS::DynamoDB::Table").items()
    _, function = cfn.function_named(cached, name)
    # Then it knows the table and may get and put items in it, and nothing else in DynamoDB
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["EMBEDROCK_CACHE_TABLE"] == {"Ref": table_id}
    assert variables["EMBEDROCK_CACHE_TTL_DAYS"] == "30"
    assert _dynamodb_grants(cached, name) == {key: {f"${{{table_id}.Arn}}"} for key in DYNAMODB_ACTIONS}


def test_functions_that_do_not_embed_get_no_access(cached: cfn.Resources) -> None:
    for function in routes.FUNCTIONS:
        if function.name not in EMBEDDERS:
            assert _dynamodb_grants(cached, function.name) == {}


def test_the_cache_setting_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="true or false"):
        build_app(context={**CONTEXT, config.CACHE: "sometimes"}, outdir=str(tmp_path))
