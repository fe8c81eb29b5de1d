"""API errors: the one error shape of the HTTP API and the statuses it is sent with.

Core code raises these; the HTTP layer turns them into
`{"error": {"type", "message", "param", "code"}}` with `status` and `headers`. `envelope` is the
only builder of that shape: handlers, API Gateway's and WAF's own responses and the local gateway
all use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Values from the request shown in a message are cut to this many characters: an error must
# not echo unbounded input (a 1 MB model id once produced a 1 MB error).
SHOWN_CHARS = 100
# Backstop for a whole message or param, whatever was put into it.
_MAX_MESSAGE_CHARS = 2_000


def envelope(type_: str, message: str, param: str | None, code: str) -> dict[str, Any]:
    """The API's error body. `message` may be a placeholder that a caller swaps for a template
    expression after serializing (infra/api_errors.py): it is placed as given."""
    return {"error": {"type": type_, "message": message, "param": param, "code": code}}


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """`value` as text for a message, cut to `limit` characters with its real length noted."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


class ApiError(Exception):
    status: int = 500
    type: str = "internal_error"
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        message = shown(message, _MAX_MESSAGE_CHARS)
        super().__init__(message)
        self.message = message
        self.param = None if param is None else shown(param)
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return envelope(self.type, self.message, self.param, self.code)


class InvalidRequest(ApiError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class AccessDenied(ApiError):
    status = 403
    type = "permission_error"
    code = "access_denied"


class ModelAccessDenied(AccessDenied):
    code = "model_access_denied"


class NotFound(ApiError):
    status = 404
    type = "not_found_error"
    code = "not_found"


class Conflict(ApiError):
    status = 409
    type = "conflict_error"
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    type = "invalid_request_error"
    code = "payload_too_large"


class Throttled(ApiError):
    status = 429
    type = "rate_limit_error"
    code = "throttled"


class UpstreamFailed(ApiError):
    status = 502
    type = "upstream_error"
    code = "upstream_error"


class ModelFailed(UpstreamFailed):
    code = "model_error"


class ServiceUnavailable(ApiError):
    status = 503
    type = "upstream_error"
    code = "service_unavailable"


class BedrockUnavailable(ServiceUnavailable):
    code = "bedrock_unavailable"


class UpstreamTimeout(ApiError):
    status = 504
    type = "upstream_error"
    code = "timeout"


def one_of(values: Iterable[object]) -> str:
    """Render allowed values for a message: `256, 512, 1024`."""
    return ", ".join(str(value) for value in values)
