"""tail: one request's Titan fan-out when a few Bedrock calls are very slow (a heavy tail),
through the product's BedrockEmbedder with hedging off (the default) and on, side by side.

The emulator delays a seeded 1 % of calls by 40x the usual latency (2 s at 50 ms). Without
hedging nearly every request of 256 calls waits for one of those; with hedging the slow call's
twin answers instead. Requests alternate between the two embedders, so load on the shared
machine hits both, and both draw their slow calls from the same seeded sequence.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable

from embedrock import settings, wiring
from embedrock.bedrock.embedder import Embedder
from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock_local.runtime.emulator.faults import Fault, FaultKind
from embedrock_local.tools.perf.common import (
    DIMENSIONS,
    QUICK,
    TITAN_V2,
    Result,
    Sizes,
    Timing,
    sample_texts,
    seconds_text,
    timed,
)
from embedrock_local.tools.perf.emulated import emulated_bedrock

TAIL_FRACTION = 0.01  # share of calls that are slow
TAIL_FACTOR = 40  # how much slower: 2 s at 50 ms per call
TAIL_SEED = 15
# Hedging as the product is configured for it: a call slower than the 98th percentile of recent
# latencies gets a twin, at most 5 % extra calls. Below the 99th, or the 1 % tail itself would be
# the percentile.
HEDGE_ENVIRONMENT = {
    settings.variable(settings.Settings, "hedge_percentile"): "98",
    settings.variable(settings.Settings, "hedge_budget_percent"): "5",
}
GOAL_P99_OVER_IDEAL = 1.5
GOAL_EXTRA_CALLS = 0.05


def requests_per_mode(sizes: Sizes) -> int:
    return 2 if sizes == QUICK else 20


def describe(sizes: Sizes) -> str:
    return (
        f"{requests_per_mode(sizes)} requests of {sizes.fanout_texts} Titan V2 texts per mode, "
        f"{sizes.latency_ms:g} ms per call, {TAIL_FRACTION:.0%} of calls {sizes.latency_ms * TAIL_FACTOR:g} ms"
    )


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: an observed value (with 20 requests the p99 is the slowest)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def measure(sizes: Sizes) -> Result:
    texts = sample_texts(sizes.fanout_texts)
    spec = resolve_spec(model_id=TITAN_V2, dimensions=DIMENSIONS)
    tail = Fault(
        FaultKind.LATENCY,
        latency_ms=sizes.latency_ms * TAIL_FACTOR,
        fraction=TAIL_FRACTION,
        seed=TAIL_SEED,
    )
    repeat = requests_per_mode(sizes)
    with emulated_bedrock(sizes.latency_ms, faults=(tail,)) as emulator:
        plain = wiring.embedder()
        hedged_config = settings.load({**os.environ, **HEDGE_ENVIRONMENT})
        hedged = wiring.build_embedder(wiring.build_runtime_client(hedged_config), hedged_config)
        cap = wiring.settings().max_concurrency
        # Untimed warm-up: connections open, and the hedging policy has latencies to learn from.
        plain.embed(spec, texts)
        hedged.embed(spec, texts)
        emulator.reset_stats()
        plain_times: list[float] = []
        hedged_times: list[float] = []
        hedges: list[int] = []
        for _ in range(repeat):
            plain_times.append(timed(_request(plain, spec, texts, [])))
            hedged_times.append(timed(_request(hedged, spec, texts, hedges)))
        calls_seen = emulator.invoke_calls(TITAN_V2)
        policy = hedged.hedging
        stats = None if policy is None else policy.stats()  # both modes, losers that finished included
    ideal = math.ceil(len(texts) / cap) * sizes.latency_ms / 1000
    plain_p99, hedged_p99 = percentile(plain_times, 0.99), percentile(hedged_times, 0.99)
    extra = sum(hedges) / (repeat * len(texts))
    over_ideal = hedged_p99 / ideal
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return Result(
        name="tail",
        baseline=Timing(f"no hedging, p99 of {repeat}", plain_p99),
        product=Timing(f"hedged at p98, p99 of {repeat}", hedged_p99),
        ratio=over_ideal,
        ratio_means="hedged request p99 over the no-tail ideal (lower is better)",
        goal=f"p99 <= {GOAL_P99_OVER_IDEAL:g}x no-tail ideal, <= {GOAL_EXTRA_CALLS:.0%} extra calls",
        met=over_ideal <= GOAL_P99_OVER_IDEAL and extra <= GOAL_EXTRA_CALLS,
        verdict=f"p99 {seconds_text(hedged_p99)} hedged vs {seconds_text(plain_p99)} without "
        f"({over_ideal:.2f}x the ideal {seconds_text(ideal)}); p50 {seconds_text(statistics.median(hedged_times))} "
        f"vs {seconds_text(statistics.median(plain_times))}; {extra:.1%} extra calls; load average {load}",
        details={
            "texts": len(texts),
            "requests_per_mode": repeat,
            "latency_ms": sizes.latency_ms,
            "tail_latency_ms": tail.latency_ms,
            "tail_fraction": TAIL_FRACTION,
            "tail_seed": TAIL_SEED,
            "max_concurrency": cap,
            "hedge_settings": HEDGE_ENVIRONMENT,
            "no_tail_ideal_seconds": ideal,
            "plain": _summary(plain_times),
            "hedged": _summary(hedged_times),
            "plain_request_seconds": plain_times,
            "hedged_request_seconds": hedged_times,
            "hedged_calls_per_request": hedges,
            "hedged_calls": sum(hedges),
            "extra_calls": extra,
            "emulator_invoke_calls": calls_seen,
            "hedges_refused_by_budget": None if stats is None else stats.refused_budget,
            "hedges_refused_by_deadline": None if stats is None else stats.refused_deadline,
            "hedge_delay_seconds_at_end": None if policy is None else policy.delay(),
            "load_average": load,
        },
    )


def _request(embedder: Embedder, spec: EmbedSpec, texts: list[str], hedges: list[int]) -> Callable[[], None]:
    def send() -> None:
        hedges.append(embedder.embed(spec, texts).hedged_calls)

    return send


def _summary(times: list[float]) -> dict[str, float]:
    return {"p50_seconds": statistics.median(times), "p99_seconds": percentile(times, 0.99)}
