"""The emulator's inference profiles and model access, through its in-process boto3-shaped clients."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
BODY = json.dumps({"inputText": "hello"})


def code_and_message(error: ClientError) -> tuple[str, str]:
    return error.response["Error"]["Code"], error.response["Error"]["Message"]


def test_system_defined_profiles_are_listed_in_pages() -> None:
    # Given the default emulator (Cohere Embed v4's system-defined profiles) and one more profile
    control = InProcessEmulator(EmulatorOptions(profiles=[f"us.{TITAN_V2}"])).control_client()
    # When listed two at a time
    first = control.list_inference_profiles(maxResults=2)
    second = control.list_inference_profiles(maxResults=2, nextToken=first["nextToken"])
    ids = [
        p["inferenceProfileId"]
        for p in first["inferenceProfileSummaries"] + second["inferenceProfileSummaries"]
    ]
    # Then every profile comes once, the last page without a token
    assert ids == [
        "us.cohere.embed-v4:0",
        "eu.cohere.embed-v4:0",
        "global.cohere.embed-v4:0",
        f"us.{TITAN_V2}",
    ]
    assert "nextToken" not in second
    # And application profiles are none here
    assert control.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []


def test_invoke_through_a_profile_and_refusals() -> None:
    emulator = InProcessEmulator(EmulatorOptions(profiles=[f"us.{TITAN_V2}"], profile_only=[TITAN_V2]))
    runtime = emulator.runtime_client()
    # When invoked through the profile, it answers and counts the call for the model
    payload = json.loads(runtime.invoke_model(modelId=f"us.{TITAN_V2}", body=BODY)["body"].read())
    assert len(payload["embedding"]) == 1024 and emulator.stats.calls("InvokeModel", TITAN_V2) == 1
    # When the profile-only model is called by its own id: Bedrock's ValidationException
    with pytest.raises(ClientError) as bare:
        runtime.invoke_model(modelId=TITAN_V2, body=BODY)
    code, message = code_and_message(bare.value)
    assert code == "ValidationException"
    assert message == (
        f"Invocation of model ID {TITAN_V2} with on-demand throughput isn\u2019t supported. Retry your request "
        "with the ID or ARN of an inference profile that contains this model."
    )
    # When a profile that does not exist is called: the invalid-identifier answer
    with pytest.raises(ClientError) as unknown:
        runtime.invoke_model(modelId=f"eu.{TITAN_V2}", body=BODY)
    assert code_and_message(unknown.value) == (
        "ValidationException",
        "The provided model identifier is invalid.",
    )
    # And the listing shows the model as profile-only
    details = emulator.control_client().get_foundation_model(modelIdentifier=TITAN_V2)["modelDetails"]
    assert details["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]


def test_an_agreement_makes_the_model_available() -> None:
    emulator = InProcessEmulator(EmulatorOptions(require_agreement=["cohere.*"]))
    control, runtime = emulator.control_client(), emulator.runtime_client()
    cohere_body = json.dumps({"texts": ["hi"], "input_type": "search_query"})
    # Given Cohere needs its agreement: availability says so and InvokeModel is denied
    assert control.get_foundation_model_availability(modelId=COHERE)["agreementAvailability"] == {
        "status": "NOT_AVAILABLE"
    }
    with pytest.raises(ClientError) as denied:
        runtime.invoke_model(modelId=COHERE, body=cohere_body)
    code, message = code_and_message(denied.value)
    assert code == "AccessDeniedException" and "aws-marketplace:Subscribe" in message
    # When its offer is accepted
    (offer,) = control.list_foundation_model_agreement_offers(modelId=COHERE)["offers"]
    assert offer["termDetails"]["legalTerm"]["url"].startswith("https://aws.amazon.com/legal/")
    control.create_foundation_model_agreement(modelId=COHERE, offerToken=offer["offerToken"])
    # Then the agreement is available and the model answers; other models are unaffected
    assert control.get_foundation_model_availability(modelId=COHERE)["agreementAvailability"] == {
        "status": "AVAILABLE"
    }
    assert json.loads(runtime.invoke_model(modelId=COHERE, body=cohere_body)["body"].read())["embeddings"]
    other = control.get_foundation_model_availability(modelId="cohere.embed-multilingual-v3")
    assert other["agreementAvailability"]["status"] == "NOT_AVAILABLE"


def test_agreement_errors_are_bedrock_shaped() -> None:
    control = InProcessEmulator(EmulatorOptions(require_agreement=[COHERE])).control_client()
    with pytest.raises(control.exceptions.ValidationException):
        control.create_foundation_model_agreement(modelId=COHERE, offerToken="not-the-offer")
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.get_foundation_model_availability(modelId="amazon.unknown-v9:0")


@pytest.mark.parametrize(
    "options",
    [
        {"profiles": [TITAN_V2]},
        {"profiles": ["us.amazon.unknown-v9:0"]},
        {"profile_only": ["amazon.unknown-v9:0"]},
    ],
)
def test_options_refuse_what_cannot_be_served(options: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match=r"catalog|inference profile"):
        EmulatorOptions(**options)  # type: ignore[arg-type]
