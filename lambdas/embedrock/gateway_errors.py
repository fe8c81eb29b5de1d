"""The errors answered before any function runs: by API Gateway, by AWS WAF, by the local gateway.

Plain data in the API's one error shape (embedrock.errors.envelope). The stack installs each
GatewayError as a gateway response (infra/api_errors.py) and the WafResponse as the web ACL's
custom response (infra/waf.py); the local gateway answers the same statuses and bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from embedrock.errors import envelope
from embedrock.routes import route_list


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
    # Seconds in a Retry-After header (header values of a gateway response are static).
    retry_after_seconds: int | None = None

    def body(self) -> dict[str, Any]:
        return envelope(self.type, self.message, None, self.code)


UNKNOWN_ROUTE = GatewayError(
    "MISSING_AUTHENTICATION_TOKEN",
    404,
    "not_found_error",
    "route_not_found",
    f"No such route. Routes: {route_list()}.",
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
    retry_after_seconds=1,
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


@dataclass(frozen=True)
class WafResponse:
    """A custom response of the optional AWS WAF web ACL: its rule answers before API Gateway."""

    status: int
    type: str
    code: str
    message: str
    retry_after_seconds: int

    def body(self) -> dict[str, Any]:
        return envelope(self.type, self.message, None, self.code)


# The WAF's per-IP rate rule (infra/waf.py).
WAF_RATE_LIMITED = WafResponse(
    429,
    "rate_limit_error",
    "waf_rate_limited",
    "Too many requests from this address; retry in a few minutes.",
    retry_after_seconds=60,
)
