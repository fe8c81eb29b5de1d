"""The one mapping from Bedrock (botocore) failures to API errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from embedrock import inference_profiles
from embedrock.aws_errors import error_code
from embedrock.errors import (
    ApiError,
    BedrockUnavailable,
    InvalidRequest,
    ModelAccessDenied,
    ModelFailed,
    NotFound,
    Throttled,
    UpstreamTimeout,
    shown,
)
from embedrock.settings import Settings

# Seconds in Retry-After when the caller passes none (the model-catalog and batch calls): the
# configured EMBEDROCK_RETRY_AFTER, read once at import; the embedder is handed its own value.
RETRY_AFTER_SECONDS = Settings().retry_after_seconds
# Bedrock's answers to too many requests (TooManyRequests is the older name).
THROTTLING_CODES = frozenset({"ThrottlingException", "TooManyRequestsException"})
_BOTOCORE_FAILURES = (
    ClientError,
    ReadTimeoutError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


def translate(  # noqa: PLR0912 - one branch per Bedrock error, read as a table
    error: Exception,
    *,
    model_id: str | None = None,
    retry_after: int = RETRY_AFTER_SECONDS,
    invoking: bool = True,
) -> ApiError:
    """Turn a botocore failure into the API error a client should see."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return UpstreamTimeout("Bedrock did not answer in time; retry later.", code="bedrock_timeout")
    if isinstance(error, EndpointConnectionError | ConnectionClosedError):
        return BedrockUnavailable("Bedrock could not be reached; retry later.", code="bedrock_unreachable")
    if not isinstance(error, ClientError):
        return ApiError("internal error while calling Bedrock.")
    code = error_code(error) or ""
    detail = shown(error.response.get("Error", {}).get("Message", "") or code, 300)
    model = f"model {shown(model_id)}" if model_id else "the model"
    if code in THROTTLING_CODES or code == "ModelNotReadyException":
        reason = "is not ready yet" if code == "ModelNotReadyException" else "throttled the request"
        return Throttled(
            f"Bedrock {reason} for {model} after retries; retry after {retry_after} seconds, "
            "or lower the request rate (embedding quotas are requests per minute).",
            code="bedrock_throttled" if code != "ModelNotReadyException" else "model_not_ready",
            headers={"Retry-After": str(retry_after)},
        )
    if code == "AccessDeniedException" and not invoking:
        return ModelAccessDenied(
            "this service's IAM role may not read Bedrock's model catalog "
            "(bedrock:ListFoundationModels, bedrock:GetFoundationModel); redeploy the stack.",
            code="catalog_access_denied",
        )
    if code == "AccessDeniedException":
        return ModelAccessDenied(model_access_denied_message(model, detail), param="model")
    if code == "ResourceNotFoundException":
        return NotFound(f"Bedrock does not know {model}: {detail}", param="model", code="model_not_found")
    if code == "ValidationException" and _needs_profile(detail):
        return InvalidRequest(
            profile_required_message(model_id, detail), param="model", code="inference_profile_required"
        )
    if code == "ValidationException" and INVALID_MODEL_ID in detail:
        return InvalidRequest(
            f"Bedrock does not know {model} in this region; GET /models lists the models and the "
            f"inference profiles that route to them. Bedrock said: {detail}",
            param="model",
            code="bedrock_validation",
        )
    if code in ("ValidationException", "ServiceQuotaExceededException"):
        return InvalidRequest(
            f"Bedrock rejected the request for {model}: {detail}", code="bedrock_validation"
        )
    if code == "ModelTimeoutException":
        return UpstreamTimeout(f"{model} timed out while processing the request; retry later.".capitalize())
    if code == "ModelErrorException":
        return ModelFailed(f"{model} failed to process the request: {detail}".capitalize())
    if code == "ServiceUnavailableException":
        return BedrockUnavailable("Bedrock is unavailable right now; retry later.")
    if code == "InternalServerException":
        return BedrockUnavailable(
            "Bedrock had an internal error; retry later.", code="bedrock_internal_error"
        )
    return ModelFailed(f"Bedrock failed with {code or 'an unknown error'}.", code="bedrock_error")


# Bedrock's answers to a model id it does not serve, and to a model it serves only through inference
# profiles: "Invocation of model ID <id> with on-demand throughput isn\u2019t supported. Retry your request
# with the ID or ARN of an inference profile that contains this model." (quoted verbatim in public
# reports, e.g. github.com/anthropics/anthropic-sdk-python issue 894; the DESIGN's Bedrock facts give
# the first). Matched on their stable words, since the apostrophe may be typographic or plain.
INVALID_MODEL_ID = "The provided model identifier is invalid."
_ON_DEMAND_UNSUPPORTED = ("on-demand throughput", "inference profile")


def _needs_profile(detail: str) -> bool:
    return all(words in detail for words in _ON_DEMAND_UNSUPPORTED)


def profile_required_message(model_id: str | None, detail: str) -> str:
    """A 400 on `model` naming the profile ids to send instead of the model's own id."""
    bare = inference_profiles.parse(model_id).model_id if model_id else None
    documented = inference_profiles.system_profile_ids(bare) if bare else ()
    if documented:
        use = f"allowed values: {', '.join(documented)}"
    else:
        use = f"send an inference profile id of it ({inference_profiles.example_ids()})"
    return (
        f"model {shown(model_id or 'the model')} is served here only through an inference profile; {use}. "
        f"GET /models lists the profiles that route to it. Bedrock said: {detail}"
    )


def model_access_denied_message(model: str, detail: str) -> str:
    """What to do about an AccessDeniedException from InvokeModel.

    Bedrock's console page for requesting model access is retired: serverless models are enabled
    by default, and the first call in an account to a third-party model (Cohere) starts its AWS
    Marketplace subscription, which needs aws-marketplace:Subscribe and ViewSubscriptions once;
    after that every role of the account may call it. This service's roles deliberately lack
    those rights (README, "First call to a third-party model"). Source: Amazon Bedrock User
    Guide, "Access Amazon Bedrock foundation models" (model-access.html), and AWS re:Post,
    "Resolve AccessDeniedException for AWS Marketplace permissions in Amazon Bedrock".
    """
    return (
        f"Bedrock denied access to {model}. For a third-party model (Cohere), the account's first "
        "call starts an AWS Marketplace subscription that this service's role may not start: have "
        "an administrator allowed aws-marketplace:Subscribe and aws-marketplace:ViewSubscriptions "
        "invoke the model once in this account (in the Bedrock console playground or with the AWS "
        "CLI), wait a few minutes, then retry. Otherwise an IAM policy or SCP denies "
        f"bedrock:InvokeModel on it. Bedrock said: {detail}"
    )


@contextmanager
def bedrock_errors(
    model_id: str | None = None, *, retry_after: int = RETRY_AFTER_SECONDS, invoking: bool = True
) -> Iterator[None]:
    """Raise the API error of any botocore failure inside the block.

    `invoking` is false around the model catalog calls, where access denied is an IAM
    matter rather than model access to enable in the console.
    """
    try:
        yield
    except _BOTOCORE_FAILURES as error:
        raise translate(error, model_id=model_id, retry_after=retry_after, invoking=invoking) from error
