"""topk: top-10 cosine search of one query over float32 vectors: the product's vector_math.top_k
against the seed notebook's per-pair loop (timed on a sample, scaled) and a bare numpy
matrix product with argpartition (which assumes unit vectors, as Titan's are).
"""

from __future__ import annotations

import numpy as np

from embedrock import vector_math
from embedrock_local.tools.perf.common import DIMENSIONS, Result, Sizes, Timing, median_pair, timed

TOP_K = 10


def describe(sizes: Sizes) -> str:
    return f"top-{TOP_K} of {sizes.topk_vectors:,} x {DIMENSIONS:,} float32 vectors"


def seed_cosine(a: list[float], b: list[float]) -> float:
    """The seed notebook's cosine: numpy on the vectors as json.loads returns them (lists)."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def seed_top_k(query: list[float], documents: list[list[float]], k: int) -> list[int]:
    scores = [seed_cosine(query, document) for document in documents]
    return sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:k]


def bare_top_k(query: np.ndarray, documents: np.ndarray, k: int) -> np.ndarray:
    scores = documents @ query
    best = np.argpartition(-scores, k)[:k]
    ranked: np.ndarray = best[np.argsort(-scores[best])]
    return ranked


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def measure(sizes: Sizes) -> Result:
    documents, query = unit_vectors(sizes.topk_vectors, seed=1), unit_vectors(1, seed=2)[0]
    product, bare = median_pair(
        lambda: vector_math.top_k(query, documents, TOP_K),
        lambda: bare_top_k(query, documents, TOP_K),
        repeat=9,
    )
    # Same answer: the two do equal work.
    ranked = [index for index, _ in vector_math.top_k(query, documents, TOP_K)]
    assert ranked == bare_top_k(query, documents, TOP_K).tolist()
    sample = documents[: sizes.topk_loop_sample].tolist()
    query_list = query.tolist()
    loop = timed(lambda: seed_top_k(query_list, sample, TOP_K)) * len(documents) / len(sample)
    speedup, over_bare = loop / product, product / bare
    return Result(
        name="topk",
        baseline=Timing(f"per-pair loop ({len(sample):,} timed, scaled)", loop),
        product=Timing("vector_math.top_k", product),
        ratio=speedup,
        ratio_means="times faster than the per-pair loop",
        goal=">= 100x the loop, within 3x of bare numpy",
        met=speedup >= 100 and over_bare <= 3,
        verdict=f"{speedup:.0f}x the loop; {over_bare:.1f}x bare numpy ({bare * 1e3:.1f} ms)",
        details={
            "vectors": len(documents),
            "dimensions": DIMENSIONS,
            "top_k": TOP_K,
            "loop_sample": len(sample),
            "bare_numpy_seconds": bare,
            "times_bare_numpy": over_bare,
        },
    )
