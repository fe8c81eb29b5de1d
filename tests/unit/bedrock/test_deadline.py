"""Deadlines, bounded retries and partial results in the Bedrock client layer and the handlers.

Every Bedrock call of an invocation shares one deadline: min(Lambda's remaining time,
EMBEDROCK_REQUEST_TIMEOUT less the time since API Gateway received the request) minus
EMBEDROCK_DEADLINE_MARGIN. Retries never sleep past it,
no attempt starts after it, and reaching it answers 504 - well before API Gateway's 29 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from embedrock import deadline, settings, wiring
from embedrock.bedrock.embedder import BedrockEmbedder
from embedrock.embed_spec import resolve_spec
from embedrock.errors import ApiError, BedrockUnavailable, ModelFailed, Throttled, UpstreamTimeout
from embedrock.handlers import embeddings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime, client_error, serving

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
THROTTLED = client_error("ThrottlingException", 429, "Too many requests")


@dataclass
class ScriptedRuntime(FakeBedrockRuntime):
    """FakeBedrockRuntime whose first calls fail as scripted, in order; then it answers."""

    script: list[Exception] = field(default_factory=list)
    always: Exception | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            failure = self.script.pop(0) if self.script else self.always
        if failure is not None:
            with self._lock:
                self.calls.append((kwargs["modelId"], {}))
            if self.latency_seconds:
                time.sleep(self.latency_seconds)
            raise failure
        return super().invoke_model(**kwargs)


class Context(LambdaContext):
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def embedder(runtime: Any, *, attempts: int = 3, throttles: list[str] | None = None) -> BedrockEmbedder:
    return BedrockEmbedder(
        runtime,
        max_concurrency=8,
        max_attempts=attempts,
        on_throttle=throttles.append if throttles is not None else None,
    )


def timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except ApiError as error:
        return error, time.monotonic() - started


class TestBudget:
    @pytest.mark.parametrize(
        ("remaining_ms", "timeout", "margin", "expected"),
        [
            (29_000, 29.0, 1.0, 28.0),  # Lambda's timeout is API Gateway's: both give 28 s
            (10_000, 29.0, 1.0, 9.0),  # late in a long invocation: the Lambda's clock rules
            (60_000, 29.0, 1.0, 28.0),  # a longer Lambda timeout: API Gateway's 29 s still rules
            (500, 29.0, 1.0, 0.0),  # no time left: the first call fails at once
        ],
    )
    def test_the_budget_is_the_tighter_limit_minus_the_margin(
        self, remaining_ms: int, timeout: float, margin: float, expected: float
    ) -> None:
        budget = deadline.budget_seconds(Context(remaining_ms), request_timeout=timeout, margin=margin)
        assert budget == pytest.approx(expected)

    @pytest.mark.parametrize("seconds_ago", [0.0, 5.0, 20.5])
    def test_time_since_api_gateway_received_the_request_is_taken_off(self, seconds_ago: float) -> None:
        # Given a proxy event API Gateway received `seconds_ago` (cold start, gateway overhead)
        now = 1_800_000_000.0
        event = {"requestContext": {"requestTimeEpoch": int((now - seconds_ago) * 1000)}}
        # When the budget is computed with a full Lambda clock
        budget = deadline.budget_seconds(
            Context(60_000), request_timeout=29.0, margin=1.0, event=event, now=now
        )
        # Then it is shorter by exactly that time
        assert budget == pytest.approx(28.0 - seconds_ago)

    def test_lambdas_remaining_time_still_caps_the_budget(self) -> None:
        now = 1_800_000_000.0
        event = {"requestContext": {"requestTimeEpoch": int((now - 5) * 1000)}}
        budget = deadline.budget_seconds(
            Context(10_000), request_timeout=29.0, margin=1.0, event=event, now=now
        )
        assert budget == pytest.approx(9.0)  # min(10, 29 - 5) - 1

    def test_a_request_older_than_the_timeout_has_no_budget(self) -> None:
        now = 1_800_000_000.0
        event = {"requestContext": {"requestTimeEpoch": int((now - 3600) * 1000)}}
        assert (
            deadline.budget_seconds(Context(60_000), request_timeout=29.0, margin=1.0, event=event, now=now)
            == 0
        )

    @pytest.mark.parametrize(
        "request_context",
        [
            {"requestTimeEpoch": int((1_800_000_000.0 + 30) * 1000)},  # in the future: clocks apart
            {"requestTimeEpoch": -5},
            {"requestTimeEpoch": 0},
            {"requestTimeEpoch": "1800000000000"},
            {"requestTimeEpoch": True},
            {"requestTimeEpoch": float("nan")},
            {"requestTimeEpoch": float("inf")},
            {"requestTimeEpoch": None},
            {},
            "not a mapping",
        ],
        ids=["future", "negative", "zero", "string", "bool", "nan", "inf", "null", "absent", "bogus-context"],
    )
    def test_an_unusable_epoch_falls_back_to_the_handlers_clock(self, request_context: object) -> None:
        event = {"requestContext": request_context}
        budget = deadline.budget_seconds(
            Context(60_000), request_timeout=29.0, margin=1.0, event=event, now=1_800_000_000.0
        )
        assert budget == pytest.approx(28.0)

    @pytest.mark.parametrize("event", [None, {"texts": ["x"]}, ["not", "a", "dict"]])
    def test_direct_invocations_start_the_clock_at_the_handler(self, event: object) -> None:
        budget = deadline.budget_seconds(Context(60_000), request_timeout=29.0, margin=1.0, event=event)
        assert budget == pytest.approx(28.0)

    def test_a_context_without_a_clock_gets_the_request_timeout(self) -> None:
        assert deadline.budget_seconds(object(), request_timeout=29.0, margin=1.0) == pytest.approx(28.0)

    def test_the_deadline_holds_only_inside_the_invocation(self) -> None:
        assert deadline.current() is None
        with deadline.running(5.0) as until:
            assert deadline.current() == until
            remaining = deadline.remaining()
            assert remaining is not None and 4.9 < remaining <= 5.0
        assert deadline.current() is None and deadline.remaining() is None


class TestDeadline:
    @pytest.mark.parametrize("n_texts", [1, 6])
    def test_a_slow_bedrock_is_a_504_at_the_deadline_not_after_it(self, n_texts: int) -> None:
        # Given Bedrock answering after 1 s, and 0.3 s left in the invocation
        runtime = FakeBedrockRuntime(latency_seconds=1.0)
        spec = resolve_spec(model_id=TITAN)

        # When texts are embedded
        with deadline.running(0.3):
            error, elapsed = timed(lambda: embedder(runtime).embed(spec, [f"t{i}" for i in range(n_texts)]))

        # Then the answer is a 504 naming the time limit, given at the deadline
        assert isinstance(error, UpstreamTimeout) and error.code == "deadline_exceeded"
        assert 0.25 < elapsed < 0.6

    def test_throttling_retries_stop_before_the_deadline_with_a_429(self) -> None:
        # Given Bedrock throttling every call, ten attempts allowed, and 0.8 s left
        runtime = ScriptedRuntime(always=THROTTLED)
        throttles: list[str] = []

        # When a text is embedded
        with deadline.running(0.8):
            error, elapsed = timed(
                lambda: embedder(runtime, attempts=10, throttles=throttles).embed(
                    resolve_spec(model_id=TITAN), ["x"]
                )
            )

        # Then the client gets Bedrock's 429 (with Retry-After) before the deadline, not a 504,
        # and every throttled attempt was counted
        assert isinstance(error, Throttled) and error.headers["Retry-After"]
        assert elapsed < 0.8
        assert 1 <= len(runtime.calls) < 10
        assert throttles == [TITAN] * len(runtime.calls)

    def test_no_retry_starts_that_would_still_be_in_flight_at_the_deadline(self, monkeypatch) -> None:
        # Given Bedrock throttling after 0.2 s per call, the longest backoff (0.5 s), and 0.8 s left:
        # a second attempt would start at 0.7 s and still be on the wire at the deadline
        monkeypatch.setattr("embedrock.bedrock.embedder.random.uniform", lambda low, high: high)
        runtime = ScriptedRuntime(always=THROTTLED, latency_seconds=0.2)

        # When a text is embedded
        with deadline.running(0.8):
            error, elapsed = timed(
                lambda: embedder(runtime, attempts=10).embed(resolve_spec(model_id=TITAN), ["x"])
            )

        # Then Bedrock's 429 is the answer, not the deadline's 504, after the one attempt
        assert isinstance(error, Throttled), error
        assert len(runtime.calls) == 1 and elapsed < 0.8

    def test_no_deadline_outside_an_invocation_keeps_every_attempt(self) -> None:
        runtime = ScriptedRuntime(script=[THROTTLED, THROTTLED])
        result = embedder(runtime, attempts=3).embed(resolve_spec(model_id=TITAN), ["x"])
        assert result.vectors.shape == (1, 1024) and len(runtime.calls) == 3


# Each failure of one call, and whether it is transient (retried).
FAILURES: dict[str, tuple[Exception, bool]] = {
    "throttling": (client_error("ThrottlingException", 429), True),
    "not-ready": (client_error("ModelNotReadyException", 429), True),
    "internal": (client_error("InternalServerException", 500), True),
    "unavailable": (client_error("ServiceUnavailableException", 503), True),
    "connection": (EndpointConnectionError(endpoint_url="http://bedrock"), True),
    "validation": (client_error("ValidationException", 400), False),
    "access-denied": (client_error("AccessDeniedException", 403), False),
    "model-error": (client_error("ModelErrorException", 424), False),
    "model-timeout": (client_error("ModelTimeoutException", 408), False),
    "read-timeout": (ReadTimeoutError(endpoint_url="http://bedrock"), False),
}


def failures(*, transient: bool) -> pytest.MarkDecorator:
    """Parametrize `failure` over the transient failures, or over the others."""
    chosen = {name: failure for name, (failure, retried) in FAILURES.items() if retried is transient}
    return pytest.mark.parametrize("failure", list(chosen.values()), ids=list(chosen))


class TestRetries:
    @failures(transient=True)
    def test_transient_failures_are_retried(self, failure: Exception) -> None:
        runtime = ScriptedRuntime(script=[failure])
        result = embedder(runtime).embed(resolve_spec(model_id=TITAN), ["x"])
        assert result.vectors.shape == (1, 1024)
        assert len(runtime.calls) == 2

    @failures(transient=False)
    def test_other_failures_are_not_retried(self, failure: Exception) -> None:
        runtime = ScriptedRuntime(always=failure)
        with pytest.raises(ApiError):
            embedder(runtime).embed(resolve_spec(model_id=TITAN), ["x"])
        assert len(runtime.calls) == 1

    def test_attempts_are_bounded_by_max_attempts(self) -> None:
        runtime = ScriptedRuntime(always=client_error("ServiceUnavailableException", 503))
        with pytest.raises(BedrockUnavailable):
            embedder(runtime, attempts=4).embed(resolve_spec(model_id=TITAN), ["x"])
        assert len(runtime.calls) == 4

    def test_one_failed_text_stops_the_retries_of_the_others(self) -> None:
        # Given one text Bedrock rejects for good while every other call is throttled
        class RejectOneThrottleTheRest(FakeBedrockRuntime):
            def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
                with self._lock:
                    self.calls.append((kwargs["modelId"], {}))
                time.sleep(0.02)
                raise client_error("ValidationException", 400) if b'"bad"' in kwargs["body"] else THROTTLED

        runtime = RejectOneThrottleTheRest()
        texts = ["bad", *(f"ok {i}" for i in range(7))]

        # When they are embedded with many attempts allowed
        error, _ = timed(lambda: embedder(runtime, attempts=10).embed(resolve_spec(model_id=TITAN), texts))
        time.sleep(0.05)  # calls already on the wire finish
        calls_after_failure = len(runtime.calls)
        time.sleep(0.5)

        # Then the request fails with the fatal error, and no retry starts after it did
        assert isinstance(error, ApiError) and error.status == 400
        assert len(runtime.calls) == calls_after_failure


class TestPartial:
    def test_failed_texts_are_reported_and_the_others_embedded(self) -> None:
        # Given Bedrock failing for one text of three
        runtime = FakeBedrockRuntime()
        runtime.fail_on_text["b"] = client_error("ModelErrorException", 424, "bad input")

        # When partial results are asked for
        result = embedder(runtime).embed(resolve_spec(model_id=TITAN), ["a", "b", "c"], partial=True)

        # Then the failed text is listed with its error and a zero row; the others are vectors
        assert [index for index, _ in result.failures] == [1]
        assert isinstance(result.failures[0][1], ModelFailed)
        assert np.all(result.vectors[1] == 0)
        assert np.linalg.norm(result.vectors[[0, 2]], axis=1) == pytest.approx([1.0, 1.0])

    def test_without_partial_one_failure_fails_all(self) -> None:
        runtime = FakeBedrockRuntime()
        runtime.fail_on_text["b"] = client_error("ModelErrorException", 424)
        with pytest.raises(ModelFailed):
            embedder(runtime).embed(resolve_spec(model_id=TITAN), ["a", "b", "c"])

    def test_when_every_text_fails_the_request_fails(self) -> None:
        runtime = FakeBedrockRuntime(failures={TITAN: THROTTLED})
        with pytest.raises(Throttled):
            embedder(runtime, attempts=1).embed(resolve_spec(model_id=TITAN), ["a", "b"], partial=True)

    def test_texts_not_done_by_the_deadline_get_a_504_each(self) -> None:
        # Given one slow text among fast ones
        class OneSlow(FakeBedrockRuntime):
            def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
                if b'"slow"' in kwargs["body"]:
                    time.sleep(1.0)
                return super().invoke_model(**kwargs)

        # When embedded with partial results and 0.3 s left
        with deadline.running(0.3):
            result = embedder(OneSlow()).embed(resolve_spec(model_id=TITAN), ["a", "slow", "c"], partial=True)

        # Then the slow one is a deadline error and the others have vectors
        ((index, error),) = result.failures
        assert index == 1 and error.status == 504 and error.code == "deadline_exceeded"

    def test_a_failed_cohere_call_fails_each_of_its_texts(self) -> None:
        runtime = FakeBedrockRuntime()
        runtime.fail_on_text["poison"] = client_error("ModelErrorException", 424)
        texts = [f"text {i}" for i in range(100)]
        texts[97] = "poison"  # in the second call (texts 96-99)
        result = embedder(runtime).embed(resolve_spec(model_id=COHERE), texts, partial=True)
        assert [index for index, _ in result.failures] == [96, 97, 98, 99]


@pytest.fixture
def bedrock() -> Iterator[ScriptedRuntime]:
    with serving(ScriptedRuntime()) as fake:
        # One request first: what the handler imports on its first request (numpy, the embedder,
        # its client) is not what these timings are about, and on a loaded machine it can take
        # longer than the deadline being measured.
        assert post({"text": "warm up"})["statusCode"] == 200
        fake.calls.clear()
        yield fake


def post(body: Any, context: Any = None, *, received_seconds_ago: float = 0.0) -> dict[str, Any]:
    event = api_event("POST", "/embeddings", body)
    event["requestContext"]["requestTimeEpoch"] = int((time.time() - received_seconds_ago) * 1000)
    response: dict[str, Any] = embeddings.handler(event, context or LambdaContext())
    return response


class TestThroughTheHandler:
    def test_the_handler_derives_the_deadline_from_the_lambda_context(self, bedrock: ScriptedRuntime) -> None:
        # Given Bedrock answering after 1 s, and an invocation with 1.4 s left (margin 1 s)
        bedrock.latency_seconds = 1.0

        # When a text is embedded
        response, elapsed = timed(lambda: post({"text": "x"}, Context(1400)))

        # Then the client gets the 504 of the deadline after ~0.4 s, in the error shape
        assert response["statusCode"] == 504 and elapsed < 0.9
        assert response_json(response)["error"]["code"] == "deadline_exceeded"
        assert deadline.current() is None  # the deadline ended with the invocation

    def test_time_spent_before_the_handler_shrinks_the_deadline(self, bedrock: ScriptedRuntime) -> None:
        # Given Bedrock answering after 1 s, and API Gateway having received the request 27.6 s
        # ago (a cold start): 29 - 27.6 - 1 s margin = 0.4 s left, though Lambda has 29 s
        bedrock.latency_seconds = 1.0

        # When a text is embedded
        response, elapsed = timed(lambda: post({"text": "x"}, received_seconds_ago=27.6))

        # Then the deadline counts from API Gateway's clock: a 504 after ~0.4 s, not a 200 after 1 s
        assert response["statusCode"] == 504 and elapsed < 0.9
        assert response_json(response)["error"]["code"] == "deadline_exceeded"

    def test_a_request_already_past_its_deadline_calls_no_bedrock(self, bedrock: ScriptedRuntime) -> None:
        # Given a request API Gateway received 28.5 s ago: within the 1 s margin of its 29 s
        # When texts are embedded
        response, elapsed = timed(lambda: post({"texts": ["x", "y"]}, received_seconds_ago=28.5))

        # Then the answer is the deadline's 504 at once, and Bedrock was never called (nor paid)
        assert response["statusCode"] == 504 and elapsed < 0.5
        assert response_json(response)["error"]["code"] == "deadline_exceeded"
        assert bedrock.calls == []

    def test_the_request_timeout_setting_caps_the_deadline(self, bedrock: ScriptedRuntime) -> None:
        wiring.override(
            settings=settings.load({"EMBEDROCK_REQUEST_TIMEOUT": "0.5", "EMBEDROCK_DEADLINE_MARGIN": "0.1"})
        )
        bedrock.latency_seconds = 1.0
        response, elapsed = timed(lambda: post({"texts": ["x", "y"]}))
        assert response["statusCode"] == 504 and elapsed < 0.9

    def test_direct_invocation_has_a_deadline_too(self, bedrock: ScriptedRuntime) -> None:
        bedrock.latency_seconds = 1.0
        result, elapsed = timed(lambda: embeddings.handler({"texts": ["x"]}, Context(1300)))
        assert result["status"] == 504 and elapsed < 0.9

    def test_partial_answers_200_with_null_vectors_and_errors(self, bedrock: ScriptedRuntime) -> None:
        # Given Bedrock failing for one text of three
        bedrock.fail_on_text["two"] = client_error("ModelErrorException", 424, "bad input")

        # When partial results are asked for
        response = post({"texts": ["one", "two", "three"], "dimensions": 256, "partial": True})

        # Then the other two have vectors and the failed one is null, with its error
        assert response["statusCode"] == 200
        body = response_json(response)
        first, failed, third = body["embeddings"]
        assert failed is None and len(first) == len(third) == 256
        (error,) = body["errors"]
        assert error["index"] == 1 and error["status"] == 502
        assert error["error"]["type"] == "upstream_error" and error["error"]["message"]
        assert set(error["error"]) == {"type", "message", "param", "code"}

    def test_partial_with_base64_and_no_failure_has_empty_errors(self, bedrock: ScriptedRuntime) -> None:
        body = response_json(post({"texts": ["one", "two"], "encoding": "base64", "partial": True}))
        assert body["errors"] == [] and all(isinstance(vector, str) for vector in body["embeddings"])

    def test_without_partial_the_response_has_no_errors_field(self, bedrock: ScriptedRuntime) -> None:
        body = response_json(post({"texts": ["one"]}))
        assert "errors" not in body

    def test_partial_when_every_text_fails_is_the_plain_error(self, bedrock: ScriptedRuntime) -> None:
        bedrock.always = client_error("AccessDeniedException", 403)
        response = post({"texts": ["one", "two"], "partial": True})
        assert response["statusCode"] == 403
        assert "aws-marketplace:Subscribe" in response_json(response)["error"]["message"]

    def test_partial_must_be_a_boolean(self, bedrock: ScriptedRuntime) -> None:
        response = post({"texts": ["one"], "partial": "yes"})
        assert response["statusCode"] == 400
        assert response_json(response)["error"]["param"] == "partial"
