"""The documented responses of a route, shared by every context's routers (a leaf: routers import
it, and it imports neither the resolver nor the OpenAPI document)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from embedrock.http.schemas import ErrorResponse

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

_ERRORS = {
    400: "Invalid request: JSON, types, unknown fields or query parameters, model, dimensions, texts.",
    403: "Missing or wrong x-api-key; or Bedrock denied access to the model (a third-party model needs its one-time AWS Marketplace subscription; see model_access_denied).",
    404: "Unknown route or model.",
    409: "The resource already exists.",
    413: "The request body is over 6 MB, or the response would exceed Lambda's 6 MB limit.",
    429: "Bedrock throttled the request after retries, or the API key's usage plan limit; see Retry-After.",
    502: "The model failed, or returned a response that cannot be read.",
    503: "Bedrock is unavailable.",
    504: "Bedrock timed out, or the request ran out of time (API Gateway waits 29 s).",
}


def responses(
    success: str, *statuses: int, described: Mapping[int, str] | None = None, success_status: int = 200
) -> dict[int, OpenAPIResponse]:
    """The documented responses of a route: its model on success, the error shape otherwise;
    `described` words a status for this route instead of the API-wide sentence."""
    documented: dict[int, OpenAPIResponse] = {success_status: {"description": success}}
    for status in statuses:
        documented[status] = {
            "description": (described or {}).get(status, _ERRORS[status]),
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return documented
