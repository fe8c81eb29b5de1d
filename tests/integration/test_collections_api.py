"""The collections routes end to end over plain HTTP: the local gateway, the Bedrock emulator and
its S3 Vectors, as `make run` serves them (the vector bucket created at start)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from embedrock_local.runtime.emulator import EmulatorOptions
from embedrock_local.runtime.serve import LOCAL_VECTOR_BUCKET, LocalRuntime

pytestmark = pytest.mark.integration

DOCUMENTS = [
    {"id": "py", "text": "Python is a programming language", "metadata": {"kind": "lang", "year": 1991}},
    {
        "id": "rs",
        "text": "Rust is a systems programming language",
        "metadata": {"kind": "lang", "year": 2015},
    },
    {"id": "fruit", "text": "The market sells fresh fruit every morning", "metadata": {"kind": "shop"}},
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The local runtime over an emulator store of its own (no other test's collections)."""
    data_dir: Path = tmp_path_factory.mktemp("s3vectors")
    with LocalRuntime(containers=1, emulator_options=EmulatorOptions(data_dir=data_dir)) as runtime:
        yield runtime.url


def call(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = requests.request(method, f"{url}{path}", json=body, timeout=30)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.status_code, response.json()


def test_serve_creates_the_vector_bucket_in_the_emulator(tmp_path: Path) -> None:
    with LocalRuntime(containers=1, emulator_options=EmulatorOptions(data_dir=tmp_path)) as runtime:
        assert runtime.emulator is not None
        backend = runtime.emulator.backends.s3vectors
        found = backend.call("GetVectorBucket", {"vectorBucketName": LOCAL_VECTOR_BUCKET})
        assert found["vectorBucket"]["vectorBucketName"] == LOCAL_VECTOR_BUCKET
    # And a restart over the same store finds it and starts
    with LocalRuntime(containers=1, emulator_options=EmulatorOptions(data_dir=tmp_path)) as again:
        assert requests.get(f"{again.url}/collections", timeout=30).json() == {"collections": []}


def test_a_collection_from_creation_to_deletion(served: str) -> None:
    # Create
    status, created = call(served, "POST", "/collections", {"name": "kbase", "dimensions": 256})
    assert status == 201 and created["dimensions"] == 256
    assert call(served, "GET", "/collections")[1]["collections"] == [created]

    # Upsert texts and a vector
    vector = [0.0] * 255 + [1.0]
    status, upserted = call(
        served,
        "POST",
        "/collections/kbase/documents",
        {"documents": [*DOCUMENTS, {"id": "v", "vector": vector}]},
    )
    assert status == 200, upserted
    assert upserted["upserted"] == 4 and upserted["calls"] == 1 and upserted["usage"]["input_tokens"] > 0

    # Get
    status, py = call(served, "GET", "/collections/kbase/documents/py")
    assert status == 200 and py["text"] == DOCUMENTS[0]["text"] and len(py["vector"]) == 256

    # Search, with a filter
    status, found = call(
        served,
        "POST",
        "/collections/kbase/search",
        {"query": "programming language", "filter": {"kind": "lang"}},
    )
    assert status == 200, found
    assert {result["id"] for result in found["results"]} == {"py", "rs"}
    assert found["score"] == "cosine_similarity"

    # Search by vector
    status, nearest = call(served, "POST", "/collections/kbase/search", {"vector": vector, "top_k": 1})
    assert [result["id"] for result in nearest["results"]] == ["v"]

    # Rerank
    status, reranked = call(
        served,
        "POST",
        "/collections/kbase/search",
        {"query": "where to buy fruit", "top_k": 3, "rerank": {"model": "cohere.rerank-v3-5:0", "top_n": 2}},
    )
    assert status == 200, reranked
    assert reranked["score"] == "relevance_score" and len(reranked["results"]) == 2
    assert all("relevance_score" in result["scores"] for result in reranked["results"])

    # Delete documents
    status, deleted = call(served, "POST", "/collections/kbase/documents:delete", {"ids": ["py", "v"]})
    assert (status, deleted) == (200, {"deleted": 2})
    assert call(served, "GET", "/collections/kbase/documents/py")[0] == 404

    # Delete the collection
    assert call(served, "DELETE", "/collections/kbase") == (200, {"name": "kbase", "deleted": True})
    assert call(served, "GET", "/collections/kbase")[1]["error"]["code"] == "collection_not_found"


def test_text_and_hybrid_search_on_a_collection_with_text_search(served: str) -> None:
    call(
        served,
        "POST",
        "/collections",
        {"name": "texts", "dimensions": 256, "text_search": {"language": "en"}},
    )
    call(served, "POST", "/collections/texts/documents", {"documents": DOCUMENTS})

    for mode, score in (("text", "bm25"), ("hybrid", "rrf")):
        status, found = call(
            served, "POST", "/collections/texts/search", {"query": "fresh fruit", "mode": mode}
        )
        assert status == 200, found
        assert (found["mode"], found["score"]) == (mode, score)
        assert found["results"][0]["id"] == "fruit"

    assert call(served, "DELETE", "/collections/texts")[0] == 200


ERRS = "/collections/errs"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (("POST", "/collections", {"name": "Bad_Name"}), (400, "invalid_collection_name", "name")),
        (
            ("POST", "/collections", {"name": "ok-name", "dimensions": 384}),
            (400, "invalid_dimensions", "dimensions"),
        ),
        (("POST", "/collections", {"name": "ok-name", "metric": "dot"}), (400, "invalid_value", "metric")),
        (("GET", "/collections/missing", None), (404, "collection_not_found", "name")),
        (("POST", "/collections/missing/search", {"query": "x"}), (404, "collection_not_found", "name")),
        (
            ("POST", f"{ERRS}/documents", {"documents": [{"id": "a"}]}),
            (400, "invalid_request", "documents[0]"),
        ),
        (
            ("POST", f"{ERRS}/documents", {"documents": [{"id": "a", "vector": [1.0]}]}),
            (400, "dimension_mismatch", "documents[0].vector"),
        ),
        (
            ("POST", f"{ERRS}/search", {"query": "x", "filter": {"k": {"$like": 1}}}),
            (400, "invalid_filter", "filter.k.$like"),
        ),
        (
            ("POST", f"{ERRS}/search", {"query": "x", "mode": "text"}),
            (400, "text_search_not_enabled", "mode"),
        ),
        (("POST", f"{ERRS}/search", {"query": "x", "top_k": 1000}), (400, "invalid_top_k", "top_k")),
        (("GET", f"{ERRS}/documents/nothing", None), (404, "document_not_found", "document_id")),
        (("POST", f"{ERRS}/documents:delete", {"ids": []}), (400, None, "ids")),
    ],
)
def test_bad_requests_get_the_api_error_shape(
    served: str, request_: tuple[str, str, Any], expected: tuple[int, str | None, str]
) -> None:
    if call(served, "GET", "/collections/errs")[0] == 404:
        call(served, "POST", "/collections", {"name": "errs", "dimensions": 256})

    got, answer = call(served, *request_)

    status, code, param = expected
    assert got == status, answer
    assert set(answer) == {"error"}
    assert answer["error"]["param"] == param
    assert code is None or answer["error"]["code"] == code
    assert answer["error"]["message"]
