"""The bare numpy top-k that vector searches are measured against, and their unit vectors."""

from __future__ import annotations

import numpy as np

from embedrock_local.tools.perf.common import DIMENSIONS


def bare_top_k(query: np.ndarray, documents: np.ndarray, k: int) -> np.ndarray:
    """A matrix-vector product and argpartition: cosine for unit vectors, as Titan's are."""
    scores = documents @ query
    best = np.argpartition(-scores, k)[:k]
    ranked: np.ndarray = best[np.argsort(-scores[best])]
    return ranked


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors
