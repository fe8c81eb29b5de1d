"""`embedrock bench seed`: the inference profiles it lists next to the embedding models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from embedrock_local.tools.bench.seed import embedding_profiles

EMBEDDING_MODELS = {"cohere.embed-v4:0", "amazon.titan-embed-text-v2:0"}


@pytest.fixture
def control() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("bedrock", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def profile(profile_id: str, model_id: str, regions: list[str]) -> dict[str, Any]:
    return {
        "inferenceProfileName": profile_id,
        "inferenceProfileArn": f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{profile_id}",
        "inferenceProfileId": profile_id,
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model_id}"} for r in regions],
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def test_profiles_of_the_embedding_models_are_listed_across_pages(control):
    client, stubber = control
    # Given two pages: an embedding model's profile, a text model's, then another embedding profile
    stubber.add_response(
        "list_inference_profiles",
        {
            "inferenceProfileSummaries": [
                profile("us.cohere.embed-v4:0", "cohere.embed-v4:0", ["us-east-1", "us-west-2"]),
                profile(
                    "us.anthropic.claude-3-haiku-20240307-v1:0",
                    "anthropic.claude-3-haiku-20240307-v1:0",
                    ["us-east-1"],
                ),
            ],
            "nextToken": "page-2",
        },
        {},
    )
    stubber.add_response(
        "list_inference_profiles",
        {"inferenceProfileSummaries": [profile("eu.cohere.embed-v4:0", "cohere.embed-v4:0", ["eu-west-1"])]},
        {"nextToken": "page-2"},
    )
    lines: list[str] = []

    # When the seed lists profiles
    found = embedding_profiles(client, EMBEDDING_MODELS, lines.append)

    # Then only the embedding models' profiles are shown, with where each routes
    assert found == ["us.cohere.embed-v4:0", "eu.cohere.embed-v4:0"]
    assert "Inference profiles of these models (2):" in lines[0]
    assert any("us.cohere.embed-v4:0" in line and "us-east-1, us-west-2" in line for line in lines)
    assert not any("claude" in line for line in lines)


@pytest.mark.parametrize(
    ("code", "status"), [("UnknownOperationException", 404), ("AccessDeniedException", 403)]
)
def test_an_endpoint_or_role_without_the_operation_gets_one_clear_line(control, code, status):
    client, stubber = control
    stubber.add_client_error(
        "list_inference_profiles",
        service_error_code=code,
        service_message="not here",
        http_status_code=status,
    )
    lines: list[str] = []
    assert embedding_profiles(client, EMBEDDING_MODELS, lines.append) == []
    assert lines == [f"\nInference profiles: not listed; ListInferenceProfiles answered {code}: not here"]
