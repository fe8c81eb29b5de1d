"""Quality, latency, cost and size arithmetic. Pure numpy, checked against hand-computed values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from embedrock import pricing
from embedrock.catalog import CatalogModel

FloatArray = npt.NDArray[np.float64]
K = 10  # cut-off of the retrieval metrics (nDCG@10, recall@10), as BEIR and MTEB report


def average_ranks(values: Sequence[float] | FloatArray) -> FloatArray:
    """1-based ranks; tied values share the mean of the ranks they span."""
    array = np.asarray(values, dtype=np.float64)
    order = np.argsort(array, kind="stable")
    ranks = np.empty(len(array), dtype=np.float64)
    ranks[order] = np.arange(1, len(array) + 1)
    _, groups, counts = np.unique(array, return_inverse=True, return_counts=True)
    mean_rank: FloatArray = np.bincount(groups, weights=ranks) / counts
    return mean_rank[groups]


def pearson(x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray) -> float:
    a = np.asarray(x, dtype=np.float64) - np.mean(x)
    b = np.asarray(y, dtype=np.float64) - np.mean(y)
    denominator = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / denominator if denominator else math.nan


def spearman(x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray) -> float:
    """Spearman's rho: Pearson correlation of average ranks (the tie-correct form)."""
    return pearson(average_ranks(x), average_ranks(y))


def dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int = K) -> float:
    """nDCG@k with linear graded gains (trec_eval's, which BEIR uses): gain = relevance."""
    ideal = dcg(sorted((r for r in relevance.values() if r > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([max(relevance.get(doc, 0), 0) for doc in ranked[:k]]) / ideal


def recall_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int = K) -> float:
    relevant = {doc for doc, r in relevance.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def top_k(queries: FloatArray, documents: FloatArray, k: int = K) -> npt.NDArray[np.intp]:
    """Indices of the k best documents per query by cosine, best first; ties keep corpus order."""
    scores = unit_rows(queries) @ unit_rows(documents).T
    k = min(k, documents.shape[0])
    # Stable sort of negated scores: equal scores rank by corpus position, so results are reproducible.
    order: npt.NDArray[np.intp] = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order


def unit_rows(vectors: FloatArray) -> FloatArray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: FloatArray = vectors / np.where(norms > 0, norms, 1.0)
    return unit


def pair_cosines(a: FloatArray, b: FloatArray) -> FloatArray:
    cosines: FloatArray = np.sum(unit_rows(a) * unit_rows(b), axis=1)
    return cosines


def comparable(vectors: npt.NDArray[np.generic], embedding_type: str, dimensions: int) -> FloatArray:
    """Vectors of any embedding type as floats whose cosine is the similarity to rank by.

    int8 as is; uint8 (int8 + 128) shifted back; binary types become +-1 per bit, whose cosine
    is 1 - 2 * Hamming / dimensions (so ranking by it is ranking by Hamming distance). Binary
    types are packed bits for every model, 8 per byte (binary = ubinary - 128; see codecs.DTYPES).
    """
    values = np.asarray(vectors)
    if embedding_type in ("float", "int8"):
        return values.astype(np.float64)
    if embedding_type == "uint8":
        return values.astype(np.float64) - 128
    offset = 128 if embedding_type == "binary" else 0
    bits = np.unpackbits((values.astype(np.int16) + offset).astype(np.uint8), axis=1)[:, :dimensions] > 0
    signs: FloatArray = np.where(bits, 1.0, -1.0)
    return signs


def truncate(vectors: FloatArray, dimensions: int) -> FloatArray:
    """Client-side truncation of float vectors to their first `dimensions` numbers, re-normalized."""
    return unit_rows(np.asarray(vectors, dtype=np.float64)[:, :dimensions])


def bytes_per_vector(embedding_type: str, dimensions: int) -> int:
    """Bytes one vector takes stored compactly: float32, one byte per int, one bit per binary dim."""
    if embedding_type == "float":
        return 4 * dimensions
    if embedding_type in ("int8", "uint8"):
        return dimensions
    return math.ceil(dimensions / 8)


def cost_usd(model: CatalogModel, input_tokens: int, images: int = 0) -> float:
    """On demand, as the product bills it (embedrock.pricing): tokens, and images at the model's
    per-image price. The bench's data sets are texts, so its runs pass no images."""
    return pricing.cost_usd(model, input_tokens, images=images)


def per_million(total: float, count: int) -> float:
    return total / count * 1_000_000 if count else math.nan


def latency_summary(milliseconds: Sequence[float], texts: int) -> dict[str, float]:
    """p50/p95/p99 per request (linear interpolation) and texts per second of sequential requests."""
    if not milliseconds:
        return {name: math.nan for name in ("p50", "p95", "p99", "throughput")}
    p50, p95, p99 = np.percentile(np.asarray(milliseconds, dtype=np.float64), [50, 95, 99])
    total_seconds = sum(milliseconds) / 1000
    return {
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "throughput": texts / total_seconds if total_seconds > 0 else math.nan,
    }
