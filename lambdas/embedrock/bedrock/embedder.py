"""The Bedrock client layer for embeddings: split, fan out, decode, keep order.

Titan models take one text per call, so texts go out concurrently under a cap; Cohere takes
up to 96 per call. Identical inputs of one call are embedded once (distinct.py). Retries are this layer's, not botocore's (clients.py turns those off):
throttling, model-not-ready, 500 and 503 are retried with jittered exponential backoff, at
most `max_attempts` times per call, and never past the invocation's deadline (deadline.py),
which answers 504 when it comes. Any failed call fails the whole request, so no partial
result is ever returned as a success, unless the caller asked for `partial`: then each text
whose call failed gets its own error and the others their vectors.

Hedging (hedging.py, opt-in): an attempt slower than the policy's delay gets a twin, and a twin
as slow another (a bounded number per call); the first answer wins and the others are left to
finish in the background, their answers ignored. Usage counts what Bedrock bills and what its
quotas count: `bedrock_calls` includes every hedge sent, and `input_tokens` counts a call's tokens
once per attempt that completes (or is still in flight when the winner answers, as Bedrock will
most likely finish and bill it); a loser that failed first is not billed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from threading import Event, Lock
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import orjson
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from embedrock import deadline
from embedrock.aws_errors import error_code
from embedrock.bedrock import codecs
from embedrock.bedrock.distinct import distinct
from embedrock.bedrock.error_mapping import RETRY_AFTER_SECONDS, THROTTLING_CODES, bedrock_errors
from embedrock.bedrock.hedging import MAX_BALANCE, HedgePolicy
from embedrock.embed_input import Item, image_of
from embedrock.embed_spec import EmbedSpec
from embedrock.errors import ApiError, ModelFailed, UpstreamTimeout

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


# Bedrock error codes worth another attempt (throttling among them).
RETRYABLE_CODES = THROTTLING_CODES | {
    "ModelNotReadyException",
    "InternalServerException",
    "ServiceUnavailableException",
}
# Full-jitter exponential backoff: the n-th retry waits up to base * 2**(n-1), capped.
# Embedding quotas are per minute, so throttling backs off longer than other failures.
THROTTLING_BACKOFF_BASE = 0.5
OTHER_BACKOFF_BASE = 0.1
MAX_BACKOFF = 8.0
# A retry is only worth starting with this much of the deadline left after its backoff: one that
# would still be in flight at the deadline turns Bedrock's answer (a 429) into a bare 504.
RETRY_RESERVE = 0.25


@dataclass(frozen=True)
class EmbedResult:
    vectors: np.ndarray  # (n, width) in input order; rows of failed texts (partial) are zeros
    input_tokens: int
    bedrock_calls: int
    bedrock_ms: float = 0.0
    # With partial=True only: (index of the text, why its call failed), in input order.
    failures: tuple[tuple[int, ApiError], ...] = ()
    # Images Bedrock embedded (and bills, for models priced per image): those of the calls that
    # succeeded; a failed call is not billed, and a cache hit was never sent.
    images: int = 0
    # Hedged second attempts sent (counted in bedrock_calls too): always 0 with hedging off.
    hedged_calls: int = 0


class Embedder(Protocol):
    """The port every embedding caller depends on: BedrockEmbedder, the cache's wrapper, fakes."""

    def embed(self, spec: EmbedSpec, texts: Sequence[Item], *, partial: bool = False) -> EmbedResult: ...


@dataclass(frozen=True)
class _CallResult:
    vectors: np.ndarray
    input_tokens: int
    images: int = 0
    hedged: int = 0


@dataclass(frozen=True)
class _Answer:
    response: Any
    payload: dict[str, Any]
    hedged: int = 0  # hedges sent for this attempt
    billed: int = 1  # attempts Bedrock bills: the winner, and losers that answered or still run


class _Stopped(Exception):
    """This call's request already failed or timed out: give up quietly."""


