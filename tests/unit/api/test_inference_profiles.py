"""Inference profiles through the handlers: embeddings, OpenAI, similarity and GET /models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from embedrock import wiring
from embedrock.handlers import embeddings, models, similarity
from embedrock.settings import Settings
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
    # Then Bedrock's refusal reaches the client as a 400 on model that names the way out
    assert status == 400, body
    assert (body["error"]["param"], body["error"]["code"]) == ("model", "inference_profile_required")
    assert "inference profile" in body["error"]["message"]
    # And through its profile it works
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": f"us.{TITAN_V1}", "text": "hi"})
    assert status == 200 and body["model"] == f"us.{TITAN_V1}"


def test_a_profile_bedrock_does_not_have_is_400(runtime: FakeBedrockRuntime) -> None:
    # When a well-formed profile id names a catalog model but no profile Bedrock has
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": f"jp.{TITAN_V2}", "text": "hi"})
    # Then Bedrock, which knows which profiles exist for Titan V2, answers; its refusal is a 400 on model
    assert status == 400, body
    assert body["error"]["param"] == "model" and "GET /models" in body["error"]["message"]
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


COHERE_V4 = "cohere.embed-v4:0"
V4_PROFILES = ("us.cohere.embed-v4:0", "eu.cohere.embed-v4:0", "global.cohere.embed-v4:0")


@pytest.fixture
def v4_profile_only() -> Iterator[FakeBedrockRuntime]:
    # Cohere v4 as Bedrock serves it in most regions: through its profiles only
    emulator = InProcessEmulator(EmulatorOptions(profile_only=[COHERE_V4]))
    with serving(FakeBedrockRuntime(emulator=emulator)) as fake:
        yield fake


def test_a_bare_profile_only_model_is_400_on_model_listing_its_profile_ids(
    v4_profile_only: FakeBedrockRuntime,
) -> None:
    # When Cohere v4 is called by its own id where Bedrock serves it only through profiles
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": COHERE_V4, "text": "hi"})
    # Then the 400 is on model, coded, and lists the profile ids to send instead
    assert status == 400, body
    error = body["error"]
    assert (error["param"], error["code"]) == ("model", "inference_profile_required")
    assert all(profile in error["message"] for profile in V4_PROFILES)
    # And one of them works
    status, body = call(embeddings.handler, "POST", "/embeddings", {"model": V4_PROFILES[2], "text": "hi"})
    assert status == 200, body


def test_a_geography_without_a_profile_is_400_before_any_bedrock_call(
    v4_profile_only: FakeBedrockRuntime,
) -> None:
    status, body = call(
        embeddings.handler, "POST", "/v1/embeddings", {"model": f"apac.{COHERE_V4}", "input": "hi"}
    )
    assert status == 400, body
    assert (body["error"]["param"], body["error"]["code"]) == ("model", "inference_profile_not_found")
    assert all(profile in body["error"]["message"] for profile in V4_PROFILES)
    assert v4_profile_only.calls == []


@pytest.fixture
def deployed_with_us_v4(runtime: FakeBedrockRuntime) -> Iterator[FakeBedrockRuntime]:
    # The functions as the stack configures them with embedrock:inferenceProfiles=us.cohere.embed-v4:0
    wiring.override(settings=Settings(EMBEDROCK_INFERENCE_PROFILES="us.cohere.embed-v4:0"))
    yield runtime


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/embeddings", {"model": US_TITAN, "texts": ["a"]}),
        ("/v1/embeddings", {"model": US_TITAN, "input": "a"}),
        ("/v1/embeddings", {"model": "eu.cohere.embed-v4:0", "input": "a"}),
        ("/similarity", {"model": US_TITAN, "texts": ["a", "b"]}),
    ],
)
def test_a_profile_the_deployment_does_not_allow_is_400_naming_the_allowed_ones(
    deployed_with_us_v4: FakeBedrockRuntime, path: str, body: dict[str, Any]
) -> None:
    # When a request names a profile the stack's IAM does not grant
    handler = similarity.handler if path == "/similarity" else embeddings.handler
    status, answer = call(handler, "POST", path, body)
    # Then it is a 400 on model naming the allowed profile, not Bedrock's 403, and costs no call
    assert status == 400, answer
    error = answer["error"]
    assert (error["param"], error["code"]) == ("model", "inference_profile_not_allowed")
    assert "us.cohere.embed-v4:0" in error["message"]
    assert deployed_with_us_v4.calls == []
    # And the bare model id is still served
    status, answer = call(embeddings.handler, "POST", "/embeddings", {"model": TITAN_V2, "text": "a"})
    assert status == 200, answer
