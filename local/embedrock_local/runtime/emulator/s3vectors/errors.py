"""S3 Vectors' error codes and HTTP statuses, from botocore's s3vectors service model
(botocore/data/s3vectors/2025-07-15/service-2.json: each error shape's `httpStatusCode`)."""

from __future__ import annotations

from embedrock_local.runtime.emulator.errors import BedrockError

STATUS: dict[str, int] = {
    "ValidationException": 400,  # the model gives it no status: rest-json's client-error default
    "AccessDeniedException": 403,
    "NotFoundException": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "TooManyRequestsException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}


class S3VectorsError(BedrockError):
    """An error answered as S3 Vectors answers it: the code in `x-amzn-ErrorType`, `{"message"}`.

    A BedrockError so the server and the in-process client carry it the same way, with its own
    statuses (S3 Vectors' ServiceQuotaExceededException is 402, Bedrock's 400)."""

    def __init__(self, code: str, message: str) -> None:
        if code not in STATUS:
            raise ValueError(f"unknown S3 Vectors error code {code!r}")
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.extra = {}

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def headers(self) -> dict[str, str]:
        return {"x-amzn-ErrorType": self.code}


def invalid(message: str) -> S3VectorsError:
    return S3VectorsError("ValidationException", message)


def not_found(message: str) -> S3VectorsError:
    return S3VectorsError("NotFoundException", message)


def conflict(message: str) -> S3VectorsError:
    return S3VectorsError("ConflictException", message)


def quota(message: str) -> S3VectorsError:
    return S3VectorsError("ServiceQuotaExceededException", message)


def not_implemented(what: str) -> S3VectorsError:
    return invalid(f"{what} is not implemented by the embedrock emulator.")
