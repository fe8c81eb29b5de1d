"""GET /models and GET /models/{model_id} through the models function's handler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from embedrock import catalog, wiring
from embedrock.handlers import models
from tests.events import LambdaContext, api_event, load, response_json
from tests.unit.api.test_models_service import summary

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"


@pytest.fixture
def stub() -> Iterator[Stubber]:
    control = boto3.client("bedrock", region_name="us-east-1")
    wiring.override(control=control)
    with Stubber(control) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    wiring.reset()


def get(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = models.handler(api_event("GET", path, query=query), LambdaContext())
    return response


def test_list_models_joins_bedrock_and_the_catalog(stub: Stubber) -> None:
    # Given Bedrock lists Titan V2 and a model the catalog lacks
    stub.add_response(
        "list_foundation_models",
        {"modelSummaries": [summary(TITAN_V2), summary("amazon.new-embed-v1:0")]},
        {"byOutputModality": "EMBEDDING"},
    )
    # And no inference profile, and full access to Titan V2 (the catalog model, asked once)
    stub.add_response("list_inference_profiles", {"inferenceProfileSummaries": []}, {})
    stub.add_response(
        "get_foundation_model_availability",
        {
            "modelId": TITAN_V2,
            "agreementAvailability": {"status": "AVAILABLE"},
            "authorizationStatus": "AUTHORIZED",
            "entitlementAvailability": "AVAILABLE",
            "regionAvailability": "AVAILABLE",
        },
        {"modelId": TITAN_V2},
    )

    # When GET /models is called
    response = get("/models")

    # Then both are listed with every documented field
    assert response["statusCode"] == 200
    new, titan = response_json(response)["models"]
    assert titan == {
        "id": TITAN_V2,
        "name": f"Bedrock name of {TITAN_V2}",
        "provider": "Amazon",
        "input_modalities": ["TEXT"],
        "dimensions": {"allowed": [256, 512, 1024], "default": 1024},
        "max_texts_per_call": 1,
        "max_input_tokens": 8192,
        "max_input_chars": 50000,
        "input_types": [],
        "embedding_types": ["float", "binary"],
        "price_per_million_tokens": 0.02,
        "truncate_modes": [],
        "max_tokens": None,
        "image_formats": [],
        "max_image_bytes": None,
        "max_image_pixels": None,
        "joint_text_image": False,
        "price_per_image": None,
        "batch_price_per_million_tokens": pytest.approx(0.01),
        "lifecycle_status": "ACTIVE",
        "inference_types": ["ON_DEMAND"],
        "supported": True,
        "requires_inference_profile": False,
        "inference_profiles": [],
        "access": {
            "authorization_status": "AUTHORIZED",
            "agreement_status": "AVAILABLE",
            "agreement_error": None,
            "entitlement_availability": "AVAILABLE",
            "region_availability": "AVAILABLE",
            "ready": True,
        },
    }
    assert new["supported"] is False and new["dimensions"] is None and new["price_per_million_tokens"] is None
    # And the catalog's capabilities are null for the model it lacks, not guessed
    capabilities = ("truncate_modes", "max_tokens", "image_formats", "joint_text_image", "price_per_image")
    assert all(new[name] is None for name in capabilities)


def test_seed_step_list_models_whose_id_contains_embed(stub: Stubber) -> None:
    # Given Bedrock's embedding models
    ids = [TITAN_V2, "amazon.titan-embed-text-v1", "cohere.embed-english-v3"]
    stub.add_response(
        "list_foundation_models",
        {"modelSummaries": [summary(model_id) for model_id in ids]},
        {"byOutputModality": "EMBEDDING"},
    )

    # When the seed notebook's filter is applied to GET /models
    listed = [model["id"] for model in response_json(get("/models"))["models"] if "embed" in model["id"]]

    # Then all three are there and callable
    assert sorted(listed) == sorted(ids)


def test_provider_query_filters_in_bedrock(stub: Stubber) -> None:
    # Given a provider filter
    stub.add_response(
        "list_foundation_models",
        {"modelSummaries": [summary("cohere.embed-english-v3", provider="Cohere")]},
        {"byOutputModality": "EMBEDDING", "byProvider": "Cohere"},
    )

    # When GET /models?provider=Cohere is called
    response = get("/models", {"provider": "Cohere"})

    # Then Bedrock was asked for Cohere's models only
    assert [model["id"] for model in response_json(response)["models"]] == ["cohere.embed-english-v3"]


def test_bad_provider_is_400(stub: Stubber) -> None:
    # Given a provider with characters Bedrock rejects
    # When listed
    response = get("/models", {"provider": "<script>"})

    # Then the 400 names the query parameter
    assert response["statusCode"] == 400 and response_json(response)["error"]["param"] == "provider"


def test_a_provider_with_no_embedding_model_is_400_naming_the_providers(stub: Stubber) -> None:
    # Given Bedrock lists nothing for the provider, and Amazon's and Cohere's models unfiltered
    stub.add_response(
        "list_foundation_models",
        {"modelSummaries": []},
        {"byOutputModality": "EMBEDDING", "byProvider": "nope"},
    )
    stub.add_response(
        "list_foundation_models",
        {
            "modelSummaries": [
                summary("cohere.embed-english-v3", provider="Cohere"),
                summary("amazon.titan-embed-text-v2:0"),
            ]
        },
        {"byOutputModality": "EMBEDDING"},
    )
    # When GET /models?provider=nope is called
    response = get("/models", {"provider": "nope"})
    # Then it is a 400 on provider listing the providers Bedrock has, not an empty list
    error = response_json(response)["error"]
    assert response["statusCode"] == 400
    assert (error["param"], error["code"]) == ("provider", "unknown_provider")
    assert "allowed values: Amazon, Cohere" in error["message"]


def test_get_model_from_the_recorded_event(stub: Stubber) -> None:
    # Given the recorded GET /models/{model_id} event (an id with '.' and ':')
    stub.add_response(
        "get_foundation_model", {"modelDetails": summary(TITAN_V2)}, {"modelIdentifier": TITAN_V2}
    )

    # When it is handled
    response = models.handler(load("get_model.json"), LambdaContext())

    # Then the model is described
    assert response["statusCode"] == 200
    assert response_json(response)["id"] == TITAN_V2


def test_a_percent_encoded_model_id_is_decoded(stub: Stubber) -> None:
    # Given a client that encodes ':' in the path
    stub.add_response(
        "get_foundation_model", {"modelDetails": summary(TITAN_V2)}, {"modelIdentifier": TITAN_V2}
    )

    # When it asks for the model
    response = get("/models/amazon.titan-embed-text-v2%3A0")

    # Then Bedrock is asked for the real id
    assert response["statusCode"] == 200


def test_unknown_model_id_is_404(stub: Stubber) -> None:
    # Given Bedrock rejecting the id
    stub.add_client_error(
        "get_foundation_model", "ValidationException", "The provided model identifier is invalid."
    )

    # When it is asked for
    response = get("/models/not-a-model")

    # Then a 404 in the error shape
    assert response["statusCode"] == 404
    error = response_json(response)["error"]
    assert error["type"] == "not_found_error" and error["param"] == "model_id"


def test_a_model_that_is_not_an_embedding_model_is_404(stub: Stubber) -> None:
    # Given a text model
    stub.add_response(
        "get_foundation_model", {"modelDetails": summary("amazon.nova-pro-v1:0", outputs=("TEXT",))}
    )

    # When it is asked for
    response = get("/models/amazon.nova-pro-v1:0")

    # Then a 404 saying why
    assert response["statusCode"] == 404
    assert "not an embedding model" in response_json(response)["error"]["message"]


@pytest.mark.parametrize(
    ("code", "status"),
    [("AccessDeniedException", 403), ("ThrottlingException", 429), ("ServiceUnavailableException", 503)],
)
def test_bedrock_errors_keep_their_meaning(stub: Stubber, code: str, status: int) -> None:
    # Given Bedrock failing to list
    stub.add_client_error("list_foundation_models", code, http_status_code=status)

    # When GET /models is called
    response = get("/models")

    # Then the status follows the error table
    assert response["statusCode"] == status


def test_each_models_capabilities_come_from_the_catalog(stub: Stubber) -> None:
    # Given Bedrock lists the image models and a Cohere v3 model
    ids = ["amazon.titan-embed-image-v1", "cohere.embed-v4:0", "amazon.nova-2-multimodal-embeddings-v1:0"]
    stub.add_response(
        "list_foundation_models",
        {"modelSummaries": [summary(model_id) for model_id in [*ids, "cohere.embed-english-v3"]]},
        {"byOutputModality": "EMBEDDING"},
    )

    # When GET /models is called
    listed = {model["id"]: model for model in response_json(get("/models"))["models"]}

    # Then each shows the catalog's truncate modes, image facts, max_tokens and prices
    names = (
        "truncate_modes",
        "max_tokens",
        "image_formats",
        "max_image_bytes",
        "max_image_pixels",
        "joint_text_image",
        "price_per_image",
        "batch_price_per_million_tokens",
    )
    shown = {model_id: {name: listed[model_id][name] for name in names} for model_id in listed}
    assert shown["amazon.titan-embed-image-v1"] == {
        "truncate_modes": [],
        "max_tokens": None,
        "image_formats": ["png", "jpeg"],
        "max_image_bytes": 25_000_000,
        "max_image_pixels": {"width": 2048, "height": 2048},
        "joint_text_image": True,
        "price_per_image": next(m.price_per_image for m in catalog.MODELS if m.id == ids[0]),
        "batch_price_per_million_tokens": pytest.approx(0.40),
    }
    assert shown["cohere.embed-v4:0"] == {
        "truncate_modes": ["NONE", "LEFT", "RIGHT"],
        "max_tokens": 128_000,
        "image_formats": ["png", "jpeg"],
        "max_image_bytes": None,
        "max_image_pixels": None,
        "joint_text_image": True,
        "price_per_image": None,
        "batch_price_per_million_tokens": None,
    }
    nova = shown["amazon.nova-2-multimodal-embeddings-v1:0"]
    assert nova["image_formats"] == ["png", "jpeg", "gif", "webp"] and nova["joint_text_image"] is False
    assert nova["max_tokens"] is None and nova["truncate_modes"] == ["NONE", "LEFT", "RIGHT"]
    cohere_v3 = shown["cohere.embed-english-v3"]
    assert cohere_v3["image_formats"] == [] and cohere_v3["max_image_pixels"] is None
