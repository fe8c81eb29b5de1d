"""Identical inputs of one request are embedded once and copied back in order, billed once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from moto import mock_aws

from embedrock import catalog
from embedrock.bedrock.embedder import BedrockEmbedder
from embedrock.cache import CachedEmbedder, EmbeddingCache
from embedrock.cache_table import KEY
from embedrock.embed_input import EmbedInput, ImageData
from embedrock.embed_spec import resolve_spec
from embedrock.handlers import embeddings, similarity
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime, client_error, fake_unit_vector
from tests.fixtures.images import png
from tests.fixtures.ingest.harness import CACHE_TABLE, create_cache_table

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_MM = "amazon.titan-embed-image-v1"
COHERE = "cohere.embed-english-v3"


def sent_texts(fake: FakeBedrockRuntime) -> list[str]:
    return [text for _, body in fake.calls for text in body.get("texts", [body.get("inputText")])]


def price(model_id: str) -> float:
    model = catalog.find(model_id)
    assert model is not None
    return model.price_per_million_tokens / 1e6


def test_fifty_copies_of_a_text_are_one_call_and_one_text_s_tokens() -> None:
    fake = FakeBedrockRuntime()
    embedder = BedrockEmbedder(fake, max_concurrency=8)  # type: ignore[arg-type]
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)
    once = embedder.embed(spec, ["the same sentence, again"])

    result = embedder.embed(spec, ["the same sentence, again"] * 50)

    assert len(fake.calls) == 2 and result.bedrock_calls == 1
    assert result.vectors.shape == (50, 256)
    np.testing.assert_allclose(result.vectors, np.repeat(once.vectors, 50, axis=0), rtol=1e-6)
    assert result.input_tokens == once.input_tokens > 0


def test_mixed_duplicates_keep_input_order() -> None:
    fake = FakeBedrockRuntime(latency_seconds=0.005)  # calls finish out of order
    embedder = BedrockEmbedder(fake, max_concurrency=4)  # type: ignore[arg-type]
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)
    texts = ["alpha", "beta", "alpha", "gamma", "beta", "alpha", "delta words here"]

    result = embedder.embed(spec, texts)

    assert sorted(sent_texts(fake)) == ["alpha", "beta", "delta words here", "gamma"]
    assert result.bedrock_calls == 4
    for text, row in zip(texts, result.vectors, strict=True):
        np.testing.assert_allclose(row, fake_unit_vector(text, 256), rtol=1e-6)


def test_cohere_packs_calls_of_96_from_the_distinct_texts_only() -> None:
    fake = FakeBedrockRuntime()
    embedder = BedrockEmbedder(fake, max_concurrency=4)  # type: ignore[arg-type]
    spec = resolve_spec(model_id=COHERE)
    distinct_texts = [f"document {i}" for i in range(100)]
    texts = distinct_texts + distinct_texts[::-1]  # 200 inputs, 100 distinct

    result = embedder.embed(spec, texts)

    # 100 distinct texts: two calls (96 + 4), not three (96 + 96 + 8), and no text sent twice
    assert result.bedrock_calls == 2
    assert sorted(len(body["texts"]) for _, body in fake.calls) == [4, 96]
    assert sorted(sent_texts(fake)) == sorted(distinct_texts)
    np.testing.assert_allclose(result.vectors[:100], result.vectors[100:][::-1], rtol=1e-6)
    assert not np.allclose(result.vectors[0], result.vectors[1])


def test_the_same_image_is_embedded_once_and_a_different_one_is_not_a_copy() -> None:
    fake = FakeBedrockRuntime()
    embedder = BedrockEmbedder(fake, max_concurrency=4)  # type: ignore[arg-type]
    spec = resolve_spec(model_id=TITAN_MM)
    grey, white = ImageData("png", png(shade=0)), ImageData("png", png(shade=255))
    items = [
        EmbedInput(image=grey),
        EmbedInput(image=ImageData("png", png(shade=0))),  # equal bytes, another object
        EmbedInput(image=white),
        EmbedInput(text="a cat", image=grey),  # the text makes it another input
        EmbedInput(image=grey),
    ]

    result = embedder.embed(spec, items)

    assert result.bedrock_calls == len(fake.calls) == 3
    assert result.images == 3  # billed images: the distinct ones sent
    np.testing.assert_allclose(result.vectors[1], result.vectors[0], rtol=1e-6)
    np.testing.assert_allclose(result.vectors[4], result.vectors[0], rtol=1e-6)
    assert not np.allclose(result.vectors[2], result.vectors[0])
    assert not np.allclose(result.vectors[3], result.vectors[0])


def test_a_failed_text_fails_every_copy_of_it_in_a_partial_result() -> None:
    fake = FakeBedrockRuntime()
    fake.fail_on_text["bad"] = client_error("ValidationException", 400, "too long")
    embedder = BedrockEmbedder(fake, max_concurrency=4)  # type: ignore[arg-type]
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)

    result = embedder.embed(spec, ["bad", "good", "bad", "good"], partial=True)

    assert [index for index, _ in result.failures] == [0, 2]
    assert len(fake.calls) == result.bedrock_calls == 2
    np.testing.assert_allclose(result.vectors[3], result.vectors[1], rtol=1e-6)
    assert not result.vectors[[0, 2]].any()


class CountingDynamoDB:
    """The moto table's client, counting the items each batch write puts."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.written: list[str] = []

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._client.batch_get_item(**kwargs)
        return answer

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        for request in kwargs["RequestItems"][CACHE_TABLE]:
            self.written.append(request["PutRequest"]["Item"][KEY]["S"])
        answer: dict[str, Any] = self._client.batch_write_item(**kwargs)
        return answer


