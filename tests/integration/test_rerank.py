"""POST /rerank through the local gateway and the emulator, with requests and httpx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import requests

from embedrock_local.runtime.serve import LocalRuntime

pytestmark = pytest.mark.integration

QUERY = "capital of the united states"
DOCUMENTS = [
    "Bananas are yellow.",
    "Washington is the capital of the united states.",
    "Carson City is the capital city of Nevada.",
]


@pytest.fixture(scope="module")
def oregon() -> Iterator[LocalRuntime]:
    """The service as deployed in us-west-2, where Amazon Rerank 1.0 runs."""
    with LocalRuntime(containers=1, settings={"AWS_REGION": "us-west-2"}) as started:
        yield started


def test_cohere_reranks_in_us_east_1_with_requests(runtime: LocalRuntime) -> None:
    response = requests.post(
        f"{runtime.url}/rerank",
        json={"query": QUERY, "documents": DOCUMENTS, "top_n": 2, "return_documents": True},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "cohere.rerank-v3-5:0"
    assert body["results"][0]["index"] == 1
    assert len(body["results"]) == 2
    assert body["results"][0]["document"] == {"text": DOCUMENTS[1]}
    assert body["results"][0]["relevance_score"] >= body["results"][1]["relevance_score"]
    assert body["usage"] == {"documents": 3, "requests": 1, "cost_usd": None}


def test_amazon_rerank_is_refused_in_us_east_1(runtime: LocalRuntime) -> None:
    response = httpx.post(
        f"{runtime.url}/rerank", json={"model": "amazon.rerank-v1:0", "query": QUERY, "documents": DOCUMENTS}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("model", "model_not_in_region")
    assert "us-west-2" in error["message"]


def test_amazon_rerank_runs_in_us_west_2_with_httpx(oregon: LocalRuntime) -> None:
    response = httpx.post(
        f"{oregon.url}/rerank",
        json={
            "model": "amazon.rerank-v1:0",
            "query": QUERY,
            "documents": [{"text": text} for text in DOCUMENTS],
        },
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert sorted(result["index"] for result in results) == [0, 1, 2]
    assert results[0]["index"] == 1
    assert all("document" not in result or result["document"] is None for result in results)


def test_bad_input_is_a_400_naming_the_field(runtime: LocalRuntime) -> None:
    response = httpx.post(f"{runtime.url}/rerank", json={"query": QUERY, "documents": DOCUMENTS, "top_n": 9})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "top_n"


def test_openapi_shows_the_route(runtime: LocalRuntime) -> None:
    document = httpx.get(f"{runtime.url}/openapi.json").json()

    assert "post" in document["paths"]["/rerank"]
