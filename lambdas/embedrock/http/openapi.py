"""The OpenAPI document of the whole API, although each function serves only its routes.

Generated from a resolver that includes every router of every context (http/docs.py builds it,
once per container, from the routers the composition edge hands it), then tidied: this API answers validation errors with 400 and its own error shape (not
Powertools' 422), and the API key requirement comes from the route table. This module imports
neither the resolver nor the routers: it is handed the resolver, so nothing here cycles back.

Not Powertools' OpenAPI merge (OpenAPIMerge / configure_openapi_merge, Powertools 3.x): it is
made for functions that each define their own routes, and finds them by globbing files for an
`app = APIGatewayRestResolver(...)` assignment (ours are `build_resolver(...)`, so it finds
none without add_file), then executes those handler modules again under synthetic names, from
file paths, at the first document request. Our functions share importable routers, so one
resolver over all of them yields the document directly, with no file discovery in the bundle
and no import the contract test (tests/unit/core/test_architecture.py) cannot see.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import embedrock
from embedrock import routes

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI, Server

TITLE = "Embedrock"
DESCRIPTION = (
    "Embeddings, model discovery, similarity, rerank and collections (vectors kept and searched in "
    "Amazon S3 Vectors) on Amazon Bedrock. Every error has the shape "
    '`{"error": {"type", "message", "param", "code"}}`.'
)
API_KEY_SCHEME = "apiKey"


def generate(resolver: APIGatewayRestResolver) -> dict[str, Any]:
    """The JSON document of every route `resolver` includes."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import APIKey

    # The base class method: EmbedrockResolver.get_openapi_schema serves the whole API's document.
    generated = APIGatewayRestResolver.get_openapi_schema(
        resolver,
        title=TITLE,
        version=api_version(),
        description=DESCRIPTION,
        security_schemes={API_KEY_SCHEME: APIKey.model_validate({"name": "x-api-key", "in": "header"})},
    )
    raw: dict[str, Any] = generated.model_dump(mode="json", by_alias=True, exclude_none=True)
    return _tidy(raw)


def schema(document: dict[str, Any], servers: list[Server] | None = None) -> OpenAPI:
    """The document as Powertools' model (what Swagger UI is served from)."""
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

    document = copy.deepcopy(document)
    if servers:
        document["servers"] = [server.model_dump(by_alias=True, exclude_none=True) for server in servers]
    return OpenAPI.model_validate(document)


def served_from(document: dict[str, Any], base_path: str = "") -> dict[str, Any]:
    """The document with the server URL of the stage it is served from."""
    return {**document, "servers": [{"url": base_path or "/"}]}


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
