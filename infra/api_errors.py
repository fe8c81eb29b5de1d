"""API Gateway's own errors, answered in the API's one error shape.

Without these, API Gateway answers `{"message": "Forbidden"}` for a missing key and
`403 Missing Authentication Token` for an unknown route. Each entry of gateway_errors.GATEWAY_ERRORS
becomes one gateway response whose body is exactly `json.dumps(error.body())`: the local gateway
answers with the same status and body, so clients see one behaviour. The DEFAULT_4XX/5XX
responses catch the rest, in the same shape, with API Gateway's own message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import aws_apigateway as apigw

from embedrock import gateway_errors
from embedrock.errors import envelope

# API Gateway's own text for the error, already a quoted and escaped JSON string.
GATEWAY_MESSAGE = "$context.error.messageString"
_MESSAGE_PLACEHOLDER = "__GATEWAY_MESSAGE__"
# Response templates are Velocity: `$` and `#` start references and directives.
_VTL_CHARACTERS = ("$", "#")


@dataclass(frozen=True)
class GatewayResponse:
    response_type: apigw.ResponseType
    template: str
    # None keeps the status API Gateway chose (DEFAULT_4XX/5XX cover several).
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)


def static_template(error: gateway_errors.GatewayError) -> str:
    """The body of `error`, exactly as the local gateway sends it."""
    template = json.dumps(error.body())
    if any(character in template for character in _VTL_CHARACTERS):
        # API Gateway would evaluate it, and clients would not get the body the local gateway sends.
        raise ValueError(f"gateway error {error.response_type}: its body must not contain $ or #: {template}")
    return template


def gateway_message_template(type_: str, code: str) -> str:
    """The API's error shape around API Gateway's own (already JSON-quoted) message."""
    body = envelope(type_, _MESSAGE_PLACEHOLDER, None, code)
    return json.dumps(body).replace(json.dumps(_MESSAGE_PLACEHOLDER), GATEWAY_MESSAGE)


def _from_catalogue(error: gateway_errors.GatewayError) -> GatewayResponse:
    retry_after = error.retry_after_seconds
    return GatewayResponse(
        apigw.ResponseType.of(error.response_type),
        static_template(error),
        error.status,
        {"Retry-After": str(retry_after)} if retry_after is not None else {},
    )


BAD_REQUEST_TEMPLATE = gateway_message_template("invalid_request_error", "invalid_request")

GATEWAY_RESPONSES: tuple[GatewayResponse, ...] = (
    *(_from_catalogue(error) for error in gateway_errors.GATEWAY_ERRORS),
    # A required path parameter or body check failed in the request validator.
    GatewayResponse(apigw.ResponseType.BAD_REQUEST_PARAMETERS, BAD_REQUEST_TEMPLATE, 400),
    GatewayResponse(apigw.ResponseType.BAD_REQUEST_BODY, BAD_REQUEST_TEMPLATE, 400),
    GatewayResponse(apigw.ResponseType.DEFAULT_4_XX, BAD_REQUEST_TEMPLATE, None),
    GatewayResponse(
        apigw.ResponseType.DEFAULT_5_XX, gateway_message_template("upstream_error", "gateway_error"), None
    ),
)


def add_gateway_errors(api: apigw.RestApi, *, cors_headers: Mapping[str, str] | None = None) -> None:
    """`cors_headers` are added to every response as given (gateway-response parameter values:
    a quoted static value or a request mapping such as method.request.header.Origin)."""
    for response in GATEWAY_RESPONSES:
        # Header values in a gateway response are static, so single-quoted.
        headers = {name: f"'{value}'" for name, value in response.headers.items()}
        headers.update(cors_headers or {})
        api.add_gateway_response(
            # e.g. "InvalidApiKey", "Default4Xx": stable logical ids.
            response.response_type.response_type.title().replace("_", ""),
            type=response.response_type,
            status_code=str(response.status) if response.status is not None else None,
            templates={"application/json": response.template},
            response_headers=headers or None,
        )
