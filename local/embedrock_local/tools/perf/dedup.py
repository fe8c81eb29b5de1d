"""dedup: identical inputs of one request embedded once. Bedrock calls, billed tokens and cost of
the product's embedder against embedding each input as sent (one client-layer call per input, the
same concurrency cap: what a request cost before), both against the emulator in one run; then the
same through the embeddings cache (lookups, calls and items written).

Two requests: 50 copies of one text, and a realistic mix where 30 % of the inputs repeat earlier
ones. The cache is an in-memory table speaking DynamoDB's BatchGetItem/BatchWriteItem shapes (no
DynamoDB runs here), counting what is written to it.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedrock import wiring
from embedrock.bedrock.embedder import EmbedResult
from embedrock.cache import CachedEmbedder, EmbeddingCache
from embedrock.cache_table import KEY
from embedrock.catalog import CatalogModel
from embedrock.embed_input import Item
from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock.pricing import cost_usd
from embedrock_local.tools.perf.common import DIMENSIONS, TITAN_V2, Result, Sizes, Timing, sample_texts, timed
from embedrock_local.tools.perf.emulated import RemoteEmulator, emulated_bedrock

REPEAT = 3  # interleaved baseline/product runs per request; the medians count
COPIES = 50
REPEATING = 0.3  # share of the mix's inputs that repeat an earlier one
TABLE = "embedrock-perf-cache"


def describe(sizes: Sizes) -> str:
    return (
        f"{COPIES} copies of a text, and {sizes.fanout_texts} Titan V2 texts of which "
        f"{REPEATING:.0%} repeat, {sizes.latency_ms:g} ms per Bedrock call, with and without the cache"
    )


def mixed_texts(count: int) -> list[str]:
    """`count` inputs, REPEATING of them copies of earlier ones, in a shuffled (seeded) order."""
    repeats = round(count * REPEATING)
    pool = sample_texts(count - repeats)
    chooser = random.Random(15)
    texts = pool + [chooser.choice(pool) for _ in range(repeats)]
    chooser.shuffle(texts)
    return texts


class InMemoryTable:
    """The two DynamoDB calls the cache makes, on a dict; counts the items each write puts."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.items_written = 0
        self.write_calls = 0

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        keys = kwargs["RequestItems"][TABLE]["Keys"]
        with self._lock:
            found = [self._items[key[KEY]["S"]] for key in keys if key[KEY]["S"] in self._items]
        return {"Responses": {TABLE: found}}

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        requests = kwargs["RequestItems"][TABLE]
        with self._lock:
            self.write_calls += 1
            self.items_written += len(requests)
            for request in requests:
                item = request["PutRequest"]["Item"]
                self._items[item[KEY]["S"]] = item
        return {}


@dataclass(frozen=True)
class Run:
    seconds: float
    calls: int  # InvokeModel calls the emulator answered
    tokens: int
    items_written: int = 0
    write_calls: int = 0


def each_as_sent(embed_one: Callable[[Item], EmbedResult], texts: Sequence[Item], cap: int) -> EmbedResult:
    """One client-layer call per input as sent, `cap` at a time, as a request was embedded before."""
    with ThreadPoolExecutor(cap) as pool:
        results = list(pool.map(embed_one, texts))
    return EmbedResult(
        vectors=np.concatenate([result.vectors for result in results]),
        input_tokens=sum(result.input_tokens for result in results),
        bedrock_calls=sum(result.bedrock_calls for result in results),
    )


def _cached_as_sent(
    embed_one: Callable[[Item], EmbedResult],
    cache: EmbeddingCache,
    spec: EmbedSpec,
    texts: Sequence[Item],
    cap: int,
) -> EmbedResult:
    """The cache as a loop over the inputs as sent: looked up, each miss embedded and written alone."""
    hits = cache.lookup(spec, texts)
    misses = [texts[index] for index in range(len(texts)) if index not in hits]
    result = each_as_sent(embed_one, misses, cap)
    for item, vector in zip(misses, result.vectors, strict=True):
        cache.store(spec, [item], vector[np.newaxis])
    return result


def _run(emulator: RemoteEmulator, action: Callable[[InMemoryTable], EmbedResult]) -> Run:
    table = InMemoryTable()  # each run starts from an empty cache
    emulator.reset_stats()
    results: list[EmbedResult] = []
    seconds = timed(lambda: results.append(action(table)))
    return Run(
        seconds=seconds,
        calls=emulator.invoke_calls(TITAN_V2),
        tokens=results[0].input_tokens,
        items_written=table.items_written,
        write_calls=table.write_calls,
    )


Action = Callable[[InMemoryTable], EmbedResult]


