"""The 403 for Bedrock's AccessDeniedException says what a user must do today (README, model access)."""

from __future__ import annotations

from embedrock.bedrock.error_mapping import translate
from embedrock.errors import ModelAccessDenied
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
