"""The words of error messages, as a tester read them: advice that names the route's own field,
JSON errors that say where, and no message that echoes unbounded input."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from embedrock import settings
from embedrock.errors import InvalidRequest, shown
from embedrock.handlers import embeddings, models
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"


def call(handler: Any, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response: dict[str, Any] = handler.handler(api_event(method, path, body, **kwargs), LambdaContext())
    return response["statusCode"], response_json(response)


def error_of(handler: Any, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
    status, body = call(handler, method, path, body, **kwargs)
    assert 400 <= status < 500, body
    error: dict[str, Any] = body["error"]
    return error


@pytest.fixture
def small_responses(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EMBEDROCK_MAX_RESPONSE_BYTES", "100000")
    settings.get.cache_clear()
    yield
    settings.get.cache_clear()


@pytest.mark.usefixtures("small_responses")
@pytest.mark.parametrize(
    ("path", "body", "field", "param"),
    [
        ("/embeddings", {"texts": ["a"] * 20}, "encoding", "texts"),
        (
            "/v1/embeddings",
            {"input": ["a"] * 20, "model": TITAN_V2, "encoding_format": "float"},
            "encoding_format",
            "input",
        ),
    ],
)
def test_response_too_large_advises_the_routes_own_encoding_field(
    bedrock: FakeBedrockRuntime, path: str, body: dict[str, Any], field: str, param: str
) -> None:
    # Given a request whose JSON floats would pass the response limit
    # When it is sent
    error = error_of(embeddings, "POST", path, body)

    # Then the advice names this route's field, in plain words, and Bedrock was not called
    assert error["code"] == "response_too_large" and error["param"] == param
    assert f'use "{field}": "base64" (about 4x smaller), or fewer dimensions' in error["message"]
    assert "ask for" not in error["message"]
    if field == "encoding_format":
        assert '"encoding":' not in error["message"]
    assert bedrock.calls == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"texts": ["abc', "Unterminated string starting at line 1, column 12."),
        (
            '{"texts": ["a"],}',
            # The json module's own words: Python 3.13 (the Lambda runtime) names the trailing comma.
            "Illegal trailing comma before end of object at line 1, column 16."
            if sys.version_info >= (3, 13)
            else "Expecting property name enclosed in double quotes at line 1, column 17.",
        ),
        ('{\n  "texts": ["a"]\n  "text": "b"}', "Expecting ',' delimiter at line 3, column 3."),
    ],
)
def test_invalid_json_says_where_once(bedrock: FakeBedrockRuntime, raw: str, message: str) -> None:
    error = error_of(embeddings, "POST", "/embeddings", raw_body=raw)
    assert error["code"] == "invalid_json"
    assert error["message"] == f"body is not valid JSON: {message}"
    assert " at at " not in error["message"] and not error["message"].endswith(" at.")


def test_a_utf8_byte_order_mark_is_skipped(bedrock: FakeBedrockRuntime) -> None:
    # Given a body written by a tool that starts UTF-8 with a byte order mark
    status, body = call(embeddings, "POST", "/embeddings", raw_body='\ufeff{"texts": ["a b"]}')

    # Then it is read as the JSON it is
    assert status == 200, body
    assert len(body["embeddings"]) == 1 and "utf-8-sig" not in str(body)


def test_an_unknown_query_parameter_on_get_does_not_mention_a_body() -> None:
    # GET /models takes no body: pointing at "the JSON body" would be wrong advice
    error = error_of(models, "GET", "/models", query={"modle": "x"})
    assert error["code"] == "unknown_parameter" and error["param"] == "modle"
    assert error["message"] == "query parameter 'modle' is not known to GET /models; it takes: provider."


def test_an_unknown_query_parameter_on_post_points_at_the_body(bedrock: FakeBedrockRuntime) -> None:
    error = error_of(embeddings, "POST", "/embeddings", {"texts": ["a"]}, query={"model": TITAN_V2})
    assert error["message"].endswith("it takes none. Request fields go in the JSON body.")


MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    ("request_parts", "param"),
    [
        ({"body": {"texts": ["a"], "model": "m" * MEGABYTE}}, "model"),
        ({"body": {"texts": ["a"], "x" * MEGABYTE: 1}}, None),
        ({"body": {"texts": ["a"]}, "query": {"q" * MEGABYTE: "1"}}, None),
        ({"body": {"texts": ["a"], "dimensions": 10**4000}}, "dimensions"),
    ],
    ids=["model-id", "field-name", "query-name", "huge-dimensions"],
)
def test_errors_never_echo_unbounded_input(
    bedrock: FakeBedrockRuntime, request_parts: dict[str, Any], param: str | None
) -> None:
    # Given a request carrying a value of a million characters
    # When it is rejected
    error = error_of(embeddings, "POST", "/embeddings", **request_parts)

    # Then the message and param show at most ~100 characters of it, and say how long it was
    assert len(error["message"]) < 600 and len(error["param"] or "") < 200
    assert "characters)" in error["message"]
    if param is not None:
        assert error["param"] == param


def test_an_unknown_long_route_is_cut_in_the_404() -> None:
    status, body = call(models, "GET", "/" + "r" * MEGABYTE)
    assert status == 404 and len(body["error"]["message"]) < 600


def test_shown_cuts_long_values_and_keeps_short_ones() -> None:
    assert shown("amazon.titan-embed-text-v2:0") == "amazon.titan-embed-text-v2:0"
    assert shown("x" * 150) == "x" * 100 + "… (150 characters)"
    assert shown(10**200, limit=10) == "1000000000… (201 characters)"


def test_every_message_is_bounded_even_if_a_caller_forgets() -> None:
    error = InvalidRequest("y" * MEGABYTE, param="p" * MEGABYTE)
    assert len(error.message) < 2_100 and len(error.param or "") < 200
    assert len(str(error.body())) < 2_500