def _pair(emulator: RemoteEmulator, baseline: Action, product: Action) -> tuple[list[Run], list[Run]]:
    """REPEAT runs of each, interleaved, so a burst of load on the shared machine hits both."""
    baseline_runs, product_runs = [], []
    for _ in range(REPEAT):
        baseline_runs.append(_run(emulator, baseline))
        product_runs.append(_run(emulator, product))
    return baseline_runs, product_runs


def _figures(runs: list[Run], model: CatalogModel) -> dict[str, Any]:
    last = runs[-1]
    return {
        "seconds": statistics.median(run.seconds for run in runs),
        "bedrock_calls": last.calls,
        "calls_same_every_run": len({run.calls for run in runs}) == 1,
        "input_tokens": last.tokens,
        "cost_usd": cost_usd(model, last.tokens),
        "cache_items_written": last.items_written,
        "cache_write_calls": last.write_calls,
    }


def measure(sizes: Sizes) -> Result:
    spec = resolve_spec(model_id=TITAN_V2, dimensions=DIMENSIONS)
    copies = [sample_texts(1)[0]] * COPIES
    mix = mixed_texts(sizes.fanout_texts)
    requests = {"copies": copies, "mix": mix}
    figures: dict[str, dict[str, Any]] = {}
    with emulated_bedrock(sizes.latency_ms) as emulator:
        embedder = wiring.embedder()
        cap = wiring.settings().max_concurrency

        def embed_one(item: Item) -> EmbedResult:
            return embedder.embed(spec, [item])

        def case(texts: list[str]) -> dict[str, Any]:
            def cache(table: InMemoryTable) -> EmbeddingCache:
                return EmbeddingCache(table, TABLE, ttl_days=1)

            plain = _pair(
                emulator,
                lambda _: each_as_sent(embed_one, texts, cap),
                lambda _: embedder.embed(spec, texts),
            )
            cached = _pair(
                emulator,
                lambda table: _cached_as_sent(embed_one, cache(table), spec, texts, cap),
                lambda table: CachedEmbedder(embedder, cache(table)).embed(spec, texts),
            )
            return {
                "inputs": len(texts),
                "distinct": len(set(texts)),
                "baseline": _figures(plain[0], spec.model),
                "product": _figures(plain[1], spec.model),
                "cache_baseline": _figures(cached[0], spec.model),
                "cache_product": _figures(cached[1], spec.model),
            }

        embed_one(mix[0])  # untimed: the client built, a connection open
        figures = {name: case(texts) for name, texts in requests.items()}
    return _result(figures, sizes, cap)


def _result(figures: dict[str, dict[str, Any]], sizes: Sizes, cap: int) -> Result:
    copies, mix = figures["copies"], figures["mix"]
    # Goal: one call, one token bill and one cache write per distinct input, with and without the cache.
    met = all(
        case[side]["bedrock_calls"] == case["distinct"]
        and case[side]["calls_same_every_run"]
        and (side != "cache_product" or case[side]["cache_items_written"] == case["distinct"])
        for case in (copies, mix)
        for side in ("product", "cache_product")
    )
    ratio = copies["baseline"]["bedrock_calls"] / max(1, copies["product"]["bedrock_calls"])
    saved = 1 - mix["product"]["cost_usd"] / mix["baseline"]["cost_usd"]
    verdict = (
        f"{COPIES} copies: {copies['baseline']['bedrock_calls']} calls -> {copies['product']['bedrock_calls']}, "
        f"${copies['baseline']['cost_usd']:.2e} -> ${copies['product']['cost_usd']:.2e}; "
        f"mix of {mix['inputs']} ({mix['distinct']} distinct): {mix['baseline']['bedrock_calls']} calls -> "
        f"{mix['product']['bedrock_calls']}, cost -{saved:.0%}; cached: "
        f"{copies['cache_baseline']['cache_items_written']}/{mix['cache_baseline']['cache_items_written']} items "
        f"written -> {copies['cache_product']['cache_items_written']}/{mix['cache_product']['cache_items_written']}"
    )
    return Result(
        name="dedup",
        baseline=Timing(f"each input as sent ({COPIES} copies)", copies["baseline"]["seconds"]),
        product=Timing(f"distinct inputs once ({COPIES} copies)", copies["product"]["seconds"]),
        ratio=ratio,
        ratio_means=f"times fewer Bedrock calls for {COPIES} copies of a text",
        goal="1 call, 1 token bill, 1 cache write per distinct input",
        met=met,
        verdict=verdict,
        details={
            "latency_ms": sizes.latency_ms,
            "max_concurrency": cap,
            "repeat": REPEAT,
            "load_average": list(os.getloadavg()),
            "cache": "in-memory table in this process, DynamoDB's BatchGetItem/BatchWriteItem shapes",
            **figures,
        },
    )
