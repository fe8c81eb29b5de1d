"""The collections commands' HTTP client and tables: every failure is one readable message."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from embedrock_local.tools.collections.client import ApiClient, ApiFailure, segment
from embedrock_local.tools.collections.search import results
from embedrock_local.tools.collections.table import CELL_MAX, table


def answering(status: int, body: bytes, seen: list[httpx.Request] | None = None) -> ApiClient:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body)

    return ApiClient("http://api.test/prod/", "secret", transport=httpx.MockTransport(handle))


def test_a_call_sends_the_key_and_json_to_the_stage_and_returns_the_body() -> None:
    seen: list[httpx.Request] = []
    with answering(200, b'{"results": []}', seen) as api:
        assert api.call("POST", "/collections/docs/search", {"query": "q"}) == {"results": []}
    (request,) = seen
    assert str(request.url) == "http://api.test/prod/collections/docs/search"
    assert request.headers["x-api-key"] == "secret"
    assert json.loads(request.content) == {"query": "q"}


def test_no_content_is_an_empty_answer() -> None:
    with answering(204, b"") as api:
        assert api.call("DELETE", "/collections/docs") == {}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            404,
            b'{"error": {"type": "not_found_error", "message": "there is no collection named x.", "param": "name", "code": "collection_not_found"}}',
            "there is no collection named x.",
        ),
        (403, b'{"message": "Forbidden"}', "Forbidden"),  # API Gateway's own answer to a wrong key
        (502, b"<html>Bad Gateway</html>", "the API answered 502 Bad Gateway."),
        (200, b"[1, 2]", "the API answered 200 with a body that is not a JSON object."),
    ],
)
def test_a_failure_is_the_error_bodys_message(status: int, body: bytes, message: str) -> None:
    with answering(status, body) as api, pytest.raises(ApiFailure) as failed:
        api.call("GET", "/collections")
    assert (failed.value.message, failed.value.status) == (message, status)


def test_a_name_stays_one_path_segment() -> None:
    assert segment("../models") == "..%2Fmodels"
    assert segment("a b?c") == "a%20b%3Fc"


def test_results_print_as_an_aligned_table_best_first() -> None:
    answer: dict[str, Any] = {
        "mode": "hybrid",
        "score": "rrf",
        "results": [
            {"id": "a", "score": 0.0325, "text": "the cat\nsat", "metadata": {"lang": "en"}},
            {"id": "bb", "score": 0.0161, "text": "x" * 100, "metadata": {}},
        ],
    }
    lines = results(answer).splitlines()
    assert lines[0] == "2 results (mode hybrid, score: rrf)"
    assert lines[1].split() == ["#", "ID", "SCORE", "TEXT", "METADATA"]
    assert lines[2].split()[:5] == ["1", "a", "0.0325", "the", "cat"] and '{"lang":"en"}' in lines[2]
    assert lines[3].split()[:3] == ["2", "bb", "0.0161"] and "x" * (CELL_MAX - 1) + "…" in lines[3]
    # Columns line up: each starts at the same offset on every line
    assert lines[2].index("0.0325") == lines[3].index("0.0161") == lines[1].index("SCORE")


def test_no_results_say_so() -> None:
    assert results({"mode": "vector", "score": "cosine_similarity", "results": []}) == (
        "0 results (mode vector, score: cosine_similarity)"
    )


def test_table_cells_are_one_line() -> None:
    assert table(("A", "B"), [["x\ty", "z"]]).splitlines()[1] == "x y  z"
