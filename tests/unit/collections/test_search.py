"""POST /collections/{name}/search: the modes, filters, rerank, what `score` means, and the 400s."""

from __future__ import annotations

from typing import Any

import pytest

from embedrock import settings, wiring
from embedrock.vector_store import limits
from tests.fakes import FakeBedrockRuntime
from tests.unit.collections.conftest import Call

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TEXTS = {
    "py": ("Python is a programming language used for scripting", {"kind": "lang", "year": 2024}),
    "rust": ("Rust is a systems programming language", {"kind": "lang", "year": 2015}),
    "market": ("The fruit market opens at nine in the morning", {"kind": "shop", "year": 2020}),
    "sun": ("It is a sunny day at the beach", {"kind": "weather", "year": 2023, "tags": ["summer"]}),
}


@pytest.fixture
def filled(call: Call, docs: str) -> str:
    documents = [{"id": key, "text": text, "metadata": meta} for key, (text, meta) in TEXTS.items()]
    status, answer = call("POST", f"/collections/{docs}/documents", {"documents": documents})
    assert status == 200, answer
    return docs


def search(call: Call, body: dict[str, Any], name: str = "docs") -> tuple[int, Any]:
    return call("POST", f"/collections/{name}/search", body)


def test_a_query_finds_the_closest_text_first_with_cosine_similarity(call: Call, filled: str) -> None:
    status, answer = search(call, {"query": "Python programming language scripting", "top_k": 4})

    assert status == 200
    results = answer["results"]
    assert (answer["score"], answer["mode"]) == ("cosine_similarity", "vector")
    assert results[0]["id"] == "py" and len(results) == 4
    assert results[0]["text"] == TEXTS["py"][0] and results[0]["metadata"] == TEXTS["py"][1]
    # score is 1 - the store's cosine distance, best first
    for result in results:
        assert result["score"] == pytest.approx(1 - result["scores"]["distance"], abs=1e-6)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert answer["usage"]["input_tokens"] > 0 and answer["usage"]["requests"] == 1


def test_the_query_is_embedded_as_a_query(call: Call, bedrock: FakeBedrockRuntime) -> None:
    call("POST", "/collections", {"name": "cohere", "model": "cohere.embed-english-v3"})
    call("POST", "/collections/cohere/documents", {"documents": [{"id": "a", "text": "hello"}]})
    bedrock.calls.clear()

    status, _ = search(call, {"query": "hello"}, name="cohere")

    assert status == 200
    assert [body["input_type"] for _, body in bedrock.calls] == ["search_query"]


def test_a_vector_query_makes_no_bedrock_call(call: Call, filled: str, bedrock: FakeBedrockRuntime) -> None:
    status, stored = call("GET", "/collections/docs/documents/market")
    bedrock.calls.clear()

    status, answer = search(call, {"vector": stored["vector"], "top_k": 1})

    assert status == 200
    assert answer["results"][0]["id"] == "market"
    assert answer["results"][0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert bedrock.calls == [] and answer["usage"] == {"input_tokens": 0, "requests": 0, "cost_usd": 0.0}


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"kind": "lang"}, {"py", "rust"}),
        ({"kind": {"$ne": "lang"}}, {"market", "sun"}),
        ({"year": {"$gte": 2020, "$lt": 2024}}, {"market", "sun"}),
        ({"kind": {"$in": ["shop", "weather"]}}, {"market", "sun"}),
        ({"tags": {"$exists": True}}, {"sun"}),
        ({"tags": "summer"}, {"sun"}),
        ({"$or": [{"kind": "shop"}, {"year": {"$lte": 2015}}]}, {"market", "rust"}),
        ({"$and": [{"kind": "lang"}, {"year": {"$gt": 2020}}]}, {"py"}),
        ({"kind": {"$startsWith": "we"}}, {"sun"}),
    ],
)
def test_filters_keep_only_the_matching_documents(
    call: Call, filled: str, filter_: dict[str, Any], expected: set[str]
) -> None:
    status, answer = search(call, {"query": "anything at all", "top_k": 10, "filter": filter_})

    assert status == 200, answer
    assert {result["id"] for result in answer["results"]} == expected


