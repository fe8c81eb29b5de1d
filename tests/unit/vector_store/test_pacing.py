"""The write pacer: whatever the writes and the time between them, no second of writes to one index
goes over S3 Vectors' per-index rates, and it waits no longer than it must."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedrock.vector_store import limits
from embedrock.vector_store.pacing import WINDOW_SECONDS, WritePacer
from tests.fakes import FakeClock

WRITES = st.lists(
    st.tuples(st.integers(1, limits.PUT_MAX), st.floats(0.0, 0.5)),  # (vectors, seconds before it)
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(writes=WRITES, requests_per_second=st.integers(1, 8))
def test_no_window_of_writes_goes_over_either_rate(
    writes: list[tuple[int, float]], requests_per_second: int
) -> None:
    clock = FakeClock()
    pacer = WritePacer(requests_per_second=requests_per_second, clock=clock, sleep=clock.sleep)
    done: list[tuple[float, int]] = []
    for vectors, pause in writes:
        clock.now += pause
        pacer.wait("docs", vectors)
        done.append((clock.now, vectors))
    for start, _ in done:
        window = [count for at, count in done if start <= at < start + WINDOW_SECONDS]
        assert sum(window) <= limits.WRITE_VECTORS_PER_SECOND
        assert len(window) <= requests_per_second


def test_it_waits_only_until_the_oldest_write_leaves_the_window() -> None:
    clock = FakeClock()
    pacer = WritePacer(vectors_per_second=1000, clock=clock, sleep=clock.sleep)
    pacer.wait("docs", 600)
    clock.now += 0.25
    pacer.wait("docs", 400)
    assert clock.slept == []
    pacer.wait("docs", 500)  # needs the first write (600) out of the window: 0.75 s from now
    assert clock.slept == [pytest.approx(0.75)]


def test_a_write_larger_than_the_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="never fit"):
        WritePacer(vectors_per_second=10).wait("docs", 11)


def test_waiting_out_the_window_at_awkward_times_always_ends() -> None:
    # Here t + (t + 1 - t) - 1 < t in floating point: checking the window's end one way and waiting
    # for it another would wait 0 s forever
    clock = FakeClock(now=1023.1989221761661)

    def sleep(seconds: float) -> None:
        if len(clock.slept) == 3:
            raise AssertionError(f"still waiting after {clock.slept}")
        clock.sleep(seconds)

    pacer = WritePacer(requests_per_second=1, clock=clock, sleep=sleep)
    pacer.wait("docs", 1)
    pacer.wait("docs", 1)
    assert clock.slept == [pytest.approx(1.0)]
