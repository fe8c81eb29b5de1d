"""The whole service on loopback: every route through the local gateway with real clients."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
import requests
from openai import OpenAI

from embedrock import catalog, routes
from embedrock_local.runtime.serve import LocalRuntime
from tests.integration.conftest import API_KEY

pytestmark = pytest.mark.integration

SEED = "Python is a programming language"
# USD per input token of the default model, from the catalog.
TITAN_V2_PRICE = (
    next(m.price_per_million_tokens for m in catalog.MODELS if m.id == catalog.DEFAULT_MODEL_ID) / 1e6
)


def post(runtime: LocalRuntime, path: str, body: Any, **headers: str) -> requests.Response:
    return requests.post(f"{runtime.url}{path}", json=body, headers=headers, timeout=30)


def cosine(a: list[float], b: list[float]) -> float:
    u, v = np.asarray(a), np.asarray(b)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def test_seed_scenario_end_to_end(runtime: LocalRuntime) -> None:
    # Given the seed notebook's steps, When run through the local API
    models = requests.get(f"{runtime.url}/models", timeout=30).json()["models"]
    embed_ids = [model["id"] for model in models if "embed" in model["id"]]
    response = post(
        runtime, "/embeddings", {"text": SEED, "model": "amazon.titan-embed-text-v2:0", "dimensions": 1024}
    )
    pairs = post(
        runtime,
        "/similarity",
        {"pairs": [[SEED, "i have to go to the market"], ["Its a sunny day", "Today it may not be raining"]]},
    )

    # Then the catalog's models are listed, the vector is 1024-d with norm ~1, and scores are cosines
    assert set(catalog.model_ids()) <= set(embed_ids)
    assert response.status_code == 200
    body = response.json()
    assert body["dimensions"] == 1024 and len(body["embeddings"][0]) == 1024
    assert np.linalg.norm(body["embeddings"][0]) == pytest.approx(1.0, abs=1e-4)
    assert body["usage"]["requests"] == 1 and body["usage"]["input_tokens"] > 0
    assert body["usage"]["cost_usd"] == pytest.approx(body["usage"]["input_tokens"] * TITAN_V2_PRICE)
    assert pairs.status_code == 200
    scores = pairs.json()["scores"]
    pairs_usage = pairs.json()["usage"]
    assert pairs_usage["cost_usd"] == pytest.approx(pairs_usage["input_tokens"] * TITAN_V2_PRICE)
    assert len(scores) == 2 and all(-1.0 <= score <= 1.0 for score in scores)
    assert abs(scores[0]) < 0.3  # unrelated sentences


def test_shared_words_score_higher_and_results_keep_input_order(runtime: LocalRuntime) -> None:
    texts = [
        "the cat sat on the mat",
        "a cat sat on a mat",
        "stock prices fell sharply",
        "the cat sat on the mat",
    ]
    vectors = post(runtime, "/embeddings", {"texts": texts, "dimensions": 256}).json()["embeddings"]
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert vectors[0] == pytest.approx(vectors[3], abs=1e-12)


def test_384_dimensions_for_titan_v2_is_a_400_listing_the_allowed_values(runtime: LocalRuntime) -> None:
    response = post(runtime, "/embeddings", {"texts": ["x"], "dimensions": 384})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "dimensions" and "256, 512, 1024" in error["message"]


def test_cohere_batches_of_more_than_96_texts_work(runtime: LocalRuntime) -> None:
    texts = [f"document number {i}" for i in range(200)]
    response = post(runtime, "/embeddings", {"texts": texts, "model": "cohere.embed-english-v3"})
    assert response.status_code == 200
    body = response.json()
    assert len(body["embeddings"]) == 200 and body["usage"]["requests"] == 3


def test_openai_client_base64_default_and_float_give_the_same_vectors(runtime: LocalRuntime) -> None:
    # Given the official OpenAI client pointed at the local API
    client = OpenAI(base_url=f"{runtime.url}/v1", api_key="unused", max_retries=0)
    texts = ["hello world", "embeddings on bedrock"]

    # When it asks with its default encoding (base64) and with floats
    default = client.embeddings.create(model="amazon.titan-embed-text-v2:0", input=texts, dimensions=512)
    floats = client.embeddings.create(
        model="amazon.titan-embed-text-v2:0", input=texts, dimensions=512, encoding_format="float"
    )

    # Then both decode to the same 512-d vectors, in order
    assert [item.index for item in default.data] == [0, 1]
    for decoded, plain in zip(default.data, floats.data, strict=True):
        assert len(decoded.embedding) == 512
        assert np.allclose(decoded.embedding, plain.embedding, rtol=1e-6, atol=1e-7)
    assert default.usage.prompt_tokens > 0 and default.usage.total_tokens == default.usage.prompt_tokens
    # And the client keeps the extra usage field cost_usd: the tokens at the catalog price
    assert default.usage.model_extra == {
        "cost_usd": pytest.approx(default.usage.prompt_tokens * TITAN_V2_PRICE)
    }


def test_openai_route_raw_base64_is_little_endian_float32(runtime: LocalRuntime) -> None:
    body = post(runtime, "/v1/embeddings", {"input": "hello", "encoding_format": "base64"}).json()
    vector = np.frombuffer(base64.b64decode(body["data"][0]["embedding"]), dtype="<f4")
    assert body["object"] == "list" and vector.shape == (1024,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_openai_client_token_arrays_get_the_vectors_of_their_texts(runtime: LocalRuntime) -> None:
    # Given the official OpenAI client and "hello world" as cl100k_base token ids (what
    # langchain-openai's OpenAIEmbeddings sends by default), and as text
    client = OpenAI(base_url=f"{runtime.url}/v1", api_key="unused", max_retries=0)
    model = "amazon.titan-embed-text-v2:0"

    # When it embeds the token arrays and the texts
    by_tokens = client.embeddings.create(model=model, input=[[15339, 1917], [15339]])
    by_text = client.embeddings.create(model=model, input=["hello world", "hello"])

    # Then the vectors are those of the decoded texts, in order
    for tokens, text in zip(by_tokens.data, by_text.data, strict=True):
        assert tokens.index == text.index
        assert np.allclose(tokens.embedding, text.embedding, rtol=1e-6, atol=1e-7)
    assert by_tokens.usage.prompt_tokens == by_text.usage.prompt_tokens


def test_openai_bad_token_ids_are_a_clear_400(runtime: LocalRuntime) -> None:
    response = post(runtime, "/v1/embeddings", {"input": [[15339], [1917, 100_257]]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "input[1][1]" and "from 0 to 100,255" in error["message"]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"texts": ["a b", "a c"]}, "score"),
        ({"pairs": [["a b", "a c"], ["x", "y"]]}, "scores"),
        ({"texts": ["a", "b", "c"], "matrix": True}, "matrix"),
        ({"query": "cat", "documents": ["a cat", "a dog", "the cat"], "top_k": 2}, "results"),
        ({"vectors": [[1, 0], [1, 1]], "metric": "cosine"}, "score"),
    ],
)
def test_similarity_shapes(runtime: LocalRuntime, body: dict[str, Any], key: str) -> None:
    response = post(runtime, "/similarity", body)
    assert response.status_code == 200, response.text
    assert key in response.json()


def test_similarity_on_vectors_is_exact(runtime: LocalRuntime) -> None:
    body = post(runtime, "/similarity", {"vectors": [[0, 0], [3, 4]], "metric": "euclidean"}).json()
    assert body["score"] == pytest.approx(5.0)


def test_models_routes(runtime: LocalRuntime) -> None:
    listed = requests.get(f"{runtime.url}/models", params={"provider": "Cohere"}, timeout=30).json()["models"]
    one = requests.get(f"{runtime.url}/models/amazon.titan-embed-text-v2:0", timeout=30)
    missing = requests.get(f"{runtime.url}/models/amazon.nothing-v9", timeout=30)
    assert listed and all(model["provider"] == "Cohere" for model in listed)
    assert one.status_code == 200 and one.json()["dimensions"]["allowed"] == [256, 512, 1024]
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"


def test_health_docs_and_openapi(runtime: LocalRuntime) -> None:
    assert requests.get(f"{runtime.url}/health", timeout=30).json()["status"] == "ok"
    docs = requests.get(f"{runtime.url}/docs", timeout=30)
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    paths = requests.get(f"{runtime.url}/openapi.json", timeout=30).json()["paths"]
    for route in routes.ROUTES:
        if route.path not in ("/docs", "/openapi.json"):
            assert route.path in paths, route.path


def test_unknown_route_and_invalid_json_get_the_error_shape(runtime: LocalRuntime) -> None:
    unknown = requests.get(f"{runtime.url}/nowhere", timeout=30)
    broken = requests.post(
        f"{runtime.url}/embeddings",
        data=b"{not json",
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert unknown.status_code == 404 and set(unknown.json()["error"]) == {"type", "message", "param", "code"}
    assert broken.status_code == 400 and "JSON" in broken.json()["error"]["message"]


def test_a_body_over_the_limit_is_a_413(runtime: LocalRuntime) -> None:
    response = requests.post(
        f"{runtime.url}/embeddings", data=b"x" * (routes.MAX_REQUEST_BYTES + 1), timeout=30
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


def test_api_key_is_required_except_for_health_and_docs(faults: LocalRuntime) -> None:
    without = post(faults, "/embeddings", {"text": "x"})
    wrong = post(faults, "/embeddings", {"text": "x"}, **{"x-api-key": "wrong"})
    right = post(faults, "/embeddings", {"text": "x"}, **{"x-api-key": API_KEY})
    health = requests.get(f"{faults.url}/health", timeout=30)
    assert without.status_code == 403 and wrong.status_code == 403
    assert without.json()["error"]["code"] == "invalid_api_key"
    assert right.status_code == 200 and health.status_code == 200


def test_throttling_reaches_the_client_as_429_with_retry_after_after_retries(faults: LocalRuntime) -> None:
    # Given Bedrock throttles every call
    assert faults.emulator is not None
    faults.emulator.faults.add("throttle")

    # When a text is embedded
    response = post(faults, "/embeddings", {"text": "x"}, **{"x-api-key": API_KEY})

    # Then the client gets a 429 with Retry-After, after the client layer's two attempts
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert faults.emulator.stats.calls("InvokeModel") == 2


def test_a_bedrock_timeout_reaches_the_client_as_504(faults: LocalRuntime) -> None:
    # Given Bedrock holds every call longer than the 1 s read timeout
    assert faults.emulator is not None
    faults.emulator.faults.add("timeout", seconds=3)

    response = post(faults, "/embeddings", {"text": "x"}, **{"x-api-key": API_KEY})

    assert response.status_code == 504
    assert response.json()["error"]["type"] == "upstream_error"


def test_access_denied_is_a_403_naming_the_marketplace_subscription(faults: LocalRuntime) -> None:
    assert faults.emulator is not None
    faults.emulator.faults.add("access_denied", model="cohere.*")

    denied = post(
        faults, "/embeddings", {"text": "x", "model": "cohere.embed-english-v3"}, **{"x-api-key": API_KEY}
    )
    allowed = post(faults, "/embeddings", {"text": "x"}, **{"x-api-key": API_KEY})

    assert denied.status_code == 403 and "aws-marketplace:Subscribe" in denied.json()["error"]["message"]
    assert allowed.status_code == 200