@dataclass
class _Run:
    """One embed() call: its deadline, and a flag that stops its calls' retries."""

    deadline: float | None
    stopped: Event = field(default_factory=Event)

    def check(self) -> None:
        if self.stopped.is_set():
            raise _Stopped
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise self.timed_out()

    def sleep(self, seconds: float) -> bool:
        """Wait before a retry; False if the deadline would pass first or the run was stopped."""
        if self.deadline is not None and time.monotonic() + seconds + RETRY_RESERVE >= self.deadline:
            return False
        return not self.stopped.wait(seconds)

    @staticmethod
    def timed_out() -> UpstreamTimeout:
        return UpstreamTimeout(
            "the request ran out of time before Bedrock answered for every text (API Gateway "
            "waits at most 29 seconds); send fewer texts per request, or retry later.",
            code="deadline_exceeded",
        )


class BedrockEmbedder:
    def __init__(
        self,
        runtime: BedrockRuntimeClient,
        *,
        max_concurrency: int,
        retry_after_seconds: int = RETRY_AFTER_SECONDS,
        max_attempts: int = 3,
        on_throttle: Callable[[str], None] | None = None,
        hedging: HedgePolicy | None = None,
    ) -> None:
        self._runtime = runtime
        self._max_concurrency = max_concurrency
        self._retry_after = retry_after_seconds
        self._max_attempts = max_attempts
        self._on_throttle = on_throttle
        self._hedging = hedging
        self._pool: ThreadPoolExecutor | None = None
        self._attempt_pool: ThreadPoolExecutor | None = None
        self._pool_lock = Lock()

    @property
    def hedging(self) -> HedgePolicy | None:
        return self._hedging

    def embed(self, spec: EmbedSpec, texts: Sequence[Item], *, partial: bool = False) -> EmbedResult:
        # Identical inputs are sent once (before Cohere's calls of <= 96 are packed) and copied back.
        unique = distinct(texts)
        if not unique.has_copies:
            return self._embed(spec, texts, partial=partial)
        return unique.spread(self._embed(spec, unique.items, partial=partial))

    def _embed(self, spec: EmbedSpec, texts: Sequence[Item], *, partial: bool) -> EmbedResult:
        size = spec.model.max_texts_per_call
        chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
        started = time.perf_counter()
        run = _Run(deadline.current())
        if len(chunks) == 1 and run.deadline is None and not partial:
            outcomes: list[_CallResult | ApiError] = [self._call(spec, chunks[0], run)]
        else:
            # Through the pool even for one call: waiting on it is what a deadline can bound.
            outcomes = self._fan_out(spec, chunks, run, partial=partial)
        results = [outcome for outcome in outcomes if isinstance(outcome, _CallResult)]
        hedged = sum(result.hedged for result in results)
        if not results:  # partial, and every call failed: there is nothing partial to return
            raise next(outcome for outcome in outcomes if isinstance(outcome, ApiError))
        vectors = np.concatenate(
            [_rows(outcome, len(chunk), results[0]) for outcome, chunk in zip(outcomes, chunks, strict=True)]
        )
        if spec.normalize and spec.embedding_type == "float" and not spec.model.native_normalize:
            vectors = _unit_length(vectors)
        failures = tuple(
            (start + offset, outcome)
            for start, outcome, chunk in zip(range(0, len(texts), size), outcomes, chunks, strict=True)
            if isinstance(outcome, ApiError)
            for offset in range(len(chunk))
        )
        return EmbedResult(
            vectors=vectors,
            input_tokens=sum(result.input_tokens for result in results),
            bedrock_calls=len(chunks) + hedged,
            bedrock_ms=(time.perf_counter() - started) * 1000,
            failures=failures,
            images=sum(result.images for result in results),
            hedged_calls=hedged,
        )

    def _fan_out(
        self, spec: EmbedSpec, chunks: list[Sequence[Item]], run: _Run, *, partial: bool
    ) -> list[_CallResult | ApiError]:
        pool = self._executor()
        futures: list[Future[_CallResult]] = [pool.submit(self._call, spec, chunk, run) for chunk in chunks]
        timeout = None if run.deadline is None else max(0.0, run.deadline - time.monotonic())
        try:
            _, pending = wait(futures, timeout, return_when=ALL_COMPLETED if partial else FIRST_EXCEPTION)
        except BaseException:
            _stop(run, futures)
            raise
        failed = [future for future in futures if future not in pending and future.exception() is not None]
        if pending or (failed and not partial):
            # Out of time, or one failed call fails the request: cancel the calls that have not
            # started, and stop the retries of those in flight.
            _stop(run, futures)
        if not partial:
            if failed:
                raise _exception(failed[0])
            if pending:
                raise run.timed_out()
            return [future.result() for future in futures]
        outcomes: list[_CallResult | ApiError] = []
        for future in futures:
            if future in pending:
                outcomes.append(run.timed_out())
            elif future.exception() is not None:
                error = _exception(future)
                if not isinstance(error, ApiError):
                    raise error  # a bug, not a Bedrock failure: no partial success over it
                outcomes.append(error)
            else:
                outcomes.append(future.result())
        return outcomes

    def _call(self, spec: EmbedSpec, texts: Sequence[Item], run: _Run) -> _CallResult:
        body = _request_json(codecs.CODECS[spec.model.family].request(spec, texts))
        attempt = 0
        hedged = 0
        while True:
            run.check()
            attempt += 1
            try:
                answer = self._attempt(spec, body, run)
                break
            except ApiError as error:
                code = error_code(error.__cause__)
                if code in THROTTLING_CODES and self._on_throttle is not None:
                    self._on_throttle(spec.model.id)
                if not _retryable(error, code) or attempt >= self._max_attempts:
                    raise
                base = THROTTLING_BACKOFF_BASE if code in THROTTLING_CODES else OTHER_BACKOFF_BASE
                if not run.sleep(random.uniform(0, min(MAX_BACKOFF, base * 2 ** (attempt - 1)))):
                    raise  # no time left for another attempt: answer what Bedrock said
        hedged += answer.hedged
        headers = answer.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        tokens = codecs.input_tokens(spec, answer.payload, headers)
        return _CallResult(
            vectors=codecs.decode(spec, answer.payload, expected=len(texts)),
            input_tokens=tokens * answer.billed,
            images=sum(1 for item in texts if image_of(item) is not None),
            hedged=hedged,
        )

    def _attempt(self, spec: EmbedSpec, body: bytes, run: _Run) -> _Answer:
        if self._hedging is None:
            return _Answer(*self._invoke(spec, body))
        return self._hedged(self._hedging, spec, body, run)

    def _hedged(self, policy: HedgePolicy, spec: EmbedSpec, body: bytes, run: _Run) -> _Answer:
        """One attempt, and hedges while every attempt sent is slower than the policy's delay."""
        pool = self._attempts(policy)
        schedule = policy.begin()
        first = pool.submit(self._invoke, spec, body)

        def record(done: Future[tuple[Any, dict[str, Any]]]) -> None:
            if not done.cancelled() and done.exception() is None:
                policy.record(policy.now() - schedule.started)

        first.add_done_callback(record)
        attempts = [first]
        while (due := schedule.due()) is not None:
            if _settled(attempts) or run.stopped.is_set() or _until(run, None) == 0:
                break  # answered, every attempt failed (the caller retries), or the request is over
            pending = [attempt for attempt in attempts if not attempt.done()]
            wait(pending, _until(run, max(0.0, due - policy.now())), return_when=FIRST_COMPLETED)
            if policy.now() < due or _settled(attempts) or run.stopped.is_set():
                continue  # woken early by an attempt's end or the deadline: decided at the top
            if not schedule.hedge(run.deadline):
                break
            attempts.append(pool.submit(self._invoke, spec, body))
        winner, losers = _first_answer(attempts, run)
        response, payload = winner.result()
        # Bedrock bills what it finished: the losers that answered or are still in flight.
        billed = 1 + sum(1 for loser in losers if not loser.done() or loser.exception() is None)
        return _Answer(response, payload, hedged=len(attempts) - 1, billed=billed)

    def _invoke(self, spec: EmbedSpec, body: bytes) -> tuple[Any, dict[str, Any]]:
        with bedrock_errors(spec.invoke_id, retry_after=self._retry_after):
            response = self._runtime.invoke_model(
                modelId=spec.invoke_id,
                body=body,
                contentType="application/json",
                accept="application/json",
            )
            return response, _read_json(spec, response["body"].read())

    def _executor(self) -> ThreadPoolExecutor:
        # One pool per warm Lambda container, created on first fan-out and reused.
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._max_concurrency, thread_name_prefix="bedrock")
            return self._pool

    def _attempts(self, policy: HedgePolicy) -> ThreadPoolExecutor:
        # Hedged attempts run here, waited on by the fan-out's threads: room for each of those and
        # its hedges, the hedges the budget can hold, and losers still finishing in the background.
        with self._pool_lock:
            if self._attempt_pool is None:
                workers = (1 + policy.max_hedges) * self._max_concurrency + int(MAX_BALANCE)
                self._attempt_pool = ThreadPoolExecutor(workers, thread_name_prefix="bedrock-attempt")
            return self._attempt_pool


