"""The route table: which Lambda function serves which HTTP route.

The CDK stack builds its functions, roles and API Gateway methods from this table, and the
local gateway routes requests with it, so both always agree. Plain data: importing it costs
nothing at Lambda cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BedrockAccess(StrEnum):
    """What a function may do on Bedrock; infra turns it into a least-privilege policy."""

    INVOKE_EMBEDDING_MODELS = "invoke"
    READ_MODEL_CATALOG = "catalog"


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    description: str
    bedrock_access: BedrockAccess
    memory_mb: int
    timeout_seconds: int


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    api_key_required: bool = True


EMBEDDINGS = Function(
    name="embeddings",
    handler="embedrock.handlers.embeddings.handler",
    description="POST /embeddings and the OpenAI-compatible POST /v1/embeddings",
    bedrock_access=BedrockAccess.INVOKE_EMBEDDING_MODELS,
    memory_mb=1024,
    timeout_seconds=29,
)
MODELS = Function(
    name="models",
    handler="embedrock.handlers.models.handler",
    description="GET /models, GET /models/{model_id}, health and API documentation",
    bedrock_access=BedrockAccess.READ_MODEL_CATALOG,
    memory_mb=512,
    timeout_seconds=15,
)
SIMILARITY = Function(
    name="similarity",
    handler="embedrock.handlers.similarity.handler",
    description="POST /similarity: scores, matrices and top-k search",
    bedrock_access=BedrockAccess.INVOKE_EMBEDDING_MODELS,
    memory_mb=1024,
    timeout_seconds=29,
)

FUNCTIONS: tuple[Function, ...] = (EMBEDDINGS, MODELS, SIMILARITY)

# Behind no route: fed by the ingestion queue (infra/ingestion.py builds and wires it).
INGEST = Function(
    name="ingest",
    handler="embedrock.handlers.ingest.handler",
    description="Embeds files uploaded under input/ of the ingestion bucket (S3 -> SQS -> Lambda)",
    bedrock_access=BedrockAccess.INVOKE_EMBEDDING_MODELS,
    memory_mb=2048,
    timeout_seconds=900,
)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/embeddings", EMBEDDINGS.name),
    Route("POST", "/v1/embeddings", EMBEDDINGS.name),
    Route("GET", "/models", MODELS.name),
    Route("GET", "/models/{model_id}", MODELS.name),
    Route("POST", "/similarity", SIMILARITY.name),
    Route("GET", "/health", MODELS.name, api_key_required=False),
    Route("GET", "/openapi.json", MODELS.name, api_key_required=False),
    Route("GET", "/docs", MODELS.name, api_key_required=False),
)


def function_named(name: str) -> Function:
    for function in FUNCTIONS:
        if function.name == name:
            return function
    raise KeyError(name)


@dataclass(frozen=True)
class GatewayError:
    """An error API Gateway answers itself, before any function runs.

    The stack installs each as a gateway response in the API's error shape; the local
    gateway answers the same status and body, so clients see one behaviour.
    """

    response_type: str  # API Gateway's ResponseType name
    status: int
    type: str
    code: str
    message: str

    def body(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"type": self.type, "message": self.message, "param": None, "code": self.code}}


UNKNOWN_ROUTE = GatewayError(
    "MISSING_AUTHENTICATION_TOKEN",
    404,
    "not_found_error",
    "route_not_found",
    "No such route. Routes: GET /models, GET /models/{model_id}, POST /embeddings, "
    "POST /v1/embeddings, POST /similarity, GET /health, GET /openapi.json, GET /docs.",
)
INVALID_API_KEY = GatewayError(
    "INVALID_API_KEY",
    403,
    "authentication_error",
    "invalid_api_key",
    "The x-api-key header is missing or does not hold a valid API key.",
)
BODY_TOO_LARGE = GatewayError(
    "REQUEST_TOO_LARGE",
    413,
    "invalid_request_error",
    "request_too_large",
    "The request body is over the 10 MB limit of API Gateway (6 MB for a Lambda payload): "
    "send fewer texts per request, or use the batch pipeline for whole files.",
)
GATEWAY_THROTTLED = GatewayError(
    "THROTTLED",
    429,
    "rate_limit_error",
    "api_throttled",
    "Too many requests for this API key's usage plan; retry later.",
)
QUOTA_EXCEEDED = GatewayError(
    "QUOTA_EXCEEDED",
    429,
    "rate_limit_error",
    "quota_exceeded",
    "This API key's daily quota is used up; retry tomorrow or ask for a higher quota.",
)
# API Gateway decodes gzip, deflate and identity request bodies; any other coding, or a body
# not compressed as declared, is its 415 ("Call an API method with a compressed payload").
UNSUPPORTED_CONTENT_ENCODING = GatewayError(
    "UNSUPPORTED_MEDIA_TYPE",
    415,
    "invalid_request_error",
    "unsupported_content_encoding",
    "The request's Content-Encoding is not one API Gateway decodes (gzip, deflate, identity), or the "
    "body is not encoded as it says; send it uncompressed, or compressed as declared.",
)
INTEGRATION_TIMEOUT = GatewayError(
    "INTEGRATION_TIMEOUT",
    504,
    "upstream_error",
    "integration_timeout",
    "The request took longer than API Gateway's integration timeout; send fewer texts per request.",
)

# Only with the optional AWS WAF web ACL (infra/waf.py); the local gateway has no WAF.
WAF_BLOCKED = GatewayError(
    "WAF_FILTERED",
    403,
    "permission_error",
    "waf_blocked",
    "AWS WAF blocked this request: one of its protection rules matched. If the request is "
    "legitimate, ask the operator to review the web ACL's sampled requests.",
)

GATEWAY_ERRORS: tuple[GatewayError, ...] = (
    UNKNOWN_ROUTE,
    INVALID_API_KEY,
    BODY_TOO_LARGE,
    UNSUPPORTED_CONTENT_ENCODING,
    GATEWAY_THROTTLED,
    QUOTA_EXCEEDED,
    INTEGRATION_TIMEOUT,
    WAF_BLOCKED,
)
# Requests API Gateway (and so the local gateway) accepts: Lambda takes at most 6 MB.
MAX_REQUEST_BYTES = 6 * 1024 * 1024
# The API's minimumCompressionSize: responses this large are compressed for clients that ask.
MIN_COMPRESSION_BYTES = 1024