@pytest.mark.parametrize(
    ("filter_", "param", "says"),
    [
        ({}, "filter", "non-empty object"),
        ({"kind": {"$regex": "l.*"}}, "filter.kind.$regex", "is not an operator"),
        ({"$not": [{"kind": "x"}]}, "filter.$not", "not a logical operator"),
        ({"year": {"$gt": "2020"}}, "filter.year.$gt", "takes a number"),
        ({"kind": {"$in": []}}, "filter.kind.$in", "non-empty array"),
        ({"kind": {"$exists": 1}}, "filter.kind.$exists", "true or false"),
        ({"kind": {"nested": 1}}, "filter.kind.nested", "is not an operator"),
        ({"kind": ["a", "b"]}, "filter.kind", "a string, number or boolean"),
        ({"$and": [{"kind": "x"}, {"year": {"$lte": None}}]}, "filter.$and[1].year.$lte", "takes a number"),
        ({"$or": {"kind": "x"}}, "filter.$or", "non-empty array of filters"),
        ({"_text": "python"}, "filter._text", "cannot be filtered on"),
        ({"kind": {}}, "filter.kind", "empty condition"),
    ],
)
@pytest.mark.usefixtures("filled")
def test_a_bad_filter_is_a_400_with_its_path_and_the_operators(
    call: Call, bedrock: FakeBedrockRuntime, filter_: dict[str, Any], param: str, says: str
) -> None:
    bedrock.calls.clear()

    status, answer = search(call, {"query": "python", "filter": filter_})

    assert status == 400
    error = answer["error"]
    assert (error["param"], error["code"]) == (param, "invalid_filter")
    assert says in error["message"] and "$startsWith" in error["message"] and "$and, $or" in error["message"]
    assert bedrock.calls == []


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"query": "x", "top_k": 0}, "top_k", "invalid_top_k"),
        ({"query": "x", "top_k": 101}, "top_k", "invalid_top_k"),
        ({"query": "x", "vector": [1.0] * 256}, "vector", "invalid_request"),
        ({}, "query", "missing_field"),
        ({"vector": [1.0, 2.0]}, "vector", "dimension_mismatch"),
        ({"vector": [0.0] * 256}, "vector", "zero_vector"),
        ({"query": "   "}, "query", "empty_text"),
        ({"query": "x", "mode": "semantic"}, "mode", "invalid_value"),
        ({"vector": [1.0] * 256, "mode": "text"}, "query", "missing_field"),
        ({"query": "x" * 1025, "mode": "hybrid"}, "query", "invalid_query"),
        ({"query": "x", "rerank": {"model": "nope"}}, "rerank.model", "invalid_value"),
        ({"query": "x", "rerank": {"model": "amazon.rerank-v1:0"}}, "rerank.model", "model_not_in_region"),
        ({"query": "x", "top_k": 3, "rerank": {"top_n": 4}}, "rerank.top_n", "invalid_top_n"),
        ({"vector": [1.0] * 256, "rerank": {}}, "rerank", "invalid_request"),
        ({"query": "x", "limit": 3}, "limit", "unknown_field"),
    ],
)
@pytest.mark.usefixtures("filled")
def test_bad_searches_are_400s_naming_the_field(
    call: Call, bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str, code: str
) -> None:
    bedrock.calls.clear()

    status, answer = search(call, body)

    assert status == 400, answer
    assert (answer["error"]["param"], answer["error"]["code"]) == (param, code)
    assert bedrock.calls == []


def test_text_modes_need_a_collection_with_text_search(call: Call) -> None:
    call("POST", "/collections", {"name": "plain"})

    for mode in ("text", "hybrid"):
        status, answer = search(call, {"query": "python", "mode": mode}, name="plain")

        assert status == 400
        assert (answer["error"]["param"], answer["error"]["code"]) == ("mode", "text_search_not_enabled")


def test_text_mode_ranks_by_bm25_without_embedding(
    call: Call, filled: str, bedrock: FakeBedrockRuntime
) -> None:
    bedrock.calls.clear()

    status, answer = search(call, {"query": "fruit market", "mode": "text", "top_k": 4})

    assert status == 200, answer
    assert (answer["score"], answer["mode"]) == ("bm25", "text")
    assert answer["results"][0]["id"] == "market"
    assert all(result["score"] == result["scores"]["bm25"] for result in answer["results"])
    assert bedrock.calls == []


def test_hybrid_mode_fuses_both_rankings(call: Call, filled: str) -> None:
    status, answer = search(call, {"query": "Python programming language", "mode": "hybrid", "top_k": 3})

    assert status == 200, answer
    assert (answer["score"], answer["mode"]) == ("rrf", "hybrid")
    top = answer["results"][0]
    assert top["id"] == "py"
    assert top["score"] == top["scores"]["rrf"] and "distance" in top["scores"] and "bm25" in top["scores"]


