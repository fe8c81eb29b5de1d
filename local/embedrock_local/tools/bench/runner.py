"""Embed every data set with every model variant (cache first), then score each variant.

A variant is one model x dimensions x embedding type, requested from the model (native), or
a full-size float vector cut to fewer dimensions on the client (truncated). Requests go out
one after another, each through BedrockEmbedder, so a request's latency includes its fan-out.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedrock.catalog import EMBEDDING_TYPES, CatalogModel
from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock.errors import ApiError
from embedrock_local.runtime.emulator import tokens as token_estimate

from . import metrics
from .cache import VectorCache
from .datasets import Dataset, RetrievalDataset, StsDataset
from .target import Target

# Cohere needs an input type. STS compares two texts of the same kind, so both sides are
# embedded alike ("clustering"); retrieval embeds queries and documents as what they are.
STS_INPUT_TYPE = "clustering"
_ROLES = ("search_query", "search_document")
_TYPE_ORDER = {kind: i for i, kind in enumerate(EMBEDDING_TYPES)}


@dataclass(frozen=True)
class ModelPlan:
    model: CatalogModel
    dimensions: tuple[int, ...]
    # The id the user gave, which InvokeModel is called with and rows are reported under: the
    # model's own, or an inference profile's (`us.cohere.embed-v4:0`) where Bedrock needs one.
    model_id: str = ""

    def __post_init__(self) -> None:
        if not self.model_id:
            object.__setattr__(self, "model_id", self.model.id)


@dataclass(frozen=True)
class Plan:
    models: tuple[ModelPlan, ...]
    embedding_types: tuple[str, ...]  # asked of every model that offers them
    truncate: tuple[int, ...]  # client-side cuts of each model's full-size float vectors
    batch_size: int

    def variants(self, plan: ModelPlan) -> list[tuple[int, str]]:
        """The (dimensions, type) pairs asked of one model: only the types its catalog entry offers."""
        kinds = [kind for kind in self.embedding_types if kind in plan.model.embedding_types]
        return [(dimensions, kind) for dimensions in plan.dimensions for kind in kinds]

    def matrix(self) -> list[tuple[str, int, str]]:
        """Every (model id, dimensions, type) the plan requests, in run order."""
        return [(plan.model_id, *variant) for plan in self.models for variant in self.variants(plan)]


@dataclass
class Measured:
    """What the requests behind one variant on one data set cost and took."""

    texts: int = 0
    cut: int = 0  # texts cut to the model's input limit
    input_tokens: int = 0
    requests: list[tuple[int, int, float]] = field(default_factory=list)  # (texts, calls, ms)

    def add(self, other: Measured) -> None:
        self.texts += other.texts
        self.cut += other.cut
        self.input_tokens += other.input_tokens
        self.requests += other.requests


Latencies = dict[str, dict[str, list[float]]]  # data set -> variant label -> ms per request
Progress = Callable[[str, int], Callable[[int], None]]  # (label, total) -> advance(n)
# Rows measured another way for a float variant of a retrieval set (through a collection, say),
# from the in-memory row of that variant: (data set, model, dimensions, in-memory row) -> rows.
AlsoMeasure = Callable[["RetrievalDataset", "ModelPlan", int, dict[str, Any]], list[dict[str, Any]]]


class Runner:
    def __init__(
        self,
        target: Target,
        cache: VectorCache,
        plan: Plan,
        progress: Progress,
        *,
        warn: Callable[[str], None] = lambda message: None,
        also: AlsoMeasure | None = None,
    ) -> None:
        self.target = target
        self.also = also
        self.cache = cache
        self.plan = plan
        self.progress = progress
        self.warn = warn  # told at once when a variant fails, so a long run does not hide it
        self.errors: list[dict[str, Any]] = []
        self.requests_made = 0  # in this run; texts found in the cache cost no request

    def run(self, datasets: Sequence[Dataset]) -> tuple[list[dict[str, Any]], Latencies]:
        """Result rows, and per data set the request latencies (ms) of each variant, for plots."""
        rows: list[dict[str, Any]] = []
        latencies: Latencies = {}
        for dataset in datasets:
            for model_plan in self.plan.models:
                model_rows: list[dict[str, Any]] = []
                for dimensions, kind in self.plan.variants(model_plan):
                    try:
                        vectors, measured = self._embed(dataset, model_plan, dimensions, kind)
                    except ApiError as error:
                        self.errors.append(_error(model_plan, dimensions, kind, dataset, error))
                        self.warn(
                            f"not measured: {model_plan.model_id} {dimensions} {kind} on {dataset.name}: {error}"
                        )
                        continue
                    native = self._row(
                        dataset, model_plan, dimensions, kind, vectors=vectors, measured=measured
                    )
                    model_rows.append(native)
                    if self.also is not None and kind == "float" and isinstance(dataset, RetrievalDataset):
                        model_rows += self.also(dataset, model_plan, dimensions, native)
                    label = f"{short_name(model_plan.model)} {dimensions} {kind}"
                    latencies.setdefault(dataset.name, {})[label] = [r[2] for r in measured.requests]
                    if kind == "float" and dimensions == max(model_plan.dimensions):
                        model_rows += self._truncated(dataset, model_plan, vectors, measured)
                # Requested variants by dimensions, then the client-side cuts.
                model_rows.sort(
                    key=lambda r: (
                        r["variant"] != "native",
                        r["dimensions"],
                        _TYPE_ORDER[r["embedding_type"]],
                    )
                )
                rows += _relative(model_rows, max(model_plan.dimensions))
        return rows, latencies

    def expected_tokens(self, datasets: Sequence[Dataset]) -> dict[str, int]:
        """Estimated input tokens per model id of the texts not cached yet (for the cost warning)."""
        expected: dict[str, int] = {}
        for dataset in datasets:
            for model_plan in self.plan.models:
                for dimensions, kind in self.plan.variants(model_plan):
                    for spec, originals in self._requests(dataset, model_plan, dimensions, kind):
                        texts = [fit(text, spec.model) for text in originals]
                        cached = self.cache.get(spec, texts)
                        count = sum(token_estimate.count(t) for t in dict.fromkeys(texts) if t not in cached)
                        expected[model_plan.model.id] = expected.get(model_plan.model.id, 0) + count
        return expected

    def _requests(
        self, dataset: Dataset, model_plan: ModelPlan, dimensions: int, kind: str
    ) -> list[tuple[EmbedSpec, list[str]]]:
        """The specs and texts a variant needs: one set for STS, queries and documents for retrieval."""
        model = model_plan.model

        def spec(input_type: str) -> EmbedSpec:
            # Resolved from the id the user gave, so a profile id is what InvokeModel is called with.
            return resolve_spec(
                model_id=model_plan.model_id,
                dimensions=dimensions,
                input_type=input_type if model.input_types else None,
                embedding_type=kind,
            )

        if isinstance(dataset, StsDataset):
            return [(spec(STS_INPUT_TYPE), dataset.texts())]
        return [
            (spec("search_query"), list(dataset.queries.values())),
            (spec("search_document"), list(dataset.corpus.values())),
        ]

    def _embed(
        self, dataset: Dataset, model_plan: ModelPlan, dimensions: int, kind: str
    ) -> tuple[tuple[np.ndarray, np.ndarray | None], Measured]:
        arrays: list[np.ndarray] = []
        measured = Measured()
        requests = self._requests(dataset, model_plan, dimensions, kind)
        for spec, texts in requests:
            array, part = self._embed_texts(spec, texts, dataset.name)
            arrays.append(array)
            measured.add(part)
        # Timings are kept per spec and data set; queries and documents share a spec when the
        # model takes no input type (Titan), so read each distinct spec's requests once.
        for spec in dict.fromkeys(spec for spec, _ in requests):
            measured.requests += self.cache.requests(spec, dataset.name)
        return (arrays[0], arrays[1] if len(arrays) > 1 else None), measured

    def _embed_texts(
        self, spec: EmbedSpec, originals: list[str], dataset: str
    ) -> tuple[np.ndarray, Measured]:
        texts = [fit(text, spec.model) for text in originals]
        unique = list(dict.fromkeys(texts))
        cached = self.cache.get(spec, unique)
        missing = [text for text in unique if text not in cached]
        role = f" ({spec.input_type.removeprefix('search_')}s)" if spec.input_type in _ROLES else ""
        label = f"{dataset} {short_name(spec.model)} {spec.dimensions} {spec.embedding_type}{role}"
        advance = self.progress(label, len(missing))
        for start in range(0, len(missing), self.plan.batch_size):
            batch = missing[start : start + self.plan.batch_size]
            started = time.perf_counter()
            result = self.target.embedder.embed(spec, batch)
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.cache.put(spec, batch, result.vectors, share_tokens(result.input_tokens, batch))
            self.cache.add_request(spec, dataset, len(batch), result.bedrock_calls, elapsed_ms)
            self.requests_made += 1
            advance(len(batch))
        # Always read back from the cache, so a fresh run and a cached re-run score the same numbers.
        cached = self.cache.get(spec, unique)
        array = np.stack([cached[text].vector for text in texts])
        measured = Measured(
            texts=len(unique),
            cut=sum(text != original for text, original in zip(texts, originals, strict=True)),
            input_tokens=sum(cached[text].tokens for text in unique),
        )
        return array, measured

    def _row(
        self,
        dataset: Dataset,
        model_plan: ModelPlan,
        dimensions: int,
        kind: str,
        *,
        vectors: tuple[np.ndarray, np.ndarray | None],
        measured: Measured,
        truncated_from: int | None = None,
    ) -> dict[str, Any]:
        model = model_plan.model
        first = metrics.comparable(vectors[0], kind, dimensions)
        second = None if vectors[1] is None else metrics.comparable(vectors[1], kind, dimensions)
        if truncated_from is not None:
            first = metrics.truncate(first, dimensions)
            second = None if second is None else metrics.truncate(second, dimensions)
        scores = score(dataset, first, second)
        cost = metrics.cost_usd(model, measured.input_tokens)
        latency = metrics.latency_summary(
            [r[2] for r in measured.requests], sum(r[0] for r in measured.requests)
        )
        per_vector = metrics.bytes_per_vector(kind, dimensions)
        return {
            "model": model_plan.model_id,
            "model_name": model.name,
            "dimensions": dimensions,
            "embedding_type": kind,
            "variant": "native" if truncated_from is None else f"truncated from {truncated_from}",
            "via": "memory",  # ranked here, by metrics.top_k; "collections" rows by a collection's search
            "search_mode": "vector" if isinstance(dataset, RetrievalDataset) else None,
            "dataset": dataset.name,
            "task": dataset.kind,
            "metric": next(iter(scores)),
            "score": next(iter(scores.values())),
            "metrics": scores,
            "latency_p50_ms": latency["p50"],
            "latency_p95_ms": latency["p95"],
            "latency_p99_ms": latency["p99"],
            "throughput_texts_per_s": latency["throughput"],
            "requests": len(measured.requests),
            "bedrock_calls": sum(r[1] for r in measured.requests),
            "texts": measured.texts,
            "texts_cut_to_model_limit": measured.cut,
            "input_tokens": measured.input_tokens,
            "cost_usd": cost,
            "cost_per_million_texts_usd": metrics.per_million(cost, measured.texts),
            "bytes_per_vector": per_vector,
            "storage_per_million_vectors_mb": per_vector * 1_000_000 / 1e6,
            "target": self.target.label,
        }

    def _truncated(
        self,
        dataset: Dataset,
        model_plan: ModelPlan,
        vectors: tuple[np.ndarray, np.ndarray | None],
        measured: Measured,
    ) -> list[dict[str, Any]]:
        """The full-size float vectors cut on the client: no extra request, so no extra cost."""
        source = max(model_plan.dimensions)
        return [
            self._row(
                dataset,
                model_plan,
                dimensions,
                "float",
                vectors=vectors,
                measured=measured,
                truncated_from=source,
            )
            for dimensions in self.plan.truncate
            if dimensions < source
        ]


def fit(text: str, model: CatalogModel) -> str:
    """The text cut to the model's input limit, as a caller must (the service sends Cohere
    truncate=NONE so Bedrock never cuts silently): the catalog's character bound, then its token
    bound by the emulator's word-and-punctuation estimate. Cut texts are counted in the report.
    """
    text = text[: model.max_input_chars]
    if token_estimate.count(text) > model.max_input_tokens:
        text = token_estimate.truncate(text, model.max_input_tokens, keep_end=False)
    return text


def score(dataset: Dataset, first: np.ndarray, second: np.ndarray | None) -> dict[str, float]:
    """Quality x 100, primary metric first: Spearman for STS; nDCG@10 and recall@10 for retrieval."""
    if isinstance(dataset, StsDataset):
        # `first` has one row per dataset.texts() entry, in that order.
        index = {text: i for i, text in enumerate(dataset.texts())}
        a = first[[index[left] for left, _ in dataset.pairs]]
        b = first[[index[right] for _, right in dataset.pairs]]
        return {"spearman": 100 * metrics.spearman(metrics.pair_cosines(a, b), dataset.gold)}
    assert isinstance(dataset, RetrievalDataset) and second is not None
    doc_ids = list(dataset.corpus)
    ranked = metrics.top_k(first, second)
    rankings = {query_id: [doc_ids[i] for i in ranked[row]] for row, query_id in enumerate(dataset.queries)}
    return retrieval_scores(dataset, rankings)


def retrieval_scores(dataset: RetrievalDataset, rankings: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """nDCG@10 first, then recall@10, x 100, of each judged query's ranked document ids (best first),
    however they were ranked: in memory, or by a collection's search."""
    ndcg, recall = [], []
    for query_id in dataset.queries:
        ranking = list(rankings[query_id])
        ndcg.append(metrics.ndcg_at_k(ranking, dataset.qrels[query_id]))
        recall.append(metrics.recall_at_k(ranking, dataset.qrels[query_id]))
    return {
        f"ndcg@{metrics.K}": 100 * float(np.mean(ndcg)),
        f"recall@{metrics.K}": 100 * float(np.mean(recall)),
    }


