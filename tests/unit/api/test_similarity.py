"""POST /similarity through the handler: every shape, texts and vectors, and its errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from embedrock import catalog, settings, wiring
from embedrock.handlers import similarity
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime, client_error
from tests.fakes import fake_unit_vector as unit

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"
# USD per input token, from the catalog: usage.cost_usd is tokens x price.
TITAN_V2_PRICE = next(m.price_per_million_tokens for m in catalog.MODELS if m.id == TITAN_V2) / 1e6
COHERE = "cohere.embed-english-v3"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
PYTHON, MARKET = "Python is a programming language", "i have to go to the market"
SUNNY, RAIN = "Its a sunny day", "Today it may not be raining"


def post(body: Any = None, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = similarity.handler(
        api_event("POST", "/similarity", body, **kwargs), LambdaContext()
    )
    return response


def ok(body: Any) -> dict[str, Any]:
    response = post(body)
    assert response["statusCode"] == 200, response["body"]
    result: dict[str, Any] = response_json(response)
    return result


def cosine(a: str, b: str, dimensions: int = 1024) -> float:
    return float(unit(a, dimensions) @ unit(b, dimensions))


def sent_texts(bedrock: FakeBedrockRuntime) -> list[str]:
    return sorted(
        text for _, request in bedrock.calls for text in request.get("texts", [request.get("inputText")])
    )


class TestTexts:
    def test_two_texts_give_one_score(self, bedrock: FakeBedrockRuntime) -> None:
        # Given the seed notebook's pair
        # When their similarity is asked for
        body = ok({"texts": [SUNNY, RAIN]})

        # Then one cosine score of their Titan V2 vectors comes back, with model and usage
        assert body["score"] == pytest.approx(cosine(SUNNY, RAIN))
        assert (body["metric"], body["model"], body["dimensions"]) == ("cosine", TITAN_V2, 1024)
        assert body["usage"] == {
            "input_tokens": 10,
            "requests": 2,
            "cost_usd": pytest.approx(10 * TITAN_V2_PRICE),
        }
        sent = sorted(bedrock.calls, key=lambda call: call[1]["inputText"])
        assert sent == [
            (TITAN_V2, {"inputText": SUNNY, "dimensions": 1024, "normalize": True}),
            (TITAN_V2, {"inputText": RAIN, "dimensions": 1024, "normalize": True}),
        ]
        assert set(body) == {"metric", "model", "dimensions", "usage", "score"}

    def test_dimensions_and_metric_are_honoured(self, bedrock: FakeBedrockRuntime) -> None:
        # Given 256 dimensions and the euclidean metric
        # When the pair is compared
        body = ok({"texts": [PYTHON, MARKET], "dimensions": 256, "metric": "euclidean"})

        # Then Titan was asked for 256 and the distance is of those vectors
        assert {request["dimensions"] for _, request in bedrock.calls} == {256}
        assert body["score"] == pytest.approx(float(np.linalg.norm(unit(PYTHON, 256) - unit(MARKET, 256))))

    def test_matrix_embeds_each_distinct_text_once(self, bedrock: FakeBedrockRuntime) -> None:
        # Given three texts, one repeated
        # When the matrix is asked for
        body = ok({"texts": [PYTHON, MARKET, PYTHON], "matrix": True})

        # Then two Bedrock calls, and a symmetric 3x3 matrix with ones on the diagonal
        assert sent_texts(bedrock) == sorted([PYTHON, MARKET])
        matrix = np.array(body["matrix"])
        assert matrix.shape == (3, 3) and (matrix == matrix.T).all() and (np.diag(matrix) == 1).all()
        # (a repeated text scores exactly 1: the product's contract, README "HTTP API")
        assert matrix[0, 2] == 1.0 and matrix[0, 1] == pytest.approx(cosine(PYTHON, MARKET))
        assert body["usage"]["requests"] == 2

    def test_pairs_give_one_score_each(self, bedrock: FakeBedrockRuntime) -> None:
        # Given two pairs sharing a text
        # When scored
        body = ok({"pairs": [[PYTHON, MARKET], [SUNNY, PYTHON]]})

        # Then three distinct texts were embedded, and the scores are in pair order
        assert sent_texts(bedrock) == sorted([PYTHON, MARKET, SUNNY])
        assert body["scores"] == pytest.approx([cosine(PYTHON, MARKET), cosine(SUNNY, PYTHON)])

    def test_query_ranks_documents_in_one_embedding_round(self, bedrock: FakeBedrockRuntime) -> None:
        # Given a query and three documents (one equal to the query)
        documents = [MARKET, PYTHON, SUNNY]

        # When the top 2 are asked for
        body = ok({"query": PYTHON, "documents": documents, "top_k": 2})

        # Then the distinct texts were embedded once and the exact match ranks first
        assert sent_texts(bedrock) == sorted(documents)
        first, second = body["results"]
        assert (first["index"], first["document"]) == (1, PYTHON) and first["score"] == pytest.approx(1.0)
        expected_second = max((0, 2), key=lambda i: cosine(PYTHON, documents[i]))
        assert second["index"] == expected_second and second["document"] == documents[expected_second]

    def test_top_k_defaults_to_every_document(self, bedrock: FakeBedrockRuntime) -> None:
        body = ok({"query": "x", "documents": ["a", "b", "c"]})
        assert sorted(result["index"] for result in body["results"]) == [0, 1, 2]

    def test_cohere_query_and_documents_get_their_own_input_types(self, bedrock: FakeBedrockRuntime) -> None:
        # Given Cohere and no input_type
        # When documents are ranked for a query
        body = ok({"query": "q", "documents": ["d1", "d2"], "model": COHERE})

        # Then the query went as search_query and the documents as search_document
        assert bedrock.calls == [
            (COHERE, {"texts": ["q"], "input_type": "search_query", "truncate": "NONE"}),
            (COHERE, {"texts": ["d1", "d2"], "input_type": "search_document", "truncate": "NONE"}),
        ]
        assert body["usage"]["requests"] == 2 and body["model"] == COHERE

    def test_an_explicit_input_type_is_the_querys_only(self, bedrock: FakeBedrockRuntime) -> None:
        # Given an explicit input_type with a query and documents
        ok({"query": "q", "documents": ["d1", "q"], "model": COHERE, "input_type": "clustering"})

        # Then the query is embedded with it and the documents, as always, as search_document
        assert bedrock.calls == [
            (COHERE, {"texts": ["q"], "input_type": "clustering", "truncate": "NONE"}),
            (COHERE, {"texts": ["d1", "q"], "input_type": "search_document", "truncate": "NONE"}),
        ]

    def test_nova_text_retrieval_query_ranks_generic_index_documents(
        self, bedrock: FakeBedrockRuntime
    ) -> None:
        # Given Nova and a query purpose of its own
        body = ok({"query": "q", "documents": ["d1", "d2"], "model": NOVA, "input_type": "TEXT_RETRIEVAL"})

        # Then only the query carries it; the documents are indexed as GENERIC_INDEX
        purposes = {
            request["singleEmbeddingParams"]["text"]["value"]: request["singleEmbeddingParams"][
                "embeddingPurpose"
            ]
            for _, request in bedrock.calls
        }
        assert purposes == {"q": "TEXT_RETRIEVAL", "d1": "GENERIC_INDEX", "d2": "GENERIC_INDEX"}
        assert body["usage"]["requests"] == 3 and len(body["results"]) == 2

    def test_other_shapes_embed_every_text_with_the_input_type(self, bedrock: FakeBedrockRuntime) -> None:
        ok({"texts": ["a", "b"], "model": COHERE, "input_type": "clustering"})
        ((_, request),) = bedrock.calls
        assert request["input_type"] == "clustering" and request["texts"] == ["a", "b"]

    def test_truncate_reaches_the_query_and_the_documents(self, bedrock: FakeBedrockRuntime) -> None:
        ok({"query": "q", "documents": ["d"], "model": COHERE, "truncate": "RIGHT"})
        # Cohere v3's words: RIGHT drops the end, END
        assert [request["truncate"] for _, request in bedrock.calls] == ["END", "END"]

    @pytest.mark.parametrize(
        ("body", "param", "code"),
        [
            ({"texts": ["a", "b"], "truncate": "LEFT"}, "truncate", "unsupported_parameter"),
            ({"texts": ["a", "b"], "model": COHERE, "truncate": "START"}, "truncate", "invalid_value"),
            ({"vectors": [[1, 0], [0, 1]], "truncate": "LEFT"}, "truncate", "unsupported_parameter"),
        ],
    )
    def test_a_truncate_the_request_cannot_use_is_a_400(
        self, bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str, code: str
    ) -> None:
        response = post(body)
        error = response_json(response)["error"]
        assert response["statusCode"] == 400 and (error["param"], error["code"]) == (param, code)
        assert bedrock.calls == []

    def test_bedrock_errors_pass_through(self, bedrock: FakeBedrockRuntime) -> None:
        bedrock.failures[TITAN_V2] = client_error("ThrottlingException", 429)
        response = post({"texts": ["a", "b"]})
        assert response["statusCode"] == 429 and "Retry-After" in response["multiValueHeaders"]


class TestVectors:
    @pytest.mark.parametrize(
        ("vectors", "metric", "expected"),
        [
            ([[1, 0], [1, 1]], "cosine", 1 / math.sqrt(2)),
            ([[0, 0], [3, 4]], "euclidean", 5.0),
            ([[1, 2, 3], [4, 5, 6]], "dot", 32.0),
        ],
    )
    def test_two_vectors_give_one_score_without_bedrock(
        self, bedrock: FakeBedrockRuntime, vectors: list[list[float]], metric: str, expected: float
    ) -> None:
        # Given two vectors
        # When compared
        body = ok({"vectors": vectors, "metric": metric})

        # Then the score is computed locally: no model, no usage
        assert body["score"] == pytest.approx(expected)
        assert (body["model"], body["dimensions"]) == (None, None)
        assert body["usage"] == {"input_tokens": 0, "requests": 0, "cost_usd": 0.0}
        assert bedrock.calls == []

    def test_matrix_pairs_and_search(self, bedrock: FakeBedrockRuntime) -> None:
        matrix = ok({"vectors": [[1, 0], [0, 1], [1, 1]], "matrix": True})["matrix"]
        assert matrix[0][1] == pytest.approx(0.0) and matrix[2][2] == 1.0

        scores = ok({"pairs": [[[0, 0], [3, 4]], [[1, 1], [1, 1]]], "metric": "euclidean"})["scores"]
        assert scores == pytest.approx([5.0, 0.0])

        results = ok({"query": [1, 0], "documents": [[0, 1], [1, 0.1], [-1, 0]], "top_k": 2})["results"]
        assert [(r["index"], r["document"]) for r in results] == [(1, None), (0, None)]
        assert bedrock.calls == []

    def test_nan_is_rejected_naming_the_vector(self, bedrock: FakeBedrockRuntime) -> None:
        # Given a body with a NaN literal (Python's JSON parser accepts it)
        # When posted
        response = post(raw_body='{"vectors": [[1, 0], [NaN, 1]]}')

        # Then the 400 names vectors[1]
        assert response["statusCode"] == 400
        assert response_json(response)["error"]["param"] == "vectors[1]"


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"vectors": [[1, 0], [1, 0, 0]]}, "vectors[1]", "same length"),
        ({"vectors": [[1, 0], [0, 0]]}, "vectors[1]", "zero vector"),
        ({"vectors": [[1, 0]]}, "vectors", "exactly 2"),
        ({"texts": ["a", "b", "c"]}, "texts", '"matrix": true'),
        ({"texts": ["a", "b"], "vectors": [[1], [2]]}, "vectors", '{"pairs": [[a, b], ...]}'),
        ({}, None, '{"query": q, "documents": [...], "top_k": k}'),
        ({"documents": ["a"]}, "query", 'needs a "query"'),
        ({"query": "a"}, "documents", 'needs "documents"'),
        ({"pairs": [["a", "b"]], "matrix": True}, "matrix", '"matrix": true goes with'),
        ({"texts": ["a", "b"], "top_k": 1}, "top_k", '"top_k" goes with'),
        (
            {"query": "a", "documents": ["b", "c"], "top_k": 3},
            "top_k",
            "between 1 and the number of documents (2)",
        ),
        ({"query": "a", "documents": ["b"], "top_k": 0}, "top_k", "between 1"),
        ({"query": "a", "documents": []}, "documents", "at least one document"),
        ({"query": "a", "documents": [[1.0]]}, "documents", "a text query needs text documents"),
        ({"query": [1.0, 0.0], "documents": ["b"]}, "documents", "a vector query needs vector documents"),
        ({"query": [1.0, 0.0], "documents": [[1.0]]}, "query", "same length"),
        ({"query": [0.0, 0.0], "documents": [[1.0, 1.0]]}, "query", "zero vector"),
        ({"vectors": [[1], [2]], "model": TITAN_V2}, "model", "applies to texts"),
        ({"pairs": [["a"]]}, "pairs[0]", "at least 2 items"),
        ({"pairs": [["a", "b"], ["c", ""]]}, "pairs[1][1]", "is empty"),
        ({"pairs": [[[1, 2], [1, 2, 3]]]}, "pairs[0][1]", "same length"),
        ({"query": 5, "documents": ["a"]}, "query", "a string or a list"),
        ({"documents": [1, 2], "query": "q"}, "documents[0]", "a string or a list"),
        ({"texts": ["a", "b"], "metric": "manhattan"}, "metric", "'cosine', 'dot' or 'euclidean'"),
        ({"texts": ["a", "b"], "dimensions": 384}, "dimensions", "256, 512, 1024"),
        ({"query": "", "documents": ["a"]}, "query", "is empty"),
        ({"query": "q", "documents": ["a", " "]}, "documents[1]", "is empty"),
        ({"texts": ["a", "b"], "colour": 1}, "colour", "not a known field"),
    ],
)
def test_bad_requests_are_400_and_cost_nothing(
    bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str | None, words: str
) -> None:
    # Given a request with one problem
    # When posted
    response = post(body)

    # Then a 400 names the field and explains, before any Bedrock call
    assert response["statusCode"] == 400, response["body"]
    error = response_json(response)["error"]
    assert error["param"] == param
    assert words in error["message"]
    assert bedrock.calls == []


def test_a_matrix_too_large_for_a_response_is_413(bedrock: FakeBedrockRuntime) -> None:
    # Given a deployment with a 100 kB response limit and 100 texts (10,000 cells)
    wiring.override(settings=settings.load({"EMBEDROCK_MAX_RESPONSE_BYTES": "100000"}))

    # When their matrix is asked for
    response = post({"texts": [f"t{i}" for i in range(100)], "matrix": True})

    # Then a 413 says how many fit, before any Bedrock call
    assert response["statusCode"] == 413
    assert "at most 64 texts" in response_json(response)["error"]["message"]
    assert bedrock.calls == []


def test_cohere_search_checks_documents_before_embedding_the_query(bedrock: FakeBedrockRuntime) -> None:
    # Given Cohere (two embedding rounds) and an empty document
    # When documents are ranked
    response = post({"query": "q", "documents": ["fine", ""], "model": COHERE})

    # Then the 400 comes before the query was paid for
    assert response["statusCode"] == 400 and response_json(response)["error"]["param"] == "documents[1]"
    assert bedrock.calls == []
