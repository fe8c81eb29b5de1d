"""fanout: Titan V2 texts through the product's BedrockEmbedder (concurrent, capped) against
the seed notebook's loop of invoke_model calls, one at a time, both against the emulator; the
embedder also at a cap of 64, interleaved with the default cap's runs.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

import boto3
import numpy as np

from embedrock import wiring
from embedrock.bedrock.embedder import EmbedResult
from embedrock.embed_spec import resolve_spec
from embedrock_local.tools.perf.common import (
    DIMENSIONS,
    TITAN_V2,
    Result,
    Sizes,
    Timing,
    median_pair,
    sample_texts,
    seconds_text,
    timed,
)
from embedrock_local.tools.perf.emulated import emulated_bedrock

REPEAT = 3  # concurrent runs at each cap (the seed loop is long enough to time once)
HIGH_CAP = 64  # where CPU per call, not Bedrock's latency, becomes the floor


def describe(sizes: Sizes) -> str:
    return f"{sizes.fanout_texts} Titan V2 texts, {sizes.latency_ms:g} ms per Bedrock call"


def seed_loop(client: Any, texts: list[str]) -> list[list[float]]:
    """The seed notebook's way: one invoke_model call after another."""
    vectors = []
    for text in texts:
        body = json.dumps({"inputText": text, "dimensions": DIMENSIONS, "normalize": True})
        response = client.invoke_model(
            body=body, modelId=TITAN_V2, accept="application/json", contentType="application/json"
        )
        vectors.append(json.loads(response["body"].read())["embedding"])
    return vectors


def measure(sizes: Sizes) -> Result:
    texts = sample_texts(sizes.fanout_texts)
    spec = resolve_spec(model_id=TITAN_V2, dimensions=DIMENSIONS)
    with emulated_bedrock(sizes.latency_ms) as emulator:
        embedder = wiring.embedder()
        cap = wiring.settings().max_concurrency
        # The same product at the high cap: its own client, whose pool is sized by the cap.
        high_settings = wiring.settings().model_copy(update={"max_concurrency": HIGH_CAP})
        high = wiring.build_embedder(wiring.build_runtime_client(high_settings), high_settings)
        seed_client = boto3.client("bedrock-runtime")
        # Untimed warm-up: clients built, connections open (one per concurrent call).
        embedder.embed(spec, texts[:cap])
        high.embed(spec, texts[:HIGH_CAP])
        seed_loop(seed_client, texts[:1])
        emulator.reset_stats()
        results: list[EmbedResult] = []
        high_results: list[EmbedResult] = []
        cpu_before = time.process_time()  # this process only: the emulator runs in its own
        # Interleaved: a burst of load on the shared machine hits both caps alike.
        concurrent, high_seconds = median_pair(
            lambda: results.append(embedder.embed(spec, texts)),
            lambda: high_results.append(high.embed(spec, texts)),
            REPEAT,
        )
        cpu_ms_per_call = (time.process_time() - cpu_before) * 1000 / (2 * REPEAT * len(texts))
        peak_in_flight = emulator.stats()["max_in_flight"]
        loop_vectors: list[list[float]] = []
        one_by_one = timed(lambda: loop_vectors.extend(seed_loop(seed_client, texts)))
    # Both did the same work, in the same order (the emulator is deterministic).
    np.testing.assert_allclose(results[-1].vectors, loop_vectors, rtol=1e-6)
    np.testing.assert_allclose(high_results[-1].vectors, loop_vectors, rtol=1e-6)
    ideal = _ideal(len(texts), cap, sizes.latency_ms)
    high_ideal = _ideal(len(texts), HIGH_CAP, sizes.latency_ms)
    speedup, efficiency = one_by_one / concurrent, ideal / concurrent
    high_efficiency = high_ideal / high_seconds
    return Result(
        name="fanout",
        baseline=Timing("seed loop, one call at a time", one_by_one),
        product=Timing(f"BedrockEmbedder, cap {cap}", concurrent),
        ratio=speedup,
        ratio_means="times faster than the seed loop",
        goal=f">= 10x faster and >= 90% of ideal at cap {cap}; cap {HIGH_CAP} reported",
        met=speedup >= 10 and efficiency >= 0.9,
        verdict=f"{speedup:.1f}x; {efficiency:.0%} of ideal {ideal:.2f} s; cap {HIGH_CAP}: "
        f"{seconds_text(high_seconds)}, {high_efficiency:.0%} of ideal {high_ideal:.2f} s; peak "
        f"{peak_in_flight} in flight; {cpu_ms_per_call:.1f} ms CPU per call in the caller",
        details={
            "texts": len(texts),
            "latency_ms": sizes.latency_ms,
            "max_concurrency": cap,
            "ideal_seconds": ideal,
            "efficiency": efficiency,
            "high_cap": {
                "max_concurrency": HIGH_CAP,
                "seconds": high_seconds,
                "ideal_seconds": high_ideal,
                "efficiency": high_efficiency,
            },
            "peak_in_flight": peak_in_flight,
            "caller_cpu_ms_per_call": cpu_ms_per_call,
            "load_average": list(os.getloadavg()),
        },
    )


def _ideal(texts: int, cap: int, latency_ms: float) -> float:
    """Rounds of `cap` calls at the injected latency: the floor for this many texts."""
    return math.ceil(texts / cap) * latency_ms / 1000
