"""The Bedrock client layer for rerank models: one InvokeModel call per request.

Bodies per family (catalog.RerankFamily has the sources): `{"query", "documents", "top_n"}`, plus
`"api_version": 2` for Cohere Rerank 3.5; the answer is `{"results": [{"index", "relevance_score"}]}`.
Retries follow the embedder's rules (embedder.py): throttling, model-not-ready, 500 and 503, with
jittered exponential backoff, never past the invocation's deadline; errors map through
error_mapping.py like every other Bedrock call.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from embedrock import deadline
from embedrock.aws_errors import error_code
from embedrock.bedrock.embedder import (
    MAX_BACKOFF,
    OTHER_BACKOFF_BASE,
    RETRY_RESERVE,
    RETRYABLE_CODES,
    THROTTLING_BACKOFF_BASE,
)
from embedrock.bedrock.error_mapping import RETRY_AFTER_SECONDS, THROTTLING_CODES, bedrock_errors
from embedrock.catalog import RERANK_MODELS, RerankFamily, RerankModel
from embedrock.errors import ApiError, InvalidRequest, ModelFailed, UpstreamTimeout

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


@dataclass(frozen=True)
class Ranked:
    index: int
    relevance_score: float


@dataclass(frozen=True)
class RerankResult:
    results: tuple[Ranked, ...]  # best first, as the model answered
    bedrock_calls: int


def check_offered(model: RerankModel, region: str | None, *, param: str = "model") -> None:
    """A 400 for a model the catalog says is not offered in `region` (None: not checked)."""
    if region is None or region in model.regions:
        return
    here = [other.id for other in RERANK_MODELS if region in other.regions]
    instead = f"; rerank models offered in {region}: {', '.join(here)}" if here else ""
    raise InvalidRequest(
        f"model {model.id} is not offered in this service's region {region}; it runs in "
        f"{', '.join(model.regions)}{instead}.",
        param=param,
        code="model_not_in_region",
    )


def request_body(model: RerankModel, query: str, documents: Sequence[str], top_n: int) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, "documents": list(documents), "top_n": top_n}
    if model.family is RerankFamily.COHERE_RERANK:
        body["api_version"] = 2
    return body


def decode(model: RerankModel, payload: object, *, documents: int, top_n: int) -> tuple[Ranked, ...]:
    """The ranked results, checked: each index names a document sent, and none repeats."""
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list) or len(results) > top_n:
        raise ModelFailed(f"{model.id} returned no valid results list.")
    ranked: list[Ranked] = []
    for item in results:
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get("relevance_score") if isinstance(item, dict) else None
        if (
            not isinstance(index, int)
            or isinstance(index, bool)
            or not 0 <= index < documents
            or not isinstance(score, int | float)
            or isinstance(score, bool)
        ):
            raise ModelFailed(f"{model.id} returned a result without a valid index and relevance_score.")
        ranked.append(Ranked(index, float(score)))
    if len({item.index for item in ranked}) != len(ranked):
        raise ModelFailed(f"{model.id} returned the same document twice.")
    # Best first whatever order the model used; ties keep the documents' order.
    ranked.sort(key=lambda item: (-item.relevance_score, item.index))
    return tuple(ranked)


class BedrockReranker:
    def __init__(
        self,
        runtime: BedrockRuntimeClient,
        *,
        max_attempts: int = 3,
        retry_after_seconds: int = RETRY_AFTER_SECONDS,
        on_throttle: Callable[[str], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._max_attempts = max_attempts
        self._retry_after = retry_after_seconds
        self._on_throttle = on_throttle

    def rerank(self, model: RerankModel, query: str, documents: Sequence[str], top_n: int) -> RerankResult:
        body = json.dumps(request_body(model, query, documents, top_n))
        payload = self._invoke_with_retries(model, body)
        return RerankResult(decode(model, payload, documents=len(documents), top_n=top_n), bedrock_calls=1)

    def _invoke_with_retries(self, model: RerankModel, body: str) -> object:
        ends = deadline.current()
        attempt = 0
        while True:
            if ends is not None and time.monotonic() >= ends:
                raise _timed_out()
            attempt += 1
            try:
                return self._invoke(model, body)
            except ApiError as error:
                code = error_code(error.__cause__)
                if code in THROTTLING_CODES and self._on_throttle is not None:
                    self._on_throttle(model.id)
                if code not in RETRYABLE_CODES or attempt >= self._max_attempts:
                    raise
                base = THROTTLING_BACKOFF_BASE if code in THROTTLING_CODES else OTHER_BACKOFF_BASE
                wait = random.uniform(0, min(MAX_BACKOFF, base * 2 ** (attempt - 1)))
                if ends is not None and time.monotonic() + wait + RETRY_RESERVE >= ends:
                    raise  # no time for another attempt: answer what Bedrock said
                time.sleep(wait)

    def _invoke(self, model: RerankModel, body: str) -> object:
        with bedrock_errors(model.id, retry_after=self._retry_after):
            response = self._runtime.invoke_model(
                modelId=model.id, body=body, contentType="application/json", accept="application/json"
            )
            raw = response["body"].read()
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ModelFailed(f"{model.id} returned a body that is not JSON.") from error


def _timed_out() -> UpstreamTimeout:
    return UpstreamTimeout(
        "the request ran out of time before Bedrock answered (API Gateway waits at most 29 seconds); "
        "send fewer documents, or retry later.",
        code="deadline_exceeded",
    )
