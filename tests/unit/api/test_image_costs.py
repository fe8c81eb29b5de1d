"""What images cost: `usage.cost_usd` counts the images Bedrock billed, at the catalog's real prices.

Titan Multimodal bills each image at its catalog price on top of the text tokens; Cohere Embed v4
bills an image as the tokens its header counts (the emulator counts them as Bedrock does); images
answered from the cache, or whose call failed, are not billed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from embedrock import catalog, wiring
from embedrock.bedrock.embedder import BedrockEmbedder, EmbedResult
from embedrock.cache import CachedEmbedder, EmbeddingCache
from embedrock.embed_input import EmbedInput, ImageData
from embedrock.embed_spec import resolve_spec
from embedrock.handlers import embeddings
from embedrock_local.runtime.emulator.cohere import image_tokens
from embedrock_local.tools.ingest.local import Usage
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime
from tests.fixtures.images import data_uri, png
from tests.fixtures.ingest.harness import CACHE_TABLE, create_cache_table

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_MM = "amazon.titan-embed-image-v1"
V4 = "cohere.embed-v4:0"


def model(model_id: str) -> catalog.CatalogModel:
    found = catalog.find(model_id)
    assert found is not None
    return found


def post(body: dict[str, Any]) -> dict[str, Any]:
    response = embeddings.handler(api_event("POST", "/embeddings", body), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    result: dict[str, Any] = response_json(response)
    return result


def titan_cost(tokens: int, images: int) -> float:
    titan = model(TITAN_MM)
    assert titan.price_per_image is not None
    return tokens * titan.price_per_million_tokens / 1e6 + images * titan.price_per_image


def test_titan_multimodal_images_are_billed_per_image_on_top_of_the_text(bedrock: FakeBedrockRuntime) -> None:
    # Given an image alone and a text with an image, for Titan Multimodal
    body = post(
        {
            "model": TITAN_MM,
            "inputs": [{"image": data_uri(png())}, {"text": "a cat", "image": data_uri(png())}],
        }
    )

    # Then the cost is the text tokens at the token price plus two images at the catalog's image price
    usage = body["usage"]
    assert usage["input_tokens"] == 2  # "a cat": Titan counts the text's tokens only
    assert usage["cost_usd"] == pytest.approx(titan_cost(2, 2), abs=1e-12)
    assert usage["cost_usd"] > titan_cost(2, 0)


def test_v4_images_are_billed_as_the_tokens_bedrock_counts(bedrock: FakeBedrockRuntime) -> None:
    # Given a 512 x 512 image for Cohere Embed v4
    body = post({"model": V4, "inputs": [{"image": data_uri(png(512, 512))}]})

    # Then the token count holds the image's tokens, and the cost follows them (not 0)
    usage = body["usage"]
    assert usage["input_tokens"] == 1_610
    assert usage["cost_usd"] == pytest.approx(1_610 * model(V4).price_per_million_tokens / 1e6, abs=1e-12)


@pytest.mark.parametrize(
    ("size", "tokens"),
    [
        ((512, 512), 1_610),
        ((1024, 1024), 4 * 1_610),
        ((4000, 4000), math.ceil(1_610 * 2_458_624 / 512**2)),  # downsampled to 2,458,624 pixels
        ((8, 8), math.ceil(1_610 * 3_136 / 512**2)),  # upsampled to 3,136 pixels
    ],
)
def test_the_emulator_counts_v4_image_tokens_by_pixels(size: tuple[int, int], tokens: int) -> None:
    assert image_tokens(ImageData("png", png(*size))) == tokens


def test_a_failed_call_s_image_is_not_billed(bedrock: FakeBedrockRuntime) -> None:
    # Given two text+image items, Bedrock refusing the first one's call
    bedrock.fail_on_text["bad"] = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "refused"}}, "InvokeModel"
    )
    items = [{"text": "bad", "image": data_uri(png())}, {"text": "good", "image": data_uri(png())}]

    # When embedded with partial results
    body = post({"model": TITAN_MM, "inputs": items, "partial": True})

    # Then only the call that succeeded is billed: its text and its one image
    assert [error["index"] for error in body["errors"]] == [0]
    assert body["usage"]["input_tokens"] == 1
    assert body["usage"]["cost_usd"] == pytest.approx(titan_cost(1, 1), abs=1e-12)


def test_the_embedder_counts_the_images_of_each_call() -> None:
    # Given Cohere v4 items, some with images, over two calls (96 per call)
    runtime = FakeBedrockRuntime()
    image = ImageData("png", png())
    items = [EmbedInput(f"t {i}", image) if i % 3 == 0 else f"text {i}" for i in range(100)]

    # When embedded
    result = BedrockEmbedder(runtime, max_concurrency=2).embed(resolve_spec(model_id=V4), items)

    # Then every image sent is counted once
    assert result.bedrock_calls == 2
    assert result.images == sum(1 for item in items if isinstance(item, EmbedInput))


@pytest.fixture
def cached_embedder() -> Iterator[CachedEmbedder]:
    with mock_aws():
        cache = EmbeddingCache(create_cache_table(), CACHE_TABLE, ttl_days=30)
        yield CachedEmbedder(BedrockEmbedder(FakeBedrockRuntime(), max_concurrency=2), cache)


def test_cached_images_are_free_and_new_ones_are_counted(cached_embedder: CachedEmbedder) -> None:
    spec = resolve_spec(model_id=TITAN_MM)
    first, second = ImageData("png", png(shade=1)), ImageData("png", png(shade=2))

    # When an image is embedded, then again with a new one
    once = cached_embedder.embed(spec, [EmbedInput(image=first)])
    again = cached_embedder.embed(spec, [EmbedInput(image=first), EmbedInput(image=second)])
    all_cached = cached_embedder.embed(spec, [EmbedInput(image=second)])

    # Then each is billed once: the cache hits count no image
    assert (once.images, again.images, all_cached.images) == (1, 1, 0)
    assert (once.bedrock_calls, again.bedrock_calls, all_cached.bedrock_calls) == (1, 1, 0)


def test_local_ingest_usage_prices_the_images() -> None:
    import numpy as np

    usage = Usage()
    usage.add(
        resolve_spec(model_id=TITAN_MM),
        EmbedResult(vectors=np.zeros((3, 4)), input_tokens=10, bedrock_calls=3, images=3),
    )
    assert usage.cost_usd == pytest.approx(titan_cost(10, 3), abs=1e-12)


def teardown_function() -> None:
    wiring.reset()