_Attempt = Future[tuple[Any, dict[str, Any]]]


def _until(run: _Run, seconds: float | None) -> float | None:
    """`seconds` (None: no limit), shortened to what is left before the run's deadline."""
    if run.deadline is None:
        return seconds
    left = max(0.0, run.deadline - time.monotonic())
    return left if seconds is None else min(seconds, left)


def _settled(attempts: list[_Attempt]) -> bool:
    """An attempt answered, or every one failed: no hedge can help any more."""
    done = [attempt for attempt in attempts if attempt.done()]
    return len(done) == len(attempts) or any(attempt.exception() is None for attempt in done)


def _first_answer(attempts: list[_Attempt], run: _Run) -> tuple[_Attempt, list[_Attempt]]:
    """The first attempt to succeed and the others; the first failure if all fail; 504 at the deadline."""
    pending = set(attempts)
    failed: list[_Attempt] = []
    while pending:
        done, pending = wait(pending, _until(run, None), return_when=FIRST_COMPLETED)
        if not done:
            raise run.timed_out()  # the attempts still running are abandoned, their answers ignored
        for future in sorted(done, key=attempts.index):
            if future.exception() is None:
                return future, [other for other in attempts if other is not future]
            failed.append(future)
    raise _exception(min(failed, key=attempts.index))


