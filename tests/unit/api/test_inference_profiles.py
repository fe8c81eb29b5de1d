"""Inference profiles through the handlers: embeddings, OpenAI, similarity and GET /models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from embedrock import wiring
from embedrock.handlers import embeddings, models, similarity
from embedrock_local.runtime.emulator import EmulatorOptions, FaultKind, InProcessEmulator
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime, serving

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_V1 = "amazon.titan-embed-text-v1"
COHERE = "cohere.embed-english-v3"
US_TITAN = f"us.{TITAN_V2}"
# Profiles beyond the page size the emulator answers with, so GET /models must follow nextToken.
PROFILES = [US_TITAN, f"eu.{TITAN_V2}", f"us.{TITAN_V1}", f"apac.{TITAN_V1}", f"us.{COHERE}"]


@pytest.fixture
def emulator() -> InProcessEmulator:
    return InProcessEmulator(
        EmulatorOptions(profiles=PROFILES, profile_only=[TITAN_V1], require_agreement=["cohere.*"])
    )


@pytest.fixture
def runtime(emulator: InProcessEmulator) -> Iterator[FakeBedrockRuntime]:
    with serving(FakeBedrockRuntime(emulator=emulator)) as fake:
        yield fake


@pytest.fixture
def control(emulator: InProcessEmulator) -> Iterator[InProcessEmulator]:
    wiring.override(control=emulator.control_client())
    yield emulator
    wiring.reset()


def call(handler: Any, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    response = handler(api_event(method, path, body), LambdaContext())
    return response["statusCode"], response_json(response)


def test_embeddings_through_a_profile_invoke_it_and_echo_it(runtime: FakeBedrockRuntime) -> None:
    # When Titan V2 is asked for through its US profile
    status, body = call(
        embeddings.handler, "POST", "/embeddings", {"model": US_TITAN, "texts": ["a", "b"], "dimensions": 256}
    )
    # Then Bedrock is invoked with the profile id, the body is Titan V2's, and the id sent is echoed
    assert status == 200, body
    assert [model_id for model_id, _ in runtime.calls] == [US_TITAN, US_TITAN]
    assert runtime.calls[0][1] == {"inputText": "a", "dimensions": 256, "normalize": True}
    assert body["model"] == US_TITAN and len(body["embeddings"][0]) == 256


def test_openai_and_similarity_take_profile_ids(runtime: FakeBedrockRuntime) -> None:
    status, openai = call(embeddings.handler, "POST", "/v1/embeddings", {"model": US_TITAN, "input": "hi"})
    assert status == 200 and openai["model"] == US_TITAN
    status, scored = call(
        similarity.handler, "POST", "/similarity", {"model": US_TITAN, "texts": ["a b", "a c"]}
    )
    assert status == 200 and scored["model"] == US_TITAN
    assert {model_id for model_id, _ in runtime.calls} == {US_TITAN}


def test_a_profile_only_model_by_its_own_id_is_a_400_saying_to_use_a_profile(
    runtime: FakeBedrockRuntime,
) -> None:
    # When a model Bedrock offers only through profiles is called by its own id
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": TITAN_V1, "text": "hi"})
    # Then Bedrock's refusal reaches the client as a 400 that names the way out
    assert status == 400, body
    assert "inference profile" in body["error"]["message"]
    # And through its profile it works
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": f"us.{TITAN_V1}", "text": "hi"})
    assert status == 200 and body["model"] == f"us.{TITAN_V1}"


def test_a_profile_bedrock_does_not_have_is_400(runtime: FakeBedrockRuntime) -> None:
    # When a well-formed profile id names a catalog model but no profile Bedrock has
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": f"jp.{TITAN_V2}", "text": "hi"})
    # Then Bedrock's invalid-identifier answer is a 400
    assert status == 400, body
    assert runtime.calls == [(f"jp.{TITAN_V2}", {"inputText": "hi", "dimensions": 1024, "normalize": True})]


def test_a_model_without_its_agreement_is_403_before_and_listed_as_such(
    runtime: FakeBedrockRuntime, control: InProcessEmulator
) -> None:
    # Given Cohere needs its Marketplace agreement: GET /models says so before any paid call
    _, listing = call(models.handler, "GET", "/models")
    cohere = next(model for model in listing["models"] if model["id"] == COHERE)
    assert cohere["supported"] and cohere["access"]["agreement_status"] == "NOT_AVAILABLE"
    assert cohere["access"]["ready"] is False
    # And an embedding call meets the 403
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": COHERE, "text": "hi"})
    assert status == 403, body


def test_models_list_profiles_from_every_page_and_mark_profile_only_models(
    control: InProcessEmulator,
) -> None:
    # When GET /models is called
    status, body = call(models.handler, "GET", "/models")
    assert status == 200, body
    by_id = {model["id"]: model for model in body["models"]}
    # Then each model shows the profiles that route to it, from every ListInferenceProfiles page
    assert [p["id"] for p in by_id[TITAN_V2]["inference_profiles"]] == [US_TITAN, f"eu.{TITAN_V2}"]
    assert [p["id"] for p in by_id[TITAN_V1]["inference_profiles"]] == [f"us.{TITAN_V1}", f"apac.{TITAN_V1}"]
    assert control.stats.calls("ListInferenceProfiles") >= 2
    us_profile = by_id[TITAN_V2]["inference_profiles"][0]
    assert us_profile["type"] == "SYSTEM_DEFINED" and "us-east-1" in us_profile["regions"]
    # And a model callable only through a profile is still supported, marked as such
    assert by_id[TITAN_V1]["supported"] and by_id[TITAN_V1]["requires_inference_profile"]
    assert not by_id[TITAN_V2]["requires_inference_profile"]
    # And Amazon's models are ready to call
    assert by_id[TITAN_V2]["access"]["ready"] is True


def test_availability_failures_show_unknown_for_that_model_only(control: InProcessEmulator) -> None:
    # Given GetFoundationModelAvailability is denied for Titan V2 and profiles cannot be listed
    control.faults.add(FaultKind.ACCESS_DENIED, operation="GetFoundationModelAvailability", model=TITAN_V2)
    control.faults.add(FaultKind.THROTTLE, operation="ListInferenceProfiles")
    # When GET /models is called
    status, body = call(models.handler, "GET", "/models")
    # Then the list still answers: unknown where Bedrock did not say, known elsewhere
    assert status == 200, body
    by_id = {model["id"]: model for model in body["models"]}
    assert by_id[TITAN_V2]["access"] is None and by_id[TITAN_V2]["supported"]
    assert by_id[COHERE]["access"]["agreement_status"] == "NOT_AVAILABLE"
    assert all(model["inference_profiles"] is None for model in body["models"])


def test_get_model_by_profile_id_describes_its_model(control: InProcessEmulator) -> None:
    # When GET /models/{profile id} is called
    status, body = call(models.handler, "GET", f"/models/{US_TITAN}")
    # Then it is the model, with its profiles and access
    assert status == 200, body
    assert body["id"] == TITAN_V2 and US_TITAN in [p["id"] for p in body["inference_profiles"]]
    assert body["access"]["ready"] is True
    # And a profile Bedrock does not list is a 404
    status, body = call(models.handler, "GET", f"/models/jp.{TITAN_V2}")
    assert status == 404 and body["error"]["param"] == "model_id"
