"""Hedged attempts: the policy's percentile, threshold, budget, deadline and per-call schedule on a
fake clock, and the embedder's first-answer-wins over a runtime whose first calls stall until the
test lets them go.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from embedrock import deadline, errors, settings, wiring
from embedrock.bedrock.embedder import BedrockEmbedder, EmbedResult
from embedrock.bedrock.hedging import MAX_BALANCE, MIN_SAMPLES, REFRESH_EVERY, HedgePolicy
from embedrock.embed_spec import resolve_spec
from tests.fakes import FakeBedrockRuntime

TITAN = resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=256)


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def learned(policy: HedgePolicy, latencies: list[float]) -> HedgePolicy:
    for seconds in latencies:
        policy.record(seconds)
    return policy


def test_hedging_is_off_by_default() -> None:
    defaults = settings.load({})
    assert (defaults.hedge_percentile, defaults.hedge_after_ms) == (None, None)
    assert wiring.hedge_policy(defaults) is None


def test_the_settings_build_the_policy_they_name() -> None:
    config = settings.load({"EMBEDROCK_HEDGE_AFTER_MS": "250", "EMBEDROCK_HEDGE_BUDGET_PERCENT": "2"})
    policy = wiring.hedge_policy(config)
    assert policy is not None
    assert policy.delay() == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EMBEDROCK_HEDGE_PERCENTILE", "100"),
        ("EMBEDROCK_HEDGE_AFTER_MS", "0"),
        ("EMBEDROCK_HEDGE_BUDGET_PERCENT", "0"),
    ],
)
def test_out_of_range_hedge_settings_fail_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(settings.SettingsError, match=variable):
        settings.load({variable: value})


def test_the_delay_is_the_percentile_of_recent_latencies_once_there_are_enough() -> None:
    policy = HedgePolicy(percentile=95)
    learned(policy, [0.05] * (MIN_SAMPLES - 1))
    assert policy.delay() is None  # too few to say what slow is
    # 1..116 ms: the percentile is refreshed at the 20th latency and every 32 after, so at the 116th
    count = MIN_SAMPLES + 3 * REFRESH_EVERY
    policy = learned(HedgePolicy(percentile=95), [i / 1000 for i in range(1, count + 1)])
    assert policy.delay() == pytest.approx(math.ceil(0.95 * count) / 1000)


def test_a_fixed_threshold_applies_before_the_window_fills_and_floors_the_percentile() -> None:
    policy = HedgePolicy(percentile=95, after_seconds=0.2)
    assert policy.delay() == pytest.approx(0.2)
    learned(policy, [0.01] * 100)
    assert policy.delay() == pytest.approx(0.2)  # the percentile (10 ms) is below the floor


def test_the_budget_allows_its_share_of_hedges_and_no_more() -> None:
    policy = HedgePolicy(after_seconds=0.1, budget=0.05)
    allowed = 0
    for _ in range(200):
        policy.started()
        allowed += policy.try_hedge(None)
    assert allowed == 10  # 5 % of 200
    assert policy.stats().hedges == 10
    assert policy.stats().first_attempts == 200


def test_the_budget_cannot_save_up_more_than_a_small_burst() -> None:
    policy = HedgePolicy(after_seconds=0.1, budget=1.0)
    for _ in range(100):
        policy.started()
    hedges = sum(policy.try_hedge(None) for _ in range(100))
    assert hedges == int(MAX_BALANCE)


def test_no_hedge_when_a_typical_call_would_end_past_the_deadline() -> None:
    clock = Clock()
    policy = learned(HedgePolicy(percentile=90, budget=1.0, clock=clock), [0.5] * MIN_SAMPLES)
    policy.started()
    assert not policy.try_hedge(clock.now + 0.4)  # a typical call takes 0.5 s
    assert policy.try_hedge(clock.now + 0.6)


def earned(policy: HedgePolicy, hedges: int, budget: float) -> HedgePolicy:
    """First attempts enough for the budget to hold `hedges` (besides the call under test's share)."""
    for _ in range(math.ceil(hedges / budget) - round(1 / budget)):
        policy.started()
    return policy


def test_a_slow_twin_is_hedged_again_one_delay_after_it_was_sent() -> None:
    clock = Clock()
    policy = earned(HedgePolicy(after_seconds=0.1, budget=1.0, clock=clock), 2, budget=1.0)
    schedule = policy.begin()
    assert schedule.due() == pytest.approx(100.1)  # the first hedge: one delay from the call's start
    clock.now = 100.15  # the caller woke late
    assert schedule.hedge(None)
    assert schedule.due() == pytest.approx(100.25)  # the twin gets a whole delay of its own
    clock.now = 100.25
    assert schedule.hedge(None)  # the twin was slow too: a third attempt
    assert policy.stats().hedges == 2


def test_a_call_sends_at_most_max_hedges() -> None:
    clock = Clock()
    policy = earned(HedgePolicy(after_seconds=0.1, budget=1.0, max_hedges=2, clock=clock), 10, budget=1.0)
    schedule = policy.begin()
    for _ in range(2):
        clock.now += 0.1
        assert schedule.hedge(None)
    clock.now += 0.1
    assert schedule.due() is None
    assert not schedule.hedge(None)
    assert (schedule.hedges, policy.stats().hedges) == (2, 2)
    assert HedgePolicy(after_seconds=0.1, max_hedges=1).begin().hedges == 0
    with pytest.raises(ValueError, match="max_hedges"):
        HedgePolicy(after_seconds=0.1, max_hedges=0)


def test_each_hedge_of_a_call_spends_the_same_budget() -> None:
    clock = Clock()
    policy = HedgePolicy(after_seconds=0.1, budget=0.05, clock=clock)
    for _ in range(39):  # with the call below, 40 first attempts: 2 hedges at 5 %
        policy.started()
    schedule = policy.begin()
    sent = 0
    for _ in range(policy.max_hedges):
        clock.now += 0.1
        sent += schedule.hedge(None)
    assert sent == 2
    other = policy.begin()  # the balance is spent: the next slow call is not hedged
    clock.now += 0.1
    assert not other.hedge(None)
    stats = policy.stats()
    assert (stats.first_attempts, stats.hedges, stats.refused_budget) == (41, 2, 1)


def test_a_second_hedge_is_refused_when_a_typical_call_would_end_past_the_deadline() -> None:
    clock = Clock()
    policy = learned(HedgePolicy(percentile=90, budget=1.0, clock=clock), [0.5] * MIN_SAMPLES)
    earned(policy, 2, budget=1.0)
    schedule = policy.begin()
    deadline = clock.now + 1.2
    clock.now += 0.5
    assert schedule.hedge(deadline)  # 0.5 s left after a typical call
    clock.now += 0.5
    assert not schedule.hedge(deadline)  # a typical call would end 0.3 s past it
    assert schedule.hedges == 1
    assert policy.stats().refused_deadline == 1


@dataclass
class StallingRuntime(FakeBedrockRuntime):
    """The first `stalls` calls wait until `release` is set; later calls answer at once."""

    release: threading.Event = field(default_factory=threading.Event)
    stall_every_call: bool = False
    stalls: int = 1
    finished: threading.Event = field(default_factory=threading.Event)
    _count: int = 0

    @property
    def sent(self) -> int:
        """Calls received, stalled ones included (`calls` holds those that finished)."""
        with self._lock:
            return self._count

    def invoke_model(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            self._count += 1
            stall = self.stall_every_call or self._count <= self.stalls
        if stall:
            assert self.release.wait(10), "the test never released the stalled call"
        try:
            return super().invoke_model(**request)
        finally:
            if stall:
                self.finished.set()


def embed_stalled(runtime: StallingRuntime, policy: HedgePolicy) -> tuple[EmbedResult, EmbedResult]:
    """One text through `runtime` hedged by `policy` (its stalls released after), and what an
    unhedged embedder returns for it; the hedged answer must be the same vector."""
    embedder = BedrockEmbedder(runtime, max_concurrency=2, hedging=policy)
    try:
        result = embedder.embed(TITAN, ["a stalled text"])
    finally:
        runtime.release.set()
    expected = BedrockEmbedder(FakeBedrockRuntime(), max_concurrency=2).embed(TITAN, ["a stalled text"])
    np.testing.assert_allclose(result.vectors, expected.vectors, rtol=1e-6)
    return result, expected


def test_a_stalled_call_is_hedged_the_first_answer_wins_and_both_calls_are_billed() -> None:
    runtime = StallingRuntime()
    result, expected = embed_stalled(runtime, HedgePolicy(after_seconds=0.001, budget=1.0))
    assert (result.hedged_calls, result.bedrock_calls) == (1, 2)
    # The loser was still in flight: Bedrock will finish and bill it, so its tokens count too.
    assert result.input_tokens == 2 * expected.input_tokens
    assert runtime.finished.wait(10)  # the abandoned attempt ends on its own, harmlessly
    assert len(runtime.calls) == 2


def test_a_stalled_twin_is_hedged_again_and_every_attempt_in_flight_is_billed() -> None:
    runtime = StallingRuntime(stalls=2)
    policy = earned(HedgePolicy(after_seconds=0.001, budget=1.0), 2, budget=1.0)
    result, expected = embed_stalled(runtime, policy)
    assert (result.hedged_calls, result.bedrock_calls) == (2, 3)
    assert result.input_tokens == 3 * expected.input_tokens


def test_a_call_whose_every_attempt_stalls_sends_no_more_than_the_bound() -> None:
    runtime = StallingRuntime(stall_every_call=True)
    policy = earned(HedgePolicy(after_seconds=0.001, budget=1.0, max_hedges=2), 10, budget=1.0)
    embedder = BedrockEmbedder(runtime, max_concurrency=2, hedging=policy)
    # Released long after a hedge every millisecond would have sent many more than the bound.
    timer = threading.Timer(0.2, runtime.release.set)
    timer.start()
    result = embedder.embed(TITAN, ["a stalled text"])
    timer.join()
    assert (result.hedged_calls, result.bedrock_calls) == (2, 3)
    assert runtime.sent == 3


def test_without_budget_the_slow_call_is_waited_for_and_not_hedged() -> None:
    runtime = StallingRuntime()
    embedder = BedrockEmbedder(
        runtime, max_concurrency=2, hedging=HedgePolicy(after_seconds=0.001, budget=0.5)
    )
    timer = threading.Timer(0.05, runtime.release.set)
    timer.start()
    result = embedder.embed(TITAN, ["a stalled text"])
    timer.join()
    assert (result.hedged_calls, result.bedrock_calls) == (0, 1)
    assert len(runtime.calls) == 1


def test_hedged_attempts_never_outlive_the_request_deadline() -> None:
    runtime = StallingRuntime(stall_every_call=True)
    embedder = BedrockEmbedder(
        runtime, max_concurrency=2, hedging=HedgePolicy(after_seconds=0.001, budget=1.0)
    )
    try:
        with deadline.running(0.05), pytest.raises(errors.UpstreamTimeout):
            embedder.embed(TITAN, ["a stalled text"])
    finally:
        runtime.release.set()


def test_without_hedging_each_text_is_one_call() -> None:
    runtime = FakeBedrockRuntime()
    result = BedrockEmbedder(runtime, max_concurrency=4).embed(TITAN, ["one", "two", "three"])
    assert (result.hedged_calls, result.bedrock_calls, len(runtime.calls)) == (0, 3, 3)
