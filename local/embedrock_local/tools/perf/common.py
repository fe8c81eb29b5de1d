"""What the measures share: their sizes (full or quick), timing helpers and the result record."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE_V3 = "cohere.embed-english-v3"
DIMENSIONS = 1024


@dataclass(frozen=True)
class Sizes:
    fanout_texts: int
    latency_ms: float  # injected into every emulated Bedrock call
    cohere_texts: int
    handler_requests: int
    import_runs: int  # fresh interpreters per module; the median counts
    encoding_vectors: int
    load_requests: int
    load_concurrency: int
    load_sequential: int  # requests sent one at a time, for the unloaded baseline
    load_containers: int  # worker processes per function, like warm Lambda containers
    collection_vectors: int  # vectors in the emulated S3 Vectors index of collection_query
    upsert_vectors: int  # upserted into an emulated collection


FULL = Sizes(
    fanout_texts=256,
    latency_ms=50,
    cohere_texts=960,
    handler_requests=1_000,
    import_runs=7,
    encoding_vectors=256,
    load_requests=2_000,
    load_concurrency=32,
    load_sequential=200,
    load_containers=2,
    collection_vectors=100_000,
    upsert_vectors=10_000,
)
QUICK = Sizes(
    fanout_texts=32,
    latency_ms=5,
    cohere_texts=192,
    handler_requests=100,
    import_runs=1,
    encoding_vectors=32,
    load_requests=200,
    load_concurrency=8,
    load_sequential=40,
    load_containers=1,
    collection_vectors=2_000,
    upsert_vectors=1_000,
)


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: float


@dataclass(frozen=True)
class Result:
    """One measure: what is replaced (baseline) against the product, and the goal."""

    name: str
    baseline: Timing
    product: Timing
    ratio: float
    ratio_means: str  # how to read `ratio`, e.g. "times faster than the baseline"
    goal: str
    met: bool
    verdict: str  # the measured figures the goal is judged on, one line
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": {"label": self.baseline.label, "seconds": self.baseline.seconds},
            "product": {"label": self.product.label, "seconds": self.product.seconds},
            "ratio": self.ratio,
            "ratio_means": self.ratio_means,
            "goal": self.goal,
            "met": self.met,
            "verdict": self.verdict,
            "details": self.details,
        }


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    """Median of `repeat` timed calls: robust to the noise of a shared machine."""
    return statistics.median(timed(action) for _ in range(repeat))


def median_pair(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Medians of two actions timed in alternation, so a burst of load on the shared
    machine hits both rather than one.
    """
    first_times, second_times = [], []
    for _ in range(repeat):
        first_times.append(timed(first))
        second_times.append(timed(second))
    return statistics.median(first_times), statistics.median(second_times)


def sample_texts(count: int) -> list[str]:
    """Distinct, sentence-like texts (the emulator's cost depends on the words)."""
    return [f"Document {i}: embeddings turn text number {i} into a vector for search" for i in range(count)]


def seconds_text(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"
