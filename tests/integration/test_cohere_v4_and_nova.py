"""Cohere Embed v4 and Nova Multimodal Embeddings end to end: boto3 against the emulator over
loopback HTTP, then POST /embeddings, /v1/embeddings (the official OpenAI client) and GET /models
through the local gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from openai import OpenAI

from embedrock_local.runtime.emulator import Emulator
from embedrock_local.runtime.serve import LocalRuntime
from tests.fixtures.images import data_uri, png

pytestmark = pytest.mark.integration

V4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
SEED = "Python is a programming language"


@pytest.fixture(scope="module")
def bedrock() -> Iterator[Any]:
    with Emulator() as emulator:
        yield boto3.Session().client(
            "bedrock-runtime",
            endpoint_url=emulator.url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )


def invoke(client: Any, model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    response = client.invoke_model(
        modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
    )
    return json.loads(response["body"].read()), response["ResponseMetadata"]["HTTPHeaders"]


def validation_message(client: Any, model_id: str, body: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as caught:
        invoke(client, model_id, body)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


def nova(value: str, **params: Any) -> dict[str, Any]:
    return {
        "schemaVersion": "nova-multimodal-embed-v1",
        "taskType": "SINGLE_EMBEDDING",
        "singleEmbeddingParams": {
            "embeddingPurpose": "GENERIC_INDEX",
            "text": {"truncationMode": "NONE", "value": value},
            **params,
        },
    }


# --- boto3 against the emulator ---------------------------------------------------------------


def test_v4_answers_a_dict_by_type_with_tokens_in_the_header(bedrock: Any) -> None:
    body, headers = invoke(
        bedrock,
        V4,
        {
            "texts": ["a", SEED],
            "input_type": "search_query",
            "embedding_types": ["float", "int8"],
            "output_dimension": 512,
        },
    )
    assert body["response_type"] == "embeddings_by_type" and set(body["embeddings"]) == {"float", "int8"}
    assert [len(row) for row in body["embeddings"]["float"]] == [512, 512]
    assert [len(row) for row in body["embeddings"]["int8"]] == [512, 512]
    assert int(headers["x-amzn-bedrock-input-token-count"]) == 6


def test_v4_without_embedding_types_still_answers_by_type_at_1536(bedrock: Any) -> None:
    body, _ = invoke(bedrock, V4, {"texts": [SEED], "input_type": "search_document"})
    assert list(body["embeddings"]) == ["float"] and len(body["embeddings"]["float"][0]) == 1536


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"texts": ["x"]}, "required key [input_type] not found"),
        ({"texts": ["x"], "input_type": "search_query", "output_dimension": 384}, "#/output_dimension: 384"),
        ({"texts": ["x"], "input_type": "search_query", "truncate": "END"}, "#/truncate: END"),
        (
            {"texts": ["x"], "input_type": "search_query", "embedding_types": "float"},
            "expected type: JSONArray",
        ),
        ({"texts": ["x"] * 97, "input_type": "search_query"}, "expected maximum item count: 96"),
        ({"input_type": "search_query"}, "exactly one of [texts], [images] or [inputs]"),
    ],
)
def test_v4_validation_is_bedrock_worded(bedrock: Any, body: dict[str, Any], words: str) -> None:
    assert words in validation_message(bedrock, V4, body)


def test_v4_long_text_is_rejected_unless_truncated(bedrock: Any) -> None:
    long = "word " * 128_001
    request = {"texts": [long], "input_type": "search_document", "output_dimension": 256}
    assert "too long" in validation_message(bedrock, V4, request)
    body, headers = invoke(bedrock, V4, {**request, "truncate": "RIGHT"})
    assert int(headers["x-amzn-bedrock-input-token-count"]) == 128_000
    assert len(body["embeddings"]["float"][0]) == 256


@pytest.mark.parametrize("dimensions", [256, 384, 1024, 3072])
def test_nova_answers_a_list_of_typed_embeddings(bedrock: Any, dimensions: int) -> None:
    body, headers = invoke(bedrock, NOVA, nova(SEED, embeddingDimension=dimensions))
    (entry,) = body["embeddings"]
    assert entry["embeddingType"] == "TEXT" and len(entry["embedding"]) == dimensions
    assert int(headers["x-amzn-bedrock-input-token-count"]) == 5


def test_nova_default_dimension_is_3072(bedrock: Any) -> None:
    body, _ = invoke(bedrock, NOVA, nova(SEED))
    assert len(body["embeddings"][0]["embedding"]) == 3072


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**nova("x"), "taskType": "SEGMENTED_EMBEDDING"}, "StartAsyncInvoke"),
        (nova("x", embeddingDimension=512), "embeddingDimension: 512 is not a valid enum value"),
        (nova("x", embeddingPurpose="search_query"), "embeddingPurpose: search_query is not a valid enum"),
        ({"taskType": "SINGLE_EMBEDDING"}, "required key [singleEmbeddingParams] not found"),
        (nova("x", text={"value": "x"}), "required key [truncationMode] not found"),
        (nova("word " * 8193), "exceeds the maximum of 8192 tokens"),
    ],
)
def test_nova_validation_is_bedrock_worded(bedrock: Any, body: dict[str, Any], words: str) -> None:
    assert words in validation_message(bedrock, NOVA, body)


def test_v4_images_and_inputs_are_embedded(bedrock: Any) -> None:
    image = data_uri(png())
    images, _ = invoke(
        bedrock, V4, {"images": [image], "input_type": "search_document", "output_dimension": 256}
    )
    pair = {"content": [{"type": "text", "text": "a cat"}, {"type": "image_url", "image_url": image}]}
    inputs, headers = invoke(
        bedrock, V4, {"inputs": [pair], "input_type": "search_document", "output_dimension": 256}
    )
    assert len(images["embeddings"]["float"][0]) == len(inputs["embeddings"]["float"][0]) == 256
    assert images["embeddings"]["float"] != inputs["embeddings"]["float"]
    # "a cat" is 2 tokens; the image adds its own, as Bedrock counts v4 image tokens: a 2 x 2 image is
    # upsampled to 3,136 pixels, ceil(1,610 x 3,136 / 512**2) = 20 tokens by the emulator's stand-in.
    assert int(headers["x-amzn-bedrock-input-token-count"]) == 2 + 20


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"images": ["https://x/cat.png"], "input_type": "search_document"}, "Invalid image"),
        ({"texts": ["a"], "images": ["x"], "input_type": "search_document"}, "exactly one of [texts]"),
        (
            {"inputs": [{"content": [{"type": "video", "video": "x"}]}], "input_type": "search_document"},
            "video is not a valid enum",
        ),
    ],
)
def test_v4_image_validation(bedrock: Any, body: dict[str, Any], words: str) -> None:
    assert words in validation_message(bedrock, V4, body)


def test_nova_image_answers_an_image_embedding(bedrock: Any) -> None:
    image = {"format": "png", "source": {"bytes": data_uri(png()).split(",", 1)[1]}}
    body, _ = invoke(
        bedrock,
        NOVA,
        {**nova("x"), "singleEmbeddingParams": {"embeddingPurpose": "GENERIC_INDEX", "image": image}},
    )
    (entry,) = body["embeddings"]
    assert entry["embeddingType"] == "IMAGE" and len(entry["embedding"]) == 3072
    bad = {"embeddingPurpose": "GENERIC_INDEX", "image": {**image, "format": "bmp"}}
    assert "format: bmp is not a valid enum" in validation_message(
        bedrock, NOVA, {**nova("x"), "singleEmbeddingParams": bad}
    )


# --- through the local gateway ----------------------------------------------------------------


def post(runtime: LocalRuntime, path: str, body: Any) -> requests.Response:
    return requests.post(f"{runtime.url}{path}", json=body, timeout=30)


@pytest.mark.parametrize(("model_id", "dimensions"), [(V4, 1536), (NOVA, 3072)])
def test_embeddings_route_serves_both(runtime: LocalRuntime, model_id: str, dimensions: int) -> None:
    response = post(runtime, "/embeddings", {"texts": ["a cat", SEED], "model": model_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == model_id and body["dimensions"] == dimensions
    assert [len(vector) for vector in body["embeddings"]] == [dimensions, dimensions]
    assert all(np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4) for vector in body["embeddings"])
    assert body["usage"]["input_tokens"] > 0


@pytest.mark.parametrize(("model_id", "dimensions"), [(V4, 256), (NOVA, 384)])
def test_openai_client_embeds_with_both(runtime: LocalRuntime, model_id: str, dimensions: int) -> None:
    client = OpenAI(base_url=runtime.url + "/v1", api_key="unused", max_retries=0)
    result = client.embeddings.create(model=model_id, input=["one", "two"], dimensions=dimensions)
    assert [len(item.embedding) for item in result.data] == [dimensions, dimensions]
    assert result.usage.prompt_tokens > 0


def test_models_route_lists_both_as_supported(runtime: LocalRuntime) -> None:
    models = {m["id"]: m for m in requests.get(f"{runtime.url}/models", timeout=30).json()["models"]}
    for model_id, default in ((V4, 1536), (NOVA, 3072)):
        assert models[model_id]["supported"] is True
        assert models[model_id]["dimensions"]["default"] == default
    assert "GENERIC_RETRIEVAL" in models[NOVA]["input_types"]
    assert models[V4]["embedding_types"] == ["float", "int8", "uint8", "binary", "ubinary"]
    assert models[NOVA]["embedding_types"] == ["float"]
