"""Bedrock's error wire format: status code, `x-amzn-ErrorType` header and a `{"message"}` body.

botocore's rest-json parser takes the error code from the header (the part before ':'), so a
real boto3 client raises the same ClientError code it would get from Bedrock.
"""

from __future__ import annotations

from typing import Any

# Status codes from botocore's bedrock-runtime and bedrock service models.
STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "UnknownOperationException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

# The namespace Bedrock appends to the error type header.
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


class BedrockError(Exception):
    """An error answered the way Bedrock answers it."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        if code not in STATUS:
            raise ValueError(f"unknown Bedrock error code {code!r}")
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}

    def headers(self) -> dict[str, str]:
        return {"x-amzn-ErrorType": self.code + ERROR_TYPE_SUFFIX}


def validation(message: str) -> BedrockError:
    return BedrockError("ValidationException", message)


INVALID_MODEL_ID = "The provided model identifier is invalid."
MALFORMED_BODY = "Malformed input request, please reformat your input and try again."
