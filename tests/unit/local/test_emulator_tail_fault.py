"""The heavy-tail latency fault: a seeded share of the calls is slow, the same ones on every run."""

from __future__ import annotations

import pytest

from embedrock_local.runtime.emulator.faults import Fault, FaultKind, FaultSet


def delays(seed: int, calls: int = 2_000) -> list[float]:
    faults = FaultSet([Fault(FaultKind.LATENCY, latency_ms=2_000, fraction=0.01, seed=seed)])
    return [faults.check("InvokeModel", "amazon.titan-embed-text-v2:0").delay for _ in range(calls)]


def test_about_the_fraction_of_calls_is_slow_and_the_rest_are_not_delayed() -> None:
    slow = [delay for delay in delays(seed=7) if delay]
    assert 5 <= len(slow) <= 40  # 1 % of 2,000 is 20
    assert all(delay == pytest.approx(2.0) for delay in slow)


def test_the_same_seed_draws_the_same_slow_calls_and_another_seed_others() -> None:
    assert delays(seed=7) == delays(seed=7)
    assert delays(seed=7) != delays(seed=8)


def test_the_cli_form_reads_fraction_and_seed() -> None:
    fault = Fault.parse("latency:latency_ms=2000,fraction=0.01,seed=7")
    assert (fault.fraction, fault.seed) == (pytest.approx(0.01), 7)


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5])
def test_a_fraction_outside_zero_to_one_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        Fault(FaultKind.LATENCY, latency_ms=10, fraction=fraction)


def test_a_fraction_is_refused_on_a_rate_limit() -> None:
    with pytest.raises(ValueError, match="fraction"):
        Fault(FaultKind.RATE_LIMIT, rps=5, fraction=0.5)
