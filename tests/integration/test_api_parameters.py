"""Request parameters end to end, through the local gateway to the emulator over loopback HTTP:
what the emulator was sent for the official OpenAI client's extra_body, for max_tokens and for a
/similarity query purpose; and the capabilities GET /models shows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from openai import OpenAI

from embedrock_local.runtime.serve import LocalRuntime

pytestmark = pytest.mark.integration

V4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"


def sent(runtime: LocalRuntime, model_id: str) -> list[dict[str, Any]]:
    """The request bodies the emulator received for the model, oldest first."""
    assert runtime.emulator is not None
    return runtime.emulator.stats.bodies(model_id)


def unique(word: str) -> str:
    """A text no other test sends, to find its call among those the emulator kept."""
    return f"{word} {uuid.uuid4().hex}"


def test_the_openai_clients_extra_body_reaches_bedrock_as_the_query_purpose(runtime: LocalRuntime) -> None:
    # Given the official OpenAI client pointed at the local gateway
    client = OpenAI(base_url=runtime.url + "/v1", api_key="unused", max_retries=0)
    query = unique("what is python")

    # When it embeds a query with extra_body={"input_type": "search_query"}
    result = client.embeddings.create(input=query, model=V4, extra_body={"input_type": "search_query"})

    # Then the body Bedrock (the emulator) got was a search_query, and the vector came back
    (body,) = [body for body in sent(runtime, V4) if body.get("texts") == [query]]
    assert body["input_type"] == "search_query"
    assert len(result.data[0].embedding) == 1536


def test_the_openai_client_still_embeds_documents_by_default(runtime: LocalRuntime) -> None:
    client = OpenAI(base_url=runtime.url + "/v1", api_key="unused", max_retries=0)
    document = unique("a document")
    client.embeddings.create(input=[document], model=V4)
    (body,) = [body for body in sent(runtime, V4) if body.get("texts") == [document]]
    assert body["input_type"] == "search_document"


def test_max_tokens_reaches_v4_and_other_models_refuse_it(runtime: LocalRuntime) -> None:
    # Given a text of more than 2 tokens, cut at its end
    text = unique("cut me")
    request = {"model": V4, "texts": [text], "max_tokens": 2, "truncate": "RIGHT"}
    response = requests.post(f"{runtime.url}/embeddings", json=request, timeout=30)
    assert response.status_code == 200, response.text
    (body,) = [body for body in sent(runtime, V4) if body.get("texts") == [text]]
    assert (body["max_tokens"], body["truncate"]) == (2, "RIGHT")
    # And without truncate (NONE), the text over max_tokens is Bedrock's 400, never cut silently
    kept = requests.post(f"{runtime.url}/embeddings", json={**request, "truncate": "NONE"}, timeout=30)
    assert kept.status_code == 400 and "too long" in kept.json()["error"]["message"]

    refused = requests.post(f"{runtime.url}/embeddings", json={"texts": ["hi"], "max_tokens": 2}, timeout=30)
    error = refused.json()["error"]
    assert refused.status_code == 400 and (error["param"], error["code"]) == (
        "max_tokens",
        "unsupported_parameter",
    )
    assert V4 in error["message"]


def test_a_nova_query_purpose_leaves_the_documents_indexed_generically(runtime: LocalRuntime) -> None:
    query, documents = unique("query"), [unique("first"), unique("second")]
    response = requests.post(
        f"{runtime.url}/similarity",
        json={"model": NOVA, "query": query, "documents": documents, "input_type": "TEXT_RETRIEVAL"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    purposes = {
        body["singleEmbeddingParams"]["text"]["value"]: body["singleEmbeddingParams"]["embeddingPurpose"]
        for body in sent(runtime, NOVA)
        if body["singleEmbeddingParams"].get("text", {}).get("value") in {query, *documents}
    }
    assert purposes == {query: "TEXT_RETRIEVAL", documents[0]: "GENERIC_INDEX", documents[1]: "GENERIC_INDEX"}


def test_models_show_the_capabilities(runtime: LocalRuntime) -> None:
    models = {m["id"]: m for m in requests.get(f"{runtime.url}/models", timeout=30).json()["models"]}
    v4 = models[V4]
    assert v4["max_tokens"] == 128_000 and v4["image_formats"] == ["png", "jpeg"]
    assert v4["truncate_modes"] == ["NONE", "LEFT", "RIGHT"] and v4["joint_text_image"] is True
    assert models["amazon.titan-embed-image-v1"]["max_image_pixels"] == {"width": 2048, "height": 2048}
