"""The one mapping from S3 Vectors (botocore) failures to API errors.

Error codes: botocore's s3vectors model (2025-07-15): every operation may answer
ValidationException (400), AccessDeniedException (403), NotFoundException (404),
TooManyRequestsException (429, modeled retryable as throttling), InternalServerException (500),
ServiceUnavailableException (503) and RequestTimeoutException (408); CreateIndex and
CreateVectorBucket ConflictException (409); CreateIndex and PutVectors
ServiceQuotaExceededException (402); the vector operations the KMS errors (400: KmsDisabledException,
KmsInvalidKeyUsageException, KmsInvalidStateException, KmsNotFoundException) when the bucket's key
cannot be used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from embedrock.aws_errors import error_code
from embedrock.errors import (
    AccessDenied,
    ApiError,
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Throttled,
    UpstreamFailed,
    UpstreamTimeout,
    shown,
)

# What botocore's standard retry mode treats as throttling among S3 Vectors' answers.
THROTTLING_CODES = frozenset({"TooManyRequestsException", "ThrottlingException"})
KMS_CODES = frozenset(
    {
        "KmsDisabledException",
        "KmsInvalidKeyUsageException",
        "KmsInvalidStateException",
        "KmsNotFoundException",
    }
)
_BOTOCORE_FAILURES = (
    ClientError,
    ParamValidationError,
    ReadTimeoutError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


def translate(  # noqa: PLR0912 - one branch per S3 Vectors error, read as a table
    error: Exception, *, collection: str | None, retry_after: int
) -> ApiError:
    """The API error a client should see for a failed S3 Vectors call on `collection`."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return UpstreamTimeout("S3 Vectors did not answer in time; retry later.", code="vector_store_timeout")
    if isinstance(error, EndpointConnectionError | ConnectionClosedError):
        return ServiceUnavailable(
            "S3 Vectors could not be reached; retry later.", code="vector_store_unreachable"
        )
    if isinstance(error, ParamValidationError):
        # botocore's own check of the request against the model, before anything is sent.
        return InvalidRequest(f"S3 Vectors would refuse the request: {error}", code="vector_store_validation")
    if not isinstance(error, ClientError):
        return ApiError("internal error while calling S3 Vectors.")
    code = error_code(error) or ""
    detail = shown(_message(error.response), 300)
    named = f"collection {shown(collection)}" if collection else "the vector bucket"
    if code in THROTTLING_CODES:
        return Throttled(
            f"S3 Vectors throttled the request on {named} after retries; retry after {retry_after} "
            "seconds, or write in fewer, larger batches.",
            code="vector_store_throttled",
            headers={"Retry-After": str(retry_after)},
        )
    if code == "NotFoundException" and collection:
        return NotFound(
            f"there is no collection named {shown(collection)}; GET /collections lists them.",
            param="name",
            code="collection_not_found",
        )
    if code == "NotFoundException":
        return NotFound(f"S3 Vectors found no such resource: {detail}", code="vector_store_not_found")
    if code == "ConflictException":
        return Conflict(
            f"a collection named {shown(collection)} already exists; choose another name or delete it first.",
            param="name",
            code="collection_exists",
        )
    if code == "ValidationException":
        return InvalidRequest(
            f"S3 Vectors refused the request on {named}: {detail}",
            code="vector_store_validation",
        )
    if code == "ServiceQuotaExceededException":
        return Throttled(
            f"S3 Vectors' quota is reached for {named}: {detail}. Delete collections or documents, "
            "or ask AWS for a higher quota.",
            code="vector_store_quota_exceeded",
        )
    if code == "AccessDeniedException":
        return AccessDenied(
            f"this service's IAM role may not do that on {named} in S3 Vectors; redeploy the stack. "
            f"S3 Vectors said: {detail}",
            code="vector_store_access_denied",
        )
    if code in KMS_CODES:
        return ServiceUnavailable(
            f"the vector bucket's KMS key cannot be used ({code}); an administrator must fix the key.",
            code="vector_store_key_unusable",
        )
    if code == "RequestTimeoutException":
        return UpstreamTimeout(
            "S3 Vectors timed out on the request; retry later.", code="vector_store_timeout"
        )
    if code in ("ServiceUnavailableException", "InternalServerException"):
        return ServiceUnavailable(
            "S3 Vectors is unavailable right now; retry later.", code="vector_store_unavailable"
        )
    return UpstreamFailed(f"S3 Vectors failed with {code or 'an unknown error'}.", code="vector_store_error")


@contextmanager
def vector_store_errors(collection: str | None, *, retry_after: int) -> Iterator[None]:
    """Raise the API error of any botocore failure inside the block."""
    try:
        yield
    except _BOTOCORE_FAILURES as error:
        raise translate(error, collection=collection, retry_after=retry_after) from error


def _message(response: Mapping[str, Any]) -> str:
    error = response.get("Error", {})
    return str(error.get("Message") or response.get("message") or error.get("Code") or "")
