"""Every S3 Vectors failure becomes the API error a client should see, and throttling is retried
by botocore's own standard mode before it does (a real client; answers injected at before-send)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ParamValidationError, ReadTimeoutError
from botocore.stub import Stubber

from embedrock.errors import ApiError
from embedrock.settings import Settings
from embedrock.vector_store.client import config, count_throttles
from embedrock.vector_store.errors import translate
from embedrock.vector_store.model import Collection, Document, Query
from embedrock.vector_store.s3vectors import S3VectorsStore
from tests.fakes import FakeClock

BUCKET = "team-vectors"


def new_client(settings: Settings | None = None) -> Any:
    return boto3.client(
        "s3vectors",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config(settings or Settings()),
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[S3VectorsStore, Stubber]]:
    client = new_client()
    clock = FakeClock()
    with Stubber(client) as stubber:
        yield S3VectorsStore(client, BUCKET, retry_after_seconds=7, clock=clock, sleep=clock.sleep), stubber


@pytest.mark.parametrize(
    ("code", "http", "expected"),
    [
        ("NotFoundException", 404, (404, "collection_not_found", None)),
        ("ValidationException", 400, (400, "vector_store_validation", None)),
        ("TooManyRequestsException", 429, (429, "vector_store_throttled", "7")),
        ("ServiceQuotaExceededException", 402, (429, "vector_store_quota_exceeded", None)),
        ("AccessDeniedException", 403, (403, "vector_store_access_denied", None)),
        ("ServiceUnavailableException", 503, (503, "vector_store_unavailable", None)),
        ("InternalServerException", 500, (503, "vector_store_unavailable", None)),
        ("RequestTimeoutException", 408, (504, "vector_store_timeout", None)),
        ("KmsDisabledException", 400, (503, "vector_store_key_unusable", None)),
        ("KmsNotFoundException", 400, (503, "vector_store_key_unusable", None)),
        ("SomethingNewException", 400, (502, "vector_store_error", None)),
    ],
)
def test_each_service_error_maps_to_its_api_error(
    stubbed: tuple[S3VectorsStore, Stubber],
    code: str,
    http: int,
    expected: tuple[int, str, str | None],
) -> None:
    store, stub = stubbed
    stub.add_client_error("put_vectors", code, "the service's words", http)
    with pytest.raises(ApiError) as caught:
        store.put("docs", [Document("a", [1.0])])
    error = caught.value
    assert (error.status, error.code, error.headers.get("Retry-After")) == expected
    body = error.body()["error"]
    assert set(body) == {"type", "message", "param", "code"} and "Traceback" not in body["message"]


def test_a_validation_error_carries_the_service_message(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    stub.add_client_error(
        "query_vectors", "ValidationException", "Invalid filter: field kind is not filterable", 400
    )
    with pytest.raises(ApiError) as caught:
        store.query("docs", Query(top_k=1, vector=[1.0], filter={"kind": "x"}))
    assert "Invalid filter: field kind is not filterable" in caught.value.message
    assert "docs" in caught.value.message


def test_a_name_taken_is_a_conflict_naming_the_collection(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    stub.add_client_error("create_index", "ConflictException", "exists", 409)
    with pytest.raises(ApiError) as caught:
        store.create(Collection("docs", "amazon.titan-embed-text-v2:0", 256, "cosine"))
    assert (caught.value.status, caught.value.code, caught.value.param) == (409, "collection_exists", "name")
    assert "docs" in caught.value.message


def test_a_missing_bucket_on_listing_names_no_collection(stubbed: tuple[S3VectorsStore, Stubber]) -> None:
    store, stub = stubbed
    stub.add_client_error(
        "list_indexes", "NotFoundException", "The specified vector bucket could not be found", 404
    )
    with pytest.raises(ApiError) as caught:
        store.collections()
    assert (caught.value.status, caught.value.code) == (404, "vector_store_not_found")


@pytest.mark.parametrize(
    ("failure", "status", "api_code"),
    [
        (ReadTimeoutError(endpoint_url="https://s3vectors"), 504, "vector_store_timeout"),
        (EndpointConnectionError(endpoint_url="https://s3vectors"), 503, "vector_store_unreachable"),
        (ParamValidationError(report="Invalid length for parameter keys"), 400, "vector_store_validation"),
        (RuntimeError("boom"), 500, "internal_error"),
    ],
)
def test_failures_before_an_answer_map_too(failure: Exception, status: int, api_code: str) -> None:
    error = translate(failure, collection="docs", retry_after=2)
    assert (error.status, error.code) == (status, api_code)
    assert "boom" not in error.message


def _answers(statuses: list[int]) -> Any:
    """A before-send hook answering each attempt with the next status (429: throttled; 200: {})."""
    remaining = list(statuses)

    def answer(request: Any, **_: Any) -> AWSResponse:
        status = remaining.pop(0)
        if status == 429:
            body = json.dumps({"message": "Too many requests"}).encode()
            headers = {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"}
        else:
            body, headers = b"{}", {"Content-Type": "application/json"}
        return AWSResponse(request.url, status, headers, SimpleNamespace(stream=lambda **_: iter([body])))

    answer.remaining = remaining  # type: ignore[attr-defined]
    return answer


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's waits between attempts, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=waits.append))
    return waits


def test_throttling_is_retried_by_botocore_and_counted_per_attempt(backoffs: list[float]) -> None:
    client = new_client(Settings(EMBEDROCK_MAX_ATTEMPTS=3))
    throttles: list[None] = []
    count_throttles(client, lambda: throttles.append(None))
    answer = _answers([429, 429, 200])
    client.meta.events.register("before-send.s3vectors.PutVectors", answer)
    store = S3VectorsStore(client, BUCKET, clock=FakeClock(), sleep=lambda _: None)
    assert store.put("docs", [Document("a", [1.0])]).calls == 1
    assert answer.remaining == [] and len(backoffs) == 2 and len(throttles) == 2


def test_throttling_that_outlasts_the_attempts_is_a_429_with_retry_after(backoffs: list[float]) -> None:
    client = new_client(Settings(EMBEDROCK_MAX_ATTEMPTS=2))
    throttles: list[None] = []
    count_throttles(client, lambda: throttles.append(None))
    answer = _answers([429, 429, 200])
    client.meta.events.register("before-send.s3vectors.PutVectors", answer)
    store = S3VectorsStore(client, BUCKET, retry_after_seconds=5, clock=FakeClock(), sleep=lambda _: None)
    with pytest.raises(ApiError) as caught:
        store.put("docs", [Document("a", [1.0])])
    assert (caught.value.status, caught.value.code) == (429, "vector_store_throttled")
    assert caught.value.headers == {"Retry-After": "5"}
    # Two attempts (max attempts counts the first), one wait between them, both counted
    assert answer.remaining == [200] and len(backoffs) == 1 and len(throttles) == 2


def test_the_client_config_is_standard_retries_from_settings() -> None:
    built = config(Settings(EMBEDROCK_MAX_ATTEMPTS=4, EMBEDROCK_MAX_CONCURRENCY=32, EMBEDROCK_READ_TIMEOUT=7))
    assert built.retries == {"mode": "standard", "total_max_attempts": 4}
    assert (built.max_pool_connections, built.read_timeout) == (32, 7)