def test_rerank_rescores_the_results_texts(call: Call, filled: str, bedrock: FakeBedrockRuntime) -> None:
    bedrock.calls.clear()

    status, answer = search(
        call,
        {
            "query": "where can I buy fruit",
            "top_k": 4,
            "rerank": {"model": "cohere.rerank-v3-5:0", "top_n": 2},
        },
    )

    assert status == 200, answer
    assert answer["score"] == "relevance_score"
    results = answer["results"]
    assert len(results) == 2
    assert all(r["score"] == r["scores"]["relevance_score"] and "distance" in r["scores"] for r in results)
    assert results[0]["score"] >= results[1]["score"]
    # One embedding call for the query, one rerank call over the four candidates' texts
    (embed_model, _), (rerank_model, rerank_body) = bedrock.calls
    assert (embed_model, rerank_model) == ("amazon.titan-embed-text-v2:0", "cohere.rerank-v3-5:0")
    assert sorted(rerank_body["documents"]) == sorted(text for text, _ in TEXTS.values())
    assert answer["usage"]["requests"] == 2


def test_documents_without_text_follow_the_reranked_ones(call: Call, docs: str) -> None:
    call(
        "POST",
        "/collections/docs/documents",
        {"documents": [{"id": "v", "vector": [1.0] + [0.0] * 255}, {"id": "t", "text": "apples and pears"}]},
    )

    status, answer = search(call, {"query": "pears", "rerank": {}})

    assert status == 200
    assert [(r["id"], r["score"] is None) for r in answer["results"]] == [("t", False), ("v", True)]


def test_a_region_without_the_rerank_model_is_refused_naming_the_regions(call: Call, filled: str) -> None:
    wiring.override(settings=settings.load({"AWS_REGION": "eu-west-1"}))

    status, answer = search(call, {"query": "x", "rerank": {"model": "cohere.rerank-v3-5:0"}})

    assert status == 400
    assert answer["error"]["code"] == "model_not_in_region" and "us-east-1" in answer["error"]["message"]


def test_a_euclidean_collection_scores_by_distance_lower_first(call: Call) -> None:
    call("POST", "/collections", {"name": "flat", "dimensions": 256, "metric": "euclidean"})
    near, far = [1.0] + [0.0] * 255, [5.0] + [0.0] * 255
    call(
        "POST",
        "/collections/flat/documents",
        {"documents": [{"id": "far", "vector": far}, {"id": "near", "vector": near}]},
    )

    status, answer = search(call, {"vector": [1.5] + [0.0] * 255}, name="flat")

    assert status == 200
    assert answer["score"] == "euclidean_distance"
    assert [r["id"] for r in answer["results"]] == ["near", "far"]
    assert answer["results"][0]["score"] == pytest.approx(0.5, abs=1e-4)
    assert answer["results"][0]["score"] == answer["results"][0]["scores"]["distance"]


def test_searching_a_missing_collection_is_a_404(call: Call, bedrock: FakeBedrockRuntime) -> None:
    status, answer = search(call, {"query": "x"}, name="nowhere")

    assert status == 404 and answer["error"]["code"] == "collection_not_found"
    assert bedrock.calls == []


def test_results_too_large_for_a_lambda_response_are_a_413(call: Call, docs: str) -> None:
    long_texts = [{"id": str(n), "text": f"document {n} " + "word " * 120} for n in range(3)]
    call("POST", "/collections/docs/documents", {"documents": long_texts})
    wiring.override(settings=settings.load({"EMBEDROCK_MAX_RESPONSE_BYTES": "1024"}))

    status, answer = search(call, {"query": "programming", "top_k": 3})

    assert status == 413
    assert (answer["error"]["param"], answer["error"]["code"]) == ("top_k", "response_too_large")
    assert search(call, {"query": "programming", "top_k": 1})[0] == 200


def test_rerank_needs_top_k_within_what_the_model_ranks_per_call(
    call: Call, filled: str, bedrock: FakeBedrockRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store that answers more results than the rerank model ranks in one call
    monkeypatch.setattr(limits, "TOP_K_MAX", 10_000)
    bedrock.calls.clear()

    status, answer = search(call, {"query": "x", "top_k": 1001, "rerank": {}})

    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == ("top_k", "too_many_inputs")
    assert "1000" in answer["error"]["message"] and bedrock.calls == []
