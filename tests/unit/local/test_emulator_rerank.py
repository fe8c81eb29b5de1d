"""The emulator's rerank models: Bedrock's bodies and validation errors, deterministic scores."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from tests.unit.local.test_bench_minilm import needs_minilm

AMAZON, COHERE = "amazon.rerank-v1:0", "cohere.rerank-v3-5:0"
DOCUMENTS = ["the cat sat on the mat", "stock markets fell sharply today", "a cat and a mat"]


def invoke(body: dict[str, Any], model_id: str = COHERE, emulator: InProcessEmulator | None = None) -> Any:
    client = (emulator or InProcessEmulator()).runtime_client()
    response = client.invoke_model(
        modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
    )
    return json.loads(response["body"].read())


def validation_message(body: dict[str, Any], model_id: str = COHERE) -> str:
    with pytest.raises(ClientError) as raised:
        invoke(body, model_id)
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ValidationException",
        400,
    )
    message: str = error["Error"]["Message"]
    return message


def test_results_are_best_first_truncated_to_top_n_and_deterministic() -> None:
    body = {"query": "cat on a mat", "documents": DOCUMENTS, "top_n": 2, "api_version": 2}

    first, again = invoke(body), invoke(body)

    assert first == again
    assert set(first) == {"results"}
    assert sorted(result["index"] for result in first["results"]) == [0, 2]  # the two sharing words
    scores = [result["relevance_score"] for result in first["results"]]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= score <= 1.0 for score in scores)


def test_amazon_rerank_needs_no_api_version_and_defaults_top_n_to_all() -> None:
    payload = invoke({"query": "cat", "documents": DOCUMENTS}, AMAZON)

    assert sorted(result["index"] for result in payload["results"]) == [0, 1, 2]


@pytest.mark.parametrize(
    ("body", "model_id", "needle"),
    [
        ({"query": "q", "documents": ["a"]}, COHERE, "required key [api_version]"),
        ({"query": "q", "documents": ["a"], "api_version": 1}, COHERE, "1 is not greater or equal to 2"),
        ({"query": "q", "documents": [], "api_version": 2}, COHERE, "#/documents"),
        ({"query": "", "documents": ["a"]}, AMAZON, "#/query"),
        ({"query": "q", "documents": ["a", 3]}, AMAZON, "#/documents/1"),
        ({"query": "q", "documents": ["a"], "top_n": 2}, AMAZON, "#/top_n"),
        ({"query": "q", "documents": ["a"] * 1001}, AMAZON, "maximum item count: 1000"),
        ({"query": "q", "documents": ["a"], "top_k": 1}, AMAZON, "extraneous key [top_k]"),
    ],
)
def test_bad_bodies_get_bedrock_validation_errors(body: dict[str, Any], model_id: str, needle: str) -> None:
    message = validation_message(body, model_id)

    assert message.startswith("Malformed input request: ")
    assert needle in message


@needs_minilm
def test_minilm_ranks_by_meaning_without_shared_words() -> None:
    emulator = InProcessEmulator(EmulatorOptions(engine="minilm"))
    documents = ["The stock market fell sharply today.", "Boil water, then add the spaghetti."]

    payload = invoke(
        {"query": "How do I cook pasta?", "documents": documents, "api_version": 2}, emulator=emulator
    )

    assert payload["results"][0]["index"] == 1
