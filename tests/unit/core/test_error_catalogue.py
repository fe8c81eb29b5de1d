"""The one error catalogue: one envelope for every error body, one reader of AWS error codes,
and settings rendered back into the environment variables they are read from."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedrock import gateway_errors, routes, settings
from embedrock.aws_errors import error_code
from embedrock.errors import InvalidRequest, envelope
from embedrock.ingest.settings import IngestSettings

SHAPE = {"type", "message", "param", "code"}


def test_the_envelope_is_the_api_error_shape() -> None:
    assert envelope("t", "m", None, "c") == {
        "error": {"type": "t", "message": "m", "param": None, "code": "c"}
    }


@pytest.mark.parametrize(
    "error",
    [*gateway_errors.GATEWAY_ERRORS, gateway_errors.WAF_RATE_LIMITED],
    ids=lambda error: getattr(error, "response_type", "WAF_RATE_LIMITED"),
)
def test_every_catalogued_error_body_is_the_envelope(error: Any) -> None:
    body = error.body()
    assert set(body["error"]) == SHAPE
    assert body == envelope(error.type, error.message, None, error.code)


def test_an_api_error_body_is_the_envelope() -> None:
    error = InvalidRequest("texts must not be empty.", param="texts")
    assert error.body() == envelope("invalid_request_error", error.message, "texts", "invalid_request")


def test_the_unknown_route_message_lists_the_route_table() -> None:
    message = gateway_errors.UNKNOWN_ROUTE.message
    assert routes.route_list() in message
    for route in routes.ROUTES:
        assert f"{route.method} {route.path}" in message


def test_only_the_usage_plan_throttle_says_when_to_retry() -> None:
    retrying = {
        e.response_type: e.retry_after_seconds for e in gateway_errors.GATEWAY_ERRORS if e.retry_after_seconds
    }
    assert retrying == {"THROTTLED": 1}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "InvokeModel"),
            "ThrottlingException",
        ),
        (ClientError({"Error": {}}, "GetObject"), None),
        (ValueError("not an AWS error"), None),
        (None, None),
    ],
)
def test_error_code_reads_a_client_errors_code_only(
    error: BaseException | None, expected: str | None
) -> None:
    assert error_code(error) == expected


def test_environment_names_variables_by_the_fields_aliases() -> None:
    variables = settings.environment(
        settings.Settings, max_concurrency=4, cors_origins=("https://a.example", "*")
    )
    assert variables == {"EMBEDROCK_MAX_CONCURRENCY": "4", "EMBEDROCK_CORS_ORIGINS": "https://a.example,*"}


def test_environment_round_trips_through_the_settings_models() -> None:
    # Given values for both models
    api = {
        "max_concurrency": 5,
        "cache_ttl_days": 9,
        "cors_origins": ("https://a.example", "https://b.example"),
    }
    ingest = {"chunk_lines": 12, "max_receives": 3, "batch_min_lines": 250}
    # When rendered to variables and loaded back
    loaded_api = settings.load(settings.environment(settings.Settings, **api))
    loaded_ingest = settings.load_model(IngestSettings, settings.environment(IngestSettings, **ingest))
    # Then the functions read exactly those values
    assert {name: getattr(loaded_api, name) for name in api} == api
    assert {name: getattr(loaded_ingest, name) for name in ingest} == ingest


def test_environment_refuses_a_field_the_model_lacks() -> None:
    with pytest.raises(KeyError, match="no field max_concurency"):
        settings.environment(settings.Settings, max_concurency=4)
