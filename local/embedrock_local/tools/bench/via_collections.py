"""`--via collections`: a retrieval set's corpus upserted through the collections API into a
collection per (data set, model, dimensions), its queries searched through the API in each search
mode, and the ids it returns scored by the same code as the in-memory ranking (runner.retrieval_scores).

Collections store float32 vectors (S3 Vectors' only data type), so only float variants go this way.
The documents are sent as text: the service embeds them (search_document) and the queries
(search_query) itself, as a user's would be; the bench's own vectors are never sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedrock.vector_store import limits

from . import metrics
from .collections_api import CollectionsApi
from .datasets import RetrievalDataset
from .runner import Progress, retrieval_scores

if TYPE_CHECKING:
    from embedrock_local.runtime.emulator.engines import Engine

SEARCH_MODES = ("vector", "text", "hybrid")
# Each search asks for more than the 10 scored: hybrid fuses each ranking's top K (reciprocal rank
# fusion), so a deeper list lets a document ranked well by one side and fairly by the other rise.
SEARCH_TOP_K = 100
TEXT_LANGUAGE = "en"  # the bench's named retrieval set (SciFact) is English
_NAME_PREFIX = "bench-"
_EMULATOR_READ_TIMEOUT_SECONDS = 600
# Past API Gateway's 29 s the local gateway answers 504 itself: the client never waits longer.
_CLIENT_TIMEOUT_SECONDS = 60


@dataclass
class CollectionRun:
    """What filling one collection and searching it in each mode measured."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> nDCG@10, recall@10
    search_ms: dict[str, list[float]] = field(default_factory=dict)  # mode -> latency per search
    upserted: int = 0
    put_calls: int = 0
    upsert_requests: int = 0
    upsert_seconds: float = 0.0
    input_tokens: int = 0
    bedrock_calls: int = 0
    cost_usd: float = 0.0


def collection_name(dataset: str, model_id: str, dimensions: int) -> str:
    """An S3 Vectors index name (lowercase letters, digits, '-', '.'; 3 to 63 characters) that
    says what the collection holds; a long one keeps a hash of the whole so names stay distinct."""
    readable = re.sub(r"[^a-z0-9.-]+", "-", f"{_NAME_PREFIX}{dataset}-{model_id}-{dimensions}".lower())
    readable = readable.strip("-.")
    if len(readable) <= limits.NAME_MAX:
        return readable
    digest = hashlib.sha256(readable.encode()).hexdigest()[:10]
    return f"{readable[: limits.NAME_MAX - len(digest) - 1].rstrip('-.')}-{digest}"


def run(
    api: CollectionsApi,
    dataset: RetrievalDataset,
    *,
    model_id: str,
    dimensions: int,
    modes: Sequence[str],
    batch_size: int,
    progress: Progress,
) -> CollectionRun:
    """Fill a fresh collection with the corpus, search it in each mode, delete it."""
    name = collection_name(dataset.name, model_id, dimensions)
    measured = CollectionRun()
    label = f"{dataset.name} {model_id} {dimensions} via collections"
    api.create(name, model_id, dimensions, text_language=TEXT_LANGUAGE)
    try:
        documents = [{"id": doc_id, "text": text} for doc_id, text in dataset.corpus.items()]
        advance = progress(f"{label} (upsert)", len(documents))
        step = max(1, min(batch_size, limits.PUT_MAX))
        started = time.perf_counter()
        for start in range(0, len(documents), step):
            answer = api.upsert(name, documents[start : start + step])
            measured.upserted += int(answer["upserted"])
            measured.put_calls += int(answer["calls"])
            measured.upsert_requests += 1
            usage = answer["usage"]
            measured.input_tokens += int(usage["input_tokens"])
            measured.bedrock_calls += int(usage["requests"])
            measured.cost_usd += float(usage["cost_usd"])
            advance(len(documents[start : start + step]))
        measured.upsert_seconds = time.perf_counter() - started
        top_k = min(SEARCH_TOP_K, len(documents))
        for mode in modes:
            advance = progress(f"{label} (search, {mode})", len(dataset.queries))
            api.latencies_ms.clear()
            rankings = {}
            for query_id, text in dataset.queries.items():
                rankings[query_id] = api.search(name, text, mode=mode, top_k=top_k)
                advance(1)
            measured.scores[mode] = retrieval_scores(dataset, rankings)
            measured.search_ms[mode] = list(api.latencies_ms)
    finally:
        api.delete(name)
    return measured


def rows(in_memory: dict[str, Any], measured: CollectionRun) -> list[dict[str, Any]]:
    """One row per search mode, beside the in-memory row of the same variant: its scores, the
    search latencies, and what filling the collection cost (the service's own usage figures)."""
    found = []
    for mode, scores in measured.scores.items():
        latency = metrics.latency_summary(measured.search_ms[mode], len(measured.search_ms[mode]))
        row = dict(in_memory)
        row |= {
            "variant": f"collections {mode}",
            "via": "collections",
            "search_mode": mode,
            "score": next(iter(scores.values())),
            "metrics": scores,
            # vs the in-memory ranking of the same vectors: the exactness proof for vector mode
            "difference_from_in_memory": next(iter(scores.values())) - in_memory["score"],
            "latency_p50_ms": latency["p50"],
            "latency_p95_ms": latency["p95"],
            "latency_p99_ms": latency["p99"],
            "throughput_texts_per_s": latency["throughput"],  # queries searched per second
            "requests": measured.upsert_requests + len(measured.search_ms[mode]),
            "bedrock_calls": measured.bedrock_calls,
            "input_tokens": measured.input_tokens,
            "cost_usd": measured.cost_usd,
            "cost_per_million_texts_usd": metrics.per_million(measured.cost_usd, measured.upserted),
            "documents_upserted": measured.upserted,
            "put_vectors_calls": measured.put_calls,
            "upsert_seconds": measured.upsert_seconds,
            "search_top_k": SEARCH_TOP_K,
        }
        found.append(row)
    return found


@contextlib.contextmanager
def local_api(engine: str | Engine, concurrency: int) -> Iterator[CollectionsApi]:
    """The local runtime (gateway + emulator with this engine, on free loopback ports), its S3
    Vectors store in a temporary directory so a run leaves nothing behind, and a client of it.

    Given the in-memory target's engine instance, both paths share it: a text is encoded once
    (minilm keeps the vectors it computed), and both rank the very same vectors."""
    from embedrock_local.runtime.emulator import EmulatorOptions
    from embedrock_local.runtime.serve import LocalRuntime

    settings = {
        "EMBEDROCK_MAX_CONCURRENCY": str(concurrency),
        # A local engine computes on this CPU: as the in-memory target, no read timeout cuts it.
        "EMBEDROCK_READ_TIMEOUT": str(_EMULATOR_READ_TIMEOUT_SECONDS),
    }
    with tempfile.TemporaryDirectory(prefix="embedrock-bench-collections-") as data_dir:
        options = EmulatorOptions(engine=engine, data_dir=Path(data_dir))
        # One worker per function: the bench sends one request at a time.
        with LocalRuntime(emulator_options=options, containers=1, settings=settings) as runtime:
            api = CollectionsApi(runtime.url, timeout_seconds=_CLIENT_TIMEOUT_SECONDS)
            try:
                yield api
            finally:
                api.close()