def share_tokens(total: int, texts: Sequence[str]) -> list[int]:
    """Split a request's token count over its texts, by estimated length (largest remainder).

    Bedrock counts tokens per call (Cohere: one count for up to 96 texts), and the client layer
    per request; the cache keeps them per text. The shares add up to the measured total.
    """
    weights = [max(token_estimate.count(text), 1) for text in texts]
    exact = [total * weight / sum(weights) for weight in weights]
    shares = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(texts)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _relative(rows: list[dict[str, Any]], full_dimensions: int) -> list[dict[str, Any]]:
    """Each row's score as a percentage of its model's full-size float score on the same set."""
    base = next(
        (
            row["score"]
            for row in rows
            if (row["embedding_type"], row["variant"], row["dimensions"])
            == ("float", "native", full_dimensions)
        ),
        None,
    )
    for row in rows:
        # A ratio to a score at or below zero means nothing.
        row["relative_to_full_float_pct"] = 100 * row["score"] / base if base and base > 0 else math.nan
    return rows


def short_name(model: CatalogModel) -> str:
    """The id without its provider: titan-embed-text-v2:0, embed-english-v3."""
    return model.id.split(".", 1)[-1]


def _error(
    model_plan: ModelPlan, dimensions: int, kind: str, dataset: Dataset, error: ApiError
) -> dict[str, Any]:
    return {
        "model": model_plan.model_id,
        "dimensions": dimensions,
        "embedding_type": kind,
        "dataset": dataset.name,
        "status": error.status,
        "code": error.code,
        "message": error.message,
    }
