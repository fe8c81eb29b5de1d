"""models_service: Bedrock's embedding models joined with the catalog (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from embedrock.api.services import model_info
from embedrock.errors import ApiError, InvalidRequest, ModelAccessDenied, NotFound, Throttled

TITAN_V2 = "amazon.titan-embed-text-v2:0"


def summary(
    model_id: str,
    *,
    provider: str = "Amazon",
    inference: tuple[str, ...] = ("ON_DEMAND",),
    outputs: tuple[str, ...] = ("EMBEDDING",),
    status: str = "ACTIVE",
) -> dict[str, Any]:
    return {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": f"Bedrock name of {model_id}",
        "providerName": provider,
        "inputModalities": ["TEXT"],
        "outputModalities": list(outputs),
        "responseStreamingSupported": False,
        "customizationsSupported": [],
        "inferenceTypesSupported": list(inference),
        "modelLifecycle": {"status": status},
    }


@pytest.fixture
def control() -> Any:
    return boto3.client("bedrock", region_name="us-east-1")


def test_models_are_joined_with_the_catalog(control: Any) -> None:
    # Given Bedrock listing a catalog model, its provisioned-only variant and an unknown model
    listed = [
        summary("cohere.embed-v9:0", provider="Cohere"),
        summary(TITAN_V2),
        summary(f"{TITAN_V2}:8k", inference=("PROVISIONED",)),
    ]
    with Stubber(control) as stub:
        stub.add_response(
            "list_foundation_models", {"modelSummaries": listed}, {"byOutputModality": "EMBEDDING"}
        )

        # When the models are listed
        views = model_info.list_models(control)

    # Then they come sorted by id, with catalog facts where the catalog knows the model
    assert [view.id for view in views] == [TITAN_V2, f"{TITAN_V2}:8k", "cohere.embed-v9:0"]
    titan, provisioned, unknown = views
    assert titan.supported and titan.dimensions is not None
    assert (titan.dimensions.allowed, titan.dimensions.default) == ([256, 512, 1024], 1024)
    assert titan.price_per_million_tokens == pytest.approx(0.02) and titan.max_texts_per_call == 1
    assert titan.name == f"Bedrock name of {TITAN_V2}" and titan.lifecycle_status == "ACTIVE"
    # And a model the catalog lacks is shown unsupported, its catalog fields null
    assert not unknown.supported and unknown.provider == "Cohere"
    assert (unknown.dimensions, unknown.max_input_tokens, unknown.price_per_million_tokens) == (
        None,
        None,
        None,
    )
    assert unknown.input_types is None and unknown.embedding_types is None
    # And a provisioned-only variant is not callable on demand
    assert not provisioned.supported and provisioned.inference_types == ["PROVISIONED"]


def test_catalog_model_offered_only_through_profiles_is_supported_and_marked(control: Any) -> None:
    # Given Bedrock offering a catalog model only through inference profiles here
    with Stubber(control) as stub:
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": [summary(TITAN_V2, inference=("INFERENCE_PROFILE",))]},
            {"byOutputModality": "EMBEDDING"},
        )
        # When listed
        (view,) = model_info.list_models(control)

    # Then this service can call it, through a profile, which the view says it needs
    assert view.dimensions is not None and view.supported and view.requires_inference_profile


def test_provider_filter_is_passed_to_bedrock(control: Any) -> None:
    # Given a provider filter
    with Stubber(control) as stub:
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": [summary("cohere.embed-english-v3", provider="Cohere")]},
            {"byOutputModality": "EMBEDDING", "byProvider": "Cohere"},
        )
        # When listed
        views = model_info.list_models(control, "Cohere")

    # Then Bedrock filtered (the Stubber checked the parameters)
    assert [view.id for view in views] == ["cohere.embed-english-v3"]


def test_a_malformed_provider_is_400_without_calling_bedrock(control: Any) -> None:
    # Given a provider Bedrock would reject
    with Stubber(control), pytest.raises(InvalidRequest) as raised:
        # When listed
        model_info.list_models(control, "Amazon;drop")

    # Then the 400 names the query parameter
    assert raised.value.param == "provider"


def test_get_model_describes_an_embedding_model(control: Any) -> None:
    # Given Bedrock knows the model
    with Stubber(control) as stub:
        stub.add_response(
            "get_foundation_model", {"modelDetails": summary(TITAN_V2)}, {"modelIdentifier": TITAN_V2}
        )
        # When it is described
        view = model_info.get_model(control, TITAN_V2)

    # Then catalog and Bedrock facts are joined
    assert view.id == TITAN_V2 and view.supported and view.max_input_chars == 50_000


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "ValidationException"])
def test_an_unknown_model_is_404(control: Any, code: str) -> None:
    # Given Bedrock does not know the id
    with Stubber(control) as stub:
        stub.add_client_error("get_foundation_model", service_error_code=code, http_status_code=400)
        # When it is described
        with pytest.raises(NotFound) as raised:
            model_info.get_model(control, "nope.model-v1")

    # Then it is a 404 naming the path parameter
    assert raised.value.status == 404 and raised.value.param == "model_id"
    assert "nope.model-v1" in raised.value.message


def test_a_model_that_does_not_embed_is_404(control: Any) -> None:
    # Given a text-generation model
    with Stubber(control) as stub:
        stub.add_response(
            "get_foundation_model", {"modelDetails": summary("amazon.nova-pro-v1:0", outputs=("TEXT",))}
        )
        # When it is described
        with pytest.raises(NotFound) as raised:
            model_info.get_model(control, "amazon.nova-pro-v1:0")

    # Then the 404 says it is not an embedding model
    assert "not an embedding model" in raised.value.message


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [("AccessDeniedException", 403, ModelAccessDenied), ("ThrottlingException", 429, Throttled)],
)
def test_other_bedrock_errors_are_translated(
    control: Any, code: str, status: int, error: type[ApiError]
) -> None:
    # Given Bedrock failing
    with Stubber(control) as stub:
        stub.add_client_error("list_foundation_models", service_error_code=code, http_status_code=status)
        # When listing
        with pytest.raises(error) as raised:
            model_info.list_models(control)

    # Then the API error has Bedrock's meaning
    assert raised.value.status == status