def _stop(run: _Run, futures: list[Future[_CallResult]]) -> None:
    run.stopped.set()
    for future in futures:
        future.cancel()


def _exception(future: Future[Any]) -> BaseException:
    error = future.exception()
    assert error is not None
    return error


def _retryable(error: ApiError, code: str | None) -> bool:
    # Connection failures are retried too; read timeouts are not (the call may have run).
    return code in RETRYABLE_CODES or isinstance(
        error.__cause__, EndpointConnectionError | ConnectionClosedError
    )


def _rows(outcome: _CallResult | ApiError, n: int, like: _CallResult) -> np.ndarray:
    """The vectors of one call, or zeros of the same shape and type for a failed one."""
    if isinstance(outcome, _CallResult):
        return outcome.vectors
    return np.zeros((n, like.vectors.shape[1]), dtype=like.vectors.dtype)


def _read_json(spec: EmbedSpec, raw: bytes) -> dict[str, Any]:
    try:
        # orjson parses the floats of a response ~9x faster than json.loads.
        payload = orjson.loads(raw)
    except ValueError as error:
        raise ModelFailed(f"{spec.model.id} returned a body that is not JSON.") from error
    if not isinstance(payload, dict):
        raise ModelFailed(f"{spec.model.id} returned JSON that is not an object.")
    return payload


def _unit_length(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit


def _request_json(request: dict[str, Any]) -> bytes:
    """The request body, compact, as bytes: InvokeModel takes "body (bytes or seekable file-like
    object)" (boto3 docs, "BedrockRuntime / Client / invoke_model"), and a str would be copied
    twice more, decoded here and encoded again by botocore (~0.2 ms per 500 KB image). orjson: json.dumps
    scans every character for escapes, ~2 ms per 500 KB image in base64. What orjson refuses (an
    unpaired surrogate in a text) goes through json, which escapes it, so Bedrock answers it as
    before. orjson writes non-ASCII text as UTF-8 instead of \\u escapes: the body is "input data
    in the format specified in the content-type" (boto3 docs, "BedrockRuntime / Client /
    invoke_model"), application/json, whose encoding is UTF-8 (RFC 8259, section 8.1); Bedrock's
    pages say nothing more specific."""
    try:
        return orjson.dumps(request)
    except orjson.JSONEncodeError:
        return json.dumps(request, separators=(",", ":")).encode()
