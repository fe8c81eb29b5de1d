"""CORS (CDK context embedrock:corsOrigins -> EMBEDROCK_CORS_ORIGINS): the functions' own answers
carry the headers, errors included, for allowed origins only; off when unset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from embedrock import settings, wiring
from embedrock.api.routers import embeddings, meta
from embedrock.http.resolver import EmbedrockResolver, build_resolver
from tests.events import LambdaContext, api_event
from tests.fakes import FakeBedrockRuntime, client_error

APP = "https://app.example.com"
ADMIN = "https://admin.example.com:8443"
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def resolver() -> Iterator[EmbedrockResolver]:
    runtime = FakeBedrockRuntime()
    runtime.failures["amazon.titan-embed-text-v2:0"] = client_error("ModelErrorException", 424, "boom")
    wiring.override(settings=settings.load({"EMBEDROCK_CORS_ORIGINS": f"{APP}, {ADMIN}"}), runtime=runtime)
    yield build_resolver(meta.router, embeddings.router)
    wiring.reset()


def _call(
    app: EmbedrockResolver, method: str, path: str, origin: str | None, body: Any = None
) -> dict[str, Any]:
    event = api_event(method, path, body, headers={"Origin": origin} if origin else None)
    response: dict[str, Any] = app.resolve(event, LambdaContext())
    return response


def _headers(response: dict[str, Any]) -> dict[str, str]:
    headers = dict(response.get("headers") or {})
    headers.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v})
    return headers


@pytest.mark.parametrize("origin", [APP, ADMIN])
def test_an_allowed_origin_gets_cors_headers(resolver: EmbedrockResolver, origin: str) -> None:
    response = _call(resolver, "GET", "/health", origin)
    assert response["statusCode"] == 200
    headers = _headers(response)
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "X-Api-Key" in headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/embeddings", {"texts": []}, 400),  # a validation error
        ("POST", "/embeddings", {"text": "x"}, 502),  # a Bedrock failure
        ("GET", "/nowhere", None, 404),  # no such route
    ],
)
def test_error_answers_carry_them_too(
    resolver: EmbedrockResolver, method: str, path: str, body: Any, status: int
) -> None:
    # so that a browser can read the error body, not just a CORS failure
    response = _call(resolver, method, path, APP, body)
    assert response["statusCode"] == status
    assert _headers(response)["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize("origin", ["https://evil.example", None])
def test_other_origins_and_non_browser_calls_get_none(
    resolver: EmbedrockResolver, origin: str | None
) -> None:
    response = _call(resolver, "GET", "/health", origin)
    assert "Access-Control-Allow-Origin" not in _headers(response)


def test_cors_is_off_without_origins() -> None:
    wiring.override(settings=settings.load({}))
    try:
        app = build_resolver(meta.router)
        assert "Access-Control-Allow-Origin" not in _headers(_call(app, "GET", "/health", APP))
    finally:
        wiring.reset()


def test_origins_are_parsed_from_a_comma_separated_variable() -> None:
    loaded = settings.load({"EMBEDROCK_CORS_ORIGINS": f" {APP},,{ADMIN} "})
    assert loaded.cors_origins == (APP, ADMIN)
    assert settings.load({}).cors_origins == ()
