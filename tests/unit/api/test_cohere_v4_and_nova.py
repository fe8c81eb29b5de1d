"""Cohere Embed v4 and Nova Multimodal Embeddings through POST /embeddings: exact Bedrock bodies,
decoded answers, and the per-model checks that refuse a bad request before any call."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from embedrock import catalog
from embedrock.api.schemas import EmbeddingsRequest, InputType
from embedrock.handlers import embeddings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime
from tests.fakes import fake_unit_vector as unit

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

V4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
SEED = "Python is a programming language"


def post(body: dict[str, Any], path: str = "/embeddings") -> dict[str, Any]:
    response: dict[str, Any] = embeddings.handler(api_event("POST", path, body), LambdaContext())
    return response


def nova_body(text: str, purpose: str = "GENERIC_INDEX", dimensions: int = 3072, mode: str = "NONE") -> Any:
    return {
        "schemaVersion": "nova-multimodal-embed-v1",
        "taskType": "SINGLE_EMBEDDING",
        "singleEmbeddingParams": {
            "embeddingPurpose": purpose,
            "embeddingDimension": dimensions,
            "text": {"truncationMode": mode, "value": text},
        },
    }


# --- Cohere Embed v4 -------------------------------------------------------------------------


def test_v4_defaults_send_a_list_of_types_the_dimension_and_truncate_none(
    bedrock: FakeBedrockRuntime,
) -> None:
    # When a text is embedded with v4 and nothing else
    body = response_json(post({"text": SEED, "model": V4}))
    # Then Bedrock got v4's body: embedding_types as a LIST, output_dimension 1536, truncate NONE
    assert bedrock.calls == [
        (
            V4,
            {
                "texts": [SEED],
                "input_type": "search_document",
                "embedding_types": ["float"],
                "output_dimension": 1536,
                "truncate": "NONE",
            },
        )
    ]
    # And the dict-by-type answer is read: one unit vector at 1536, tokens from the header
    (vector,) = body["embeddings"]
    assert body["dimensions"] == 1536 and len(vector) == 1536
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    np.testing.assert_allclose(vector, unit(SEED, 1536), atol=1e-6)
    # 5 tokens at the catalog's 0.12 USD per 1M
    assert body["usage"] == {"input_tokens": 5, "requests": 1, "cost_usd": pytest.approx(6e-07)}


def test_v4_query_int8_at_256_truncated_left(bedrock: FakeBedrockRuntime) -> None:
    request = {
        "texts": ["a query", "another"],
        "model": V4,
        "dimensions": 256,
        "input_type": "search_query",
        "embedding_type": "int8",
        "truncate": "LEFT",
    }
    body = response_json(post(request))
    assert bedrock.calls[0][1] == {
        "texts": ["a query", "another"],
        "input_type": "search_query",
        "embedding_types": ["int8"],
        "output_dimension": 256,
        "truncate": "LEFT",
    }
    assert body["embedding_type"] == "int8"
    for vector in body["embeddings"]:
        assert len(vector) == 256 and all(isinstance(value, int) and -128 <= value <= 127 for value in vector)


@pytest.mark.parametrize(("kind", "low", "high"), [("binary", -128, 127), ("ubinary", 0, 255)])
def test_v4_binary_types_are_packed_bits(bedrock: FakeBedrockRuntime, kind: str, low: int, high: int) -> None:
    body = response_json(post({"text": SEED, "model": V4, "dimensions": 512, "embedding_type": kind}))
    (vector,) = body["embeddings"]
    assert len(vector) == 512 // 8 and all(low <= value <= high for value in vector)
    as_bytes = np.asarray(vector) + (128 if kind == "binary" else 0)
    bits = np.unpackbits(as_bytes.astype(np.uint8))
    assert (bits == (unit(SEED, 512) > 0)).all()


def test_v4_takes_96_texts_per_call(bedrock: FakeBedrockRuntime) -> None:
    texts = [f"doc {i}" for i in range(97)]
    body = response_json(post({"texts": texts, "model": V4, "dimensions": 256}))
    assert sorted(len(request["texts"]) for _, request in bedrock.calls) == [1, 96]
    np.testing.assert_allclose(body["embeddings"][96], unit("doc 96", 256), atol=1e-6)


# --- Nova Multimodal Embeddings -------------------------------------------------------------


def test_nova_defaults_are_generic_index_at_3072_truncation_none(bedrock: FakeBedrockRuntime) -> None:
    body = response_json(post({"text": SEED, "model": NOVA}))
    assert bedrock.calls == [(NOVA, nova_body(SEED))]
    (vector,) = body["embeddings"]
    assert body["dimensions"] == 3072 and len(vector) == 3072
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    # 5 tokens at the catalog's 0.135 USD per 1M
    assert body["usage"] == {"input_tokens": 5, "requests": 1, "cost_usd": pytest.approx(6.75e-07)}


@pytest.mark.parametrize(
    ("input_type", "purpose"),
    [
        ("search_document", "GENERIC_INDEX"),
        ("search_query", "GENERIC_RETRIEVAL"),
        ("classification", "CLASSIFICATION"),
        ("clustering", "CLUSTERING"),
        ("TEXT_RETRIEVAL", "TEXT_RETRIEVAL"),
        ("DOCUMENT_RETRIEVAL", "DOCUMENT_RETRIEVAL"),
    ],
)
def test_nova_input_types_become_embedding_purposes(
    bedrock: FakeBedrockRuntime, input_type: str, purpose: str
) -> None:
    post({"text": SEED, "model": NOVA, "input_type": input_type, "dimensions": 256, "truncate": "RIGHT"})
    assert bedrock.calls == [(NOVA, nova_body(SEED, purpose, 256, "END"))]


def test_nova_takes_one_text_per_call_and_keeps_order(bedrock: FakeBedrockRuntime) -> None:
    texts = [f"text number {i}" for i in range(5)]
    body = response_json(post({"texts": texts, "model": NOVA, "dimensions": 384}))
    assert body["usage"]["requests"] == 5 and len(bedrock.calls) == 5
    for text, vector in zip(texts, body["embeddings"], strict=True):
        np.testing.assert_allclose(vector, unit(text, 384), atol=1e-6)


def test_nova_through_the_openai_route(bedrock: FakeBedrockRuntime) -> None:
    body = response_json(post({"input": ["a", "b"], "model": NOVA, "dimensions": 1024}, "/v1/embeddings"))
    assert [len(item["embedding"]) for item in body["data"]] == [1024, 1024]
    assert {request["singleEmbeddingParams"]["embeddingPurpose"] for _, request in bedrock.calls} == {
        "GENERIC_INDEX"
    }


# --- truncate on the other models ------------------------------------------------------------


def test_cohere_v3_truncate_is_sent_in_its_own_words(bedrock: FakeBedrockRuntime) -> None:
    post({"text": SEED, "model": "cohere.embed-english-v3", "truncate": "RIGHT"})
    assert bedrock.calls[0][1]["truncate"] == "END"


# --- refused before any call ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"text": SEED, "model": NOVA, "dimensions": 512}, "dimensions", "256, 384, 1024, 3072"),
        ({"text": SEED, "model": V4, "dimensions": 3072}, "dimensions", "256, 512, 1024, 1536"),
        ({"text": SEED, "model": NOVA, "embedding_type": "int8"}, "embedding_type", "allowed values: float."),
        (
            {"text": SEED, "model": V4, "input_type": "GENERIC_INDEX"},
            "input_type",
            "search_query, classification",
        ),
        ({"text": SEED, "model": NOVA, "input_type": "generic"}, "input_type", "'TEXT_RETRIEVAL'"),
        ({"text": SEED, "truncate": "LEFT"}, "truncate", "not supported by amazon.titan-embed-text-v2:0"),
        ({"text": SEED, "model": V4, "truncate": "START"}, "truncate", "'NONE', 'LEFT' or 'RIGHT'"),
        ({"texts": ["x" * 50_001], "model": NOVA}, "texts[0]", "at most 50000 characters"),
    ],
)
def test_bad_requests_for_the_new_models_are_400_and_cost_nothing(
    bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str, words: str
) -> None:
    response = post(body)
    error = json.loads(response["body"])["error"]
    assert response["statusCode"] == 400
    assert error["param"] == param and words in error["message"]
    assert bedrock.calls == []


def test_the_schema_takes_exactly_the_catalogs_input_types() -> None:
    in_catalog = list(dict.fromkeys(kind for model in catalog.MODELS for kind in model.input_types))
    field = EmbeddingsRequest.model_json_schema()["properties"]["input_type"]
    # The OpenAPI enum is the catalog's, in its order
    assert field["anyOf"][0] == {"type": "string", "enum": in_catalog}
    # And validation takes every catalog value and nothing else, naming them all when it refuses
    adapter: TypeAdapter[str] = TypeAdapter(InputType)
    assert [adapter.validate_python(kind) for kind in in_catalog] == in_catalog
    for bad in ("search", "Search_Query", 1, None):
        with pytest.raises(ValidationError) as caught:
            adapter.validate_python(bad)
        (error,) = caught.value.errors()
        assert error["type"] == "literal_error"
        assert all(repr(kind) in error["ctx"]["expected"] for kind in in_catalog)


def test_an_unknown_input_type_names_every_allowed_one(bedrock: FakeBedrockRuntime) -> None:
    response = post({"text": SEED, "model": V4, "input_type": "query"})
    error = json.loads(response["body"])["error"]
    assert response["statusCode"] == 400 and error["param"] == "input_type"
    assert error["code"] == "invalid_value"
    assert "'search_query'" in error["message"] and "'TEXT_RETRIEVAL'" in error["message"]
    assert bedrock.calls == []
