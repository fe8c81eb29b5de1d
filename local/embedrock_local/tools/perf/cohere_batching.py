"""cohere_batching: Cohere v3 texts in calls of up to 96 (the product) against one call per
text, through the same embedder, concurrency cap and emulated latency: only batching differs.
"""

from __future__ import annotations

from dataclasses import replace

from embedrock import wiring
from embedrock.embed_spec import resolve_spec

from .common import COHERE_V3, Result, Sizes, Timing, median_seconds, sample_texts, timed
from .emulated import emulated_bedrock

REPEAT = 3  # batched runs (the one-per-text run is long enough to time once)


def describe(sizes: Sizes) -> str:
    return f"{sizes.cohere_texts} Cohere v3 texts, {sizes.latency_ms:g} ms per Bedrock call"


def measure(sizes: Sizes) -> Result:
    texts = sample_texts(sizes.cohere_texts)
    batched = resolve_spec(model_id=COHERE_V3)
    per_call = batched.model.max_texts_per_call
    one_per_call = replace(batched, model=replace(batched.model, max_texts_per_call=1))
    with emulated_bedrock(sizes.latency_ms) as emulator:
        embedder = wiring.embedder()
        cap = wiring.settings().max_concurrency
        embedder.embed(one_per_call, texts[:cap])  # untimed: open the pooled connections
        emulator.reset_stats()
        batched_seconds = median_seconds(lambda: embedder.embed(batched, texts), REPEAT)
        batched_calls = emulator.invoke_calls(COHERE_V3) // REPEAT
        emulator.reset_stats()
        single_seconds = timed(lambda: embedder.embed(one_per_call, texts))
        single_calls = emulator.invoke_calls(COHERE_V3)
    speedup = single_seconds / batched_seconds
    return Result(
        name="cohere_batching",
        baseline=Timing(f"1 text per call ({single_calls} calls)", single_seconds),
        product=Timing(f"{per_call} texts per call ({batched_calls} calls)", batched_seconds),
        ratio=speedup,
        ratio_means="times faster than one call per text",
        goal=">= 8x faster",
        met=speedup >= 8,
        verdict=f"{speedup:.1f}x; {single_calls} calls -> {batched_calls}",
        details={
            "texts": len(texts),
            "latency_ms": sizes.latency_ms,
            "max_concurrency": cap,
            "calls_one_per_text": single_calls,
            "calls_batched": batched_calls,
        },
    )
