"""The OpenAPI document of the whole API, although each function serves only its routes.

It is generated once per container, from a resolver that includes every router, then
tidied: this API answers validation errors with 400 and its own error shape (not
Powertools' 422), and the API key requirement comes from the route table.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any

import embedrock
from embedrock import routes
from embedrock.api.schemas import ErrorResponse

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import Router
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI, Server
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

TITLE = "Embedrock"
DESCRIPTION = (
    "Embeddings, model discovery and similarity on Amazon Bedrock. Every error has the shape "
    '`{"error": {"type", "message", "param", "code"}}`.'
)
API_KEY_SCHEME = "apiKey"

_ERRORS = {
    400: "Invalid request: JSON, types, unknown fields or query parameters, model, dimensions, texts.",
    403: "Missing or wrong x-api-key; or Bedrock denied access to the model (a third-party model needs its one-time AWS Marketplace subscription; see model_access_denied).",
    404: "Unknown route or model.",
    413: "The request body is over 6 MB, or the response would exceed Lambda's 6 MB limit.",
    429: "Bedrock throttled the request after retries, or the API key's usage plan limit; see Retry-After.",
    502: "The model failed, or returned a response that cannot be read.",
    503: "Bedrock is unavailable.",
    504: "Bedrock timed out, or the request ran out of time (API Gateway waits 29 s).",
}


def responses(success: str, *statuses: int) -> dict[int, OpenAPIResponse]:
    """The documented responses of a route: its model on 200, the error shape otherwise."""
    documented: dict[int, OpenAPIResponse] = {200: {"description": success}}
    for status in statuses:
        documented[status] = {
            "description": _ERRORS[status],
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return documented


def all_routers() -> list[Router]:
    from embedrock.api.routers import embeddings, meta, models, similarity

    return [embeddings.router, models.router, similarity.router, meta.router]


def schema(servers: list[Server] | None = None) -> OpenAPI:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

    document = copy.deepcopy(_document())
    if servers:
        document["servers"] = [server.model_dump(by_alias=True, exclude_none=True) for server in servers]
    return OpenAPI.model_validate(document)


def document(base_path: str = "") -> dict[str, Any]:
    """The JSON document, with the server URL of the stage it is served from."""
    return {**_document(), "servers": [{"url": base_path or "/"}]}


@cache
def _document() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import APIKey

    from embedrock.api.app import build_resolver

    resolver = build_resolver(*all_routers())
    # The base class method: EmbedrockResolver.get_openapi_schema delegates to this module.
    generated = APIGatewayRestResolver.get_openapi_schema(
        resolver,
        title=TITLE,
        version=api_version(),
        description=DESCRIPTION,
        security_schemes={API_KEY_SCHEME: APIKey.model_validate({"name": "x-api-key", "in": "header"})},
    )
    raw: dict[str, Any] = generated.model_dump(mode="json", by_alias=True, exclude_none=True)
    return _tidy(raw)


def _tidy(raw: dict[str, Any]) -> dict[str, Any]:
    keyed = {(route.method.lower(), route.path) for route in routes.ROUTES if route.api_key_required}
    for path, operations in raw.get("paths", {}).items():
        for method, operation in operations.items():
            operation.get("responses", {}).pop("422", None)
            if (method, path) in keyed:
                operation["security"] = [{API_KEY_SCHEME: []}]
    schemas = raw.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    return raw


def api_version() -> str:
    return embedrock.__version__