@pytest.fixture
def dynamodb() -> Iterator[CountingDynamoDB]:
    with mock_aws():
        yield CountingDynamoDB(create_cache_table())


def test_a_duplicated_miss_is_one_call_and_one_cache_write(dynamodb: CountingDynamoDB) -> None:
    fake = FakeBedrockRuntime()
    cached = CachedEmbedder(
        BedrockEmbedder(fake, max_concurrency=4),  # type: ignore[arg-type]
        EmbeddingCache(dynamodb, CACHE_TABLE, ttl_days=1),
    )
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)
    texts = ["alpha", "beta", "alpha", "alpha", "beta"]

    first = cached.embed(spec, texts)
    again = cached.embed(spec, [*texts, "gamma", "gamma"])

    # The first request: two calls, two items written; the second: one call and one item, for gamma
    assert sorted(sent_texts(fake)) == ["alpha", "beta", "gamma"]
    assert len(dynamodb.written) == len(set(dynamodb.written)) == 3
    assert (first.bedrock_calls, again.bedrock_calls) == (2, 1)
    assert again.vectors.shape == (7, 256)
    np.testing.assert_allclose(again.vectors[:5], first.vectors, rtol=1e-6)
    np.testing.assert_allclose(again.vectors[6], again.vectors[5], rtol=1e-6)
    for text, row in zip([*texts, "gamma", "gamma"], again.vectors, strict=True):
        np.testing.assert_allclose(row, fake_unit_vector(text, 256), rtol=1e-5)


def test_the_api_bills_copies_once_and_answers_one_vector_per_input(bedrock: FakeBedrockRuntime) -> None:
    texts = ["Its a sunny day"] * 50 + ["Today it may not be raining"] * 3
    response = embeddings.handler(
        api_event("POST", "/embeddings", {"texts": texts, "dimensions": 256}), LambdaContext()
    )
    body = response_json(response)
    assert response["statusCode"] == 200, body

    assert len(bedrock.calls) == 2
    assert len(body["embeddings"]) == 53
    np.testing.assert_allclose(body["embeddings"][49], body["embeddings"][0], rtol=1e-6)
    np.testing.assert_allclose(body["embeddings"][52], body["embeddings"][50], rtol=1e-6)
    tokens = body["usage"]["input_tokens"]
    single = embeddings.handler(
        api_event("POST", "/embeddings", {"texts": ["Its a sunny day", "Today it may not be raining"]}),
        LambdaContext(),
    )
    assert tokens == response_json(single)["usage"]["input_tokens"]
    assert body["usage"]["requests"] == 2
    assert body["usage"]["cost_usd"] == pytest.approx(tokens * price(TITAN_V2), abs=1e-12)


def test_openai_route_and_similarity_send_each_distinct_text_once(bedrock: FakeBedrockRuntime) -> None:
    openai = embeddings.handler(
        api_event("POST", "/v1/embeddings", {"input": ["x y", "x y", "x y"], "model": TITAN_V2}),
        LambdaContext(),
    )
    data = response_json(openai)["data"]
    assert [item["index"] for item in data] == [0, 1, 2]
    assert len(bedrock.calls) == 1

    scored = similarity.handler(
        api_event("POST", "/similarity", {"texts": ["same words", "same words"]}), LambdaContext()
    )
    assert response_json(scored)["score"] == pytest.approx(1.0, abs=1e-6)
    assert len(bedrock.calls) == 2
