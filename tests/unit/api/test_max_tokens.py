"""POST /embeddings `max_tokens`: Cohere Embed v4 only, within the catalog's bound, sent in the body
and part of the cache key; every other model refuses it, naming the ones that take it."""

from __future__ import annotations

from typing import Any

import pytest

from embedrock import catalog
from embedrock.cache import cache_key
from embedrock.embed_spec import resolve_spec
from embedrock.handlers import embeddings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

V4 = "cohere.embed-v4:0"
LIMIT = next(model.max_tokens_limit for model in catalog.MODELS if model.id == V4)


def post(body: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = embeddings.handler(api_event("POST", "/embeddings", body), LambdaContext())
    return response


def test_the_catalog_gives_max_tokens_to_v4_alone() -> None:
    assert LIMIT == 128_000
    assert [model.id for model in catalog.MODELS if model.max_tokens_limit] == [V4]


def test_v4_sends_max_tokens_when_asked(bedrock: FakeBedrockRuntime) -> None:
    response = post({"model": V4, "texts": ["hi"], "max_tokens": 100})
    assert response["statusCode"] == 200, response["body"]
    ((_, request),) = bedrock.calls
    assert request["max_tokens"] == 100 and request["texts"] == ["hi"]


def test_v4_leaves_max_tokens_out_by_default(bedrock: FakeBedrockRuntime) -> None:
    post({"model": V4, "texts": ["hi"]})
    ((_, request),) = bedrock.calls
    assert "max_tokens" not in request


def test_the_bounds_are_taken(bedrock: FakeBedrockRuntime) -> None:
    for value in (1, LIMIT):
        assert post({"model": V4, "text": "hi", "max_tokens": value})["statusCode"] == 200
    assert [request["max_tokens"] for _, request in bedrock.calls] == [1, LIMIT]


def test_max_tokens_is_part_of_the_cache_key_only_when_set() -> None:
    plain = resolve_spec(model_id=V4)
    assert plain.cache_key_parts() == (V4, 1536, True, "search_document", "float")
    capped = resolve_spec(model_id=V4, max_tokens=100)
    assert cache_key(capped, "hi") != cache_key(plain, "hi")
    assert cache_key(capped, "hi") != cache_key(resolve_spec(model_id=V4, max_tokens=101), "hi")
    # Never read as a truncate mode: both together keep both
    both = resolve_spec(model_id=V4, max_tokens=100, truncate="LEFT").cache_key_parts()
    assert both[-2:] == ("LEFT", "max_tokens=100")


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"texts": ["hi"], "max_tokens": 100}, "unsupported_parameter", f"Models that take it: {V4}."),
        (
            {"model": "cohere.embed-english-v3", "texts": ["hi"], "max_tokens": 100},
            "unsupported_parameter",
            V4,
        ),
        ({"model": V4, "texts": ["hi"], "max_tokens": 0}, "invalid_max_tokens", f"1 to {LIMIT}"),
        ({"model": V4, "texts": ["hi"], "max_tokens": LIMIT + 1}, "invalid_max_tokens", f"1 to {LIMIT}"),
        ({"model": V4, "texts": ["hi"], "max_tokens": "100"}, "invalid_type", "an integer"),
        ({"model": V4, "texts": ["hi"], "max_tokens": 1.5}, "invalid_type", "an integer"),
    ],
)
def test_a_max_tokens_the_model_cannot_take_is_a_400(
    bedrock: FakeBedrockRuntime, body: dict[str, Any], code: str, words: str
) -> None:
    response = post(body)
    error = response_json(response)["error"]
    assert response["statusCode"] == 400 and error["param"] == "max_tokens"
    assert error["code"] == code and words in error["message"]
    assert bedrock.calls == []
