"""POST /rerank through the handler with the in-process emulator: bodies, ranking, regions, bad input."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from embedrock import catalog, pricing, wiring
from embedrock.bedrock import reranker
from embedrock.handlers import rerank
from embedrock.settings import Settings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime, client_error

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

AMAZON, COHERE = "amazon.rerank-v1:0", "cohere.rerank-v3-5:0"
QUERY = "capital of the united states"
DOCUMENTS = [
    "Carson City is the capital city of the American state of Nevada.",
    "Washington is the capital of the united states, a federal district.",
    "Capital punishment has existed in the United States since before it was a country.",
    "Bananas are yellow.",
]


def post(body: Any) -> dict[str, Any]:
    response: dict[str, Any] = rerank.handler(api_event("POST", "/rerank", body), LambdaContext())
    return response


def ok(body: Any) -> dict[str, Any]:
    response = post(body)
    assert response["statusCode"] == 200, response["body"]
    result: dict[str, Any] = response_json(response)
    return result


def error(body: Any, status: int = 400) -> dict[str, Any]:
    response = post(body)
    assert response["statusCode"] == status, response["body"]
    detail: dict[str, Any] = response_json(response)["error"]
    return detail


@pytest.fixture
def in_region(bedrock: FakeBedrockRuntime) -> FakeBedrockRuntime:
    """A function in us-west-2, where both rerank models run."""
    wiring.override(settings=Settings.model_validate({"AWS_REGION": "us-west-2"}))
    return bedrock


class TestRanking:
    def test_cohere_gets_its_exact_body_and_results_come_best_first(
        self, in_region: FakeBedrockRuntime
    ) -> None:
        body = ok({"model": COHERE, "query": QUERY, "documents": DOCUMENTS})

        assert in_region.calls == [
            (COHERE, {"query": QUERY, "documents": DOCUMENTS, "top_n": 4, "api_version": 2})
        ]
        scores = [result["relevance_score"] for result in body["results"]]
        assert scores == sorted(scores, reverse=True)
        assert sorted(result["index"] for result in body["results"]) == [0, 1, 2, 3]
        assert body["results"][-1]["index"] == 3  # shares no word with the query (hash engine)
        assert all("document" not in result or result["document"] is None for result in body["results"])
        assert body["model"] == COHERE
        assert body["usage"] == {"documents": 4, "requests": 1, "cost_usd": None}

    def test_amazon_gets_no_api_version(self, in_region: FakeBedrockRuntime) -> None:
        ok({"model": AMAZON, "query": QUERY, "documents": DOCUMENTS, "top_n": 2})

        assert in_region.calls == [(AMAZON, {"query": QUERY, "documents": DOCUMENTS, "top_n": 2})]

    def test_top_n_and_return_documents(self, in_region: FakeBedrockRuntime) -> None:
        body = ok(
            {
                "query": QUERY,
                "documents": [DOCUMENTS[0], {"text": DOCUMENTS[1]}, DOCUMENTS[3]],
                "top_n": 2,
                "return_documents": True,
            }
        )

        assert len(body["results"]) == 2
        assert body["results"][0]["index"] == 1
        for result in body["results"]:
            assert result["document"] == {"text": [DOCUMENTS[0], DOCUMENTS[1], DOCUMENTS[3]][result["index"]]}
        assert in_region.calls[0][1]["documents"] == [DOCUMENTS[0], DOCUMENTS[1], DOCUMENTS[3]]

    def test_cohere_is_the_default_and_runs_in_us_east_1(self, bedrock: FakeBedrockRuntime) -> None:
        body = ok({"query": QUERY, "documents": DOCUMENTS[:2]})

        assert body["model"] == catalog.DEFAULT_RERANK_MODEL_ID == COHERE


class TestDecoding:
    MODEL = catalog.find_rerank(AMAZON)

    def test_results_are_sorted_and_checked(self) -> None:
        assert self.MODEL is not None
        payload = {"results": [{"index": 1, "relevance_score": 0.2}, {"index": 0, "relevance_score": 0.9}]}
        ranked = reranker.decode(self.MODEL, payload, documents=2, top_n=2)
        assert [(r.index, r.relevance_score) for r in ranked] == [
            (0, pytest.approx(0.9)),
            (1, pytest.approx(0.2)),
        ]

    @pytest.mark.parametrize(
        "payload",
        [
            {},
            {"results": "no"},
            {"results": [{"index": 5, "relevance_score": 0.1}]},
            {"results": [{"index": 0}]},
            {"results": [{"index": True, "relevance_score": 0.1}]},
            {"results": [{"index": 0, "relevance_score": 0.1}, {"index": 0, "relevance_score": 0.2}]},
        ],
    )
    def test_a_broken_answer_is_a_model_error(self, payload: Any) -> None:
        assert self.MODEL is not None
        with pytest.raises(Exception, match="returned") as raised:
            reranker.decode(self.MODEL, payload, documents=2, top_n=2)
        assert getattr(raised.value, "status", None) == 502


class TestCost:
    def test_no_cost_until_a_price_is_confirmed_then_per_thousand_queries(self) -> None:
        model = catalog.find_rerank(COHERE)
        assert model is not None and model.price_per_thousand_queries is None
        assert pricing.rerank_cost_usd(model, 1) is None
        priced = dataclasses.replace(model, price_per_thousand_queries=2.0)
        assert pricing.rerank_cost_usd(priced, 3) == pytest.approx(0.006)
        with pytest.raises(ValueError, match="negative"):
            pricing.rerank_cost_usd(priced, -1)


class TestRegions:
    def test_amazon_rerank_is_refused_in_us_east_1_naming_its_regions(
        self, bedrock: FakeBedrockRuntime
    ) -> None:
        detail = error({"model": AMAZON, "query": QUERY, "documents": DOCUMENTS})

        assert (detail["param"], detail["code"]) == ("model", "model_not_in_region")
        for region in ("ap-northeast-1", "ca-central-1", "eu-central-1", "us-west-2"):
            assert region in detail["message"]
        assert COHERE in detail["message"]
        assert bedrock.calls == []

    def test_a_region_with_no_rerank_model(self, bedrock: FakeBedrockRuntime) -> None:
        wiring.override(settings=Settings.model_validate({"AWS_REGION": "sa-east-1"}))
        detail = error({"model": COHERE, "query": QUERY, "documents": DOCUMENTS})

        assert detail["param"] == "model"
        assert "us-east-1" in detail["message"]
        assert bedrock.calls == []


class TestBadInput:
    def test_an_unknown_model_is_model_not_found_listing_the_rerank_models(
        self, bedrock: FakeBedrockRuntime
    ) -> None:
        detail = error({"model": "amazon.titan-embed-text-v2:0", "query": QUERY, "documents": DOCUMENTS})

        assert (detail["param"], detail["code"]) == ("model", "model_not_found")
        assert AMAZON in detail["message"] and COHERE in detail["message"]

    @pytest.mark.parametrize(
        ("body", "param", "needle"),
        [
            ({"model": "cohere.rerank-v9", "query": QUERY, "documents": DOCUMENTS}, "model", COHERE),
            ({"query": "  ", "documents": DOCUMENTS}, "query", "blank"),
            ({"query": QUERY, "documents": []}, "documents", "1 to 1000"),
            ({"query": QUERY, "documents": ["ok"] * 1001}, "documents", "at most 1000"),
            ({"query": QUERY, "documents": ["ok", ""]}, "documents[1]", "blank"),
            ({"query": QUERY, "documents": ["x" * 32_001]}, "documents[0]", "32000"),
            ({"query": "x" * 32_001, "documents": ["ok"]}, "query", "32000"),
            ({"query": QUERY, "documents": DOCUMENTS, "top_n": 0}, "top_n", "1 to the number"),
            ({"query": QUERY, "documents": DOCUMENTS, "top_n": 5}, "top_n", "(4)"),
            ({"query": QUERY, "documents": DOCUMENTS, "top_n": "2"}, "top_n", "integer"),
            ({"query": QUERY, "documents": [1]}, "documents[0]", ""),
            ({"query": QUERY, "documents": [{"txt": "a"}]}, "documents[0]", ""),
            ({"query": QUERY, "documents": DOCUMENTS, "top_k": 1}, "top_k", "not a known field"),
            ({"documents": DOCUMENTS}, "query", "required"),
            ({"query": QUERY}, "documents", "required"),
            (
                {"query": QUERY, "documents": DOCUMENTS, "return_documents": "yes"},
                "return_documents",
                "true or false",
            ),
        ],
    )
    def test_each_is_a_400_naming_the_field(
        self, in_region: FakeBedrockRuntime, body: Any, param: str, needle: str
    ) -> None:
        detail = error(body)

        assert detail["param"] is not None and detail["param"].startswith(param), detail
        assert needle in detail["message"]
        assert in_region.calls == []

    def test_bedrock_throttling_is_retried_then_a_429(self, in_region: FakeBedrockRuntime) -> None:
        in_region.failures[COHERE] = client_error("ThrottlingException", 429, "slow down")

        response = post({"query": QUERY, "documents": DOCUMENTS})

        assert response["statusCode"] == 429
        assert response["multiValueHeaders"]["Retry-After"] == [str(wiring.settings().retry_after_seconds)]
        assert len(in_region.calls) == wiring.settings().max_attempts

    def test_bedrock_validation_is_a_400(self, in_region: FakeBedrockRuntime) -> None:
        in_region.failures[AMAZON] = client_error("ValidationException", 400, "bad")

        detail = error({"model": AMAZON, "query": QUERY, "documents": DOCUMENTS})

        assert detail["code"] == "bedrock_validation"
        assert len(in_region.calls) == 1
