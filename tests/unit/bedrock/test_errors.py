"""Bedrock's refusals of a model reach the client saying what to do: the 403 for AccessDeniedException
(README, model access) and the 400s on `model` for ids Bedrock does not serve on demand or at all."""

from __future__ import annotations

import pytest

from embedrock.bedrock.error_mapping import translate
from embedrock.errors import InvalidRequest, ModelAccessDenied
from tests.fakes import client_error

COHERE = "cohere.embed-english-v3"
MARKETPLACE_DENIAL = (
    "Model access is denied due to IAM user or service role is not authorized to perform the required "
    "AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable "
    "access to this model."
)


def test_access_denied_says_how_a_third_party_models_subscription_is_started() -> None:
    # Given Bedrock denying the first call to a third-party model for lack of Marketplace rights
    error = translate(client_error("AccessDeniedException", 403, MARKETPLACE_DENIAL), model_id=COHERE)

    # Then the client gets a 403 model_access_denied on the model field
    assert isinstance(error, ModelAccessDenied)
    assert (error.status, error.code, error.param) == (403, "model_access_denied", "model")
    message = error.message
    # naming the model, the two Marketplace actions, and who calls it once (an administrator)
    assert COHERE in message
    assert "aws-marketplace:Subscribe" in message and "aws-marketplace:ViewSubscriptions" in message
    assert "administrator" in message and "once" in message
    # the other cause (an IAM policy or SCP denying InvokeModel), and Bedrock's own words
    assert "bedrock:InvokeModel" in message
    assert message.endswith(f"Bedrock said: {MARKETPLACE_DENIAL}")
    # and never the retired "enable model access" console page
    assert "enable model access" not in message.lower()
    assert "model access page" not in message.lower()


def test_access_denied_on_the_model_catalog_stays_an_iam_matter() -> None:
    error = translate(client_error("AccessDeniedException", 403, "denied"), invoking=False)
    assert error.code == "catalog_access_denied"
    assert "aws-marketplace" not in error.message


ON_DEMAND = (
    "Invocation of model ID {} with on-demand throughput isn{}t supported. Retry your request with the "
    "ID or ARN of an inference profile that contains this model."
)


@pytest.mark.parametrize("apostrophe", ["\u2019", "'"])
def test_on_demand_unsupported_is_400_on_model_listing_the_documented_profiles(apostrophe: str) -> None:
    # Given Bedrock refusing Cohere v4 by its own id (its apostrophe typographic or plain)
    detail = ON_DEMAND.format("cohere.embed-v4:0", apostrophe)
    error = translate(client_error("ValidationException", 400, detail), model_id="cohere.embed-v4:0")
    # Then the client gets a 400 on model that names the profile ids to send, and Bedrock's words
    assert isinstance(error, InvalidRequest)
    assert (error.status, error.param, error.code) == (400, "model", "inference_profile_required")
    assert "us.cohere.embed-v4:0, eu.cohere.embed-v4:0, global.cohere.embed-v4:0" in error.message
    assert error.message.endswith(f"Bedrock said: {detail}")


def test_on_demand_unsupported_for_a_model_without_documented_profiles_shows_how_ids_look() -> None:
    detail = ON_DEMAND.format("amazon.titan-embed-text-v1", "\u2019")
    error = translate(client_error("ValidationException", 400, detail), model_id="amazon.titan-embed-text-v1")
    assert (error.param, error.code) == ("model", "inference_profile_required")
    assert "us.<model id>" in error.message and "GET /models" in error.message


def test_an_invalid_model_identifier_is_400_on_model() -> None:
    detail = "The provided model identifier is invalid."
    error = translate(
        client_error("ValidationException", 400, detail), model_id="jp.amazon.titan-embed-text-v2:0"
    )
    assert (error.status, error.param, error.code) == (400, "model", "bedrock_validation")
    assert "jp.amazon.titan-embed-text-v2:0" in error.message


def test_other_validation_errors_name_no_field() -> None:
    error = translate(client_error("ValidationException", 400, "Malformed input request"), model_id="m")
    assert (error.param, error.code) == (None, "bedrock_validation")
