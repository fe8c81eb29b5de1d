"""The Bedrock client layer for embeddings: split, fan out, decode, keep order.

Titan models take one text per call, so texts go out concurrently under a cap; Cohere takes
up to 96 per call. Retries are botocore's (standard mode, see clients.py); this layer maps
what is left to API errors and fails the whole request if any call fails, so no partial
result is ever returned as a success.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock
from typing import TYPE_CHECKING, Any

import numpy as np

from embedrock.bedrock import codecs
from embedrock.bedrock.errors import RETRY_AFTER_SECONDS, bedrock_errors
from embedrock.embeddings import EmbedSpec
from embedrock.errors import ModelFailed

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


@dataclass(frozen=True)
class EmbedResult:
    vectors: np.ndarray  # (n, width) in input order
    input_tokens: int
    bedrock_calls: int
    bedrock_ms: float = 0.0


@dataclass(frozen=True)
class _CallResult:
    vectors: np.ndarray
    input_tokens: int


class BedrockEmbedder:
    def __init__(
        self,
        runtime: BedrockRuntimeClient,
        *,
        max_concurrency: int,
        retry_after_seconds: int = RETRY_AFTER_SECONDS,
    ) -> None:
        self._runtime = runtime
        self._max_concurrency = max_concurrency
        self._retry_after = retry_after_seconds
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = Lock()

    def embed(self, spec: EmbedSpec, texts: Sequence[str]) -> EmbedResult:
        size = spec.model.max_texts_per_call
        chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
        started = time.perf_counter()
        results = [self._call(spec, chunks[0])] if len(chunks) == 1 else self._fan_out(spec, chunks)
        vectors = np.concatenate([result.vectors for result in results])
        if spec.normalize and spec.embedding_type == "float" and not spec.model.native_normalize:
            vectors = _unit_length(vectors)
        return EmbedResult(
            vectors=vectors,
            input_tokens=sum(result.input_tokens for result in results),
            bedrock_calls=len(chunks),
            bedrock_ms=(time.perf_counter() - started) * 1000,
        )

    def _fan_out(self, spec: EmbedSpec, chunks: list[Sequence[str]]) -> list[_CallResult]:
        pool = self._executor()
        futures: list[Future[_CallResult]] = [pool.submit(self._call, spec, chunk) for chunk in chunks]
        try:
            return [future.result() for future in futures]
        except BaseException:
            # One failed call fails the request: stop the calls that have not started yet.
            for future in futures:
                future.cancel()
            raise

    def _call(self, spec: EmbedSpec, texts: Sequence[str]) -> _CallResult:
        body = codecs.CODECS[spec.model.family].request(spec, texts)
        with bedrock_errors(spec.model.id, retry_after=self._retry_after):
            response = self._runtime.invoke_model(
                modelId=spec.model.id,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            payload = _read_json(spec, response["body"].read())
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return _CallResult(
            vectors=codecs.decode(spec, payload, expected=len(texts)),
            input_tokens=codecs.input_tokens(spec, payload, headers),
        )

    def _executor(self) -> ThreadPoolExecutor:
        # One pool per warm Lambda container, created on first fan-out and reused.
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._max_concurrency, thread_name_prefix="bedrock")
            return self._pool


def _read_json(spec: EmbedSpec, raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise ModelFailed(f"{spec.model.id} returned a body that is not JSON.") from error
    if not isinstance(payload, dict):
        raise ModelFailed(f"{spec.model.id} returned JSON that is not an object.")
    return payload


def _unit_length(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit
