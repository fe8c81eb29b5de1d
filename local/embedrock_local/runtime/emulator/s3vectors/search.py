"""Exact nearest-neighbour search over one index: one matrix-vector product per query.

Distances as S3 Vectors reports them: cosine distance is 1 - cosine similarity (rows are
unit-normalized once, at load); euclidean is the plain (not squared) L2 distance. The
QueryVectors reference says only "the computed distance"; whether AWS squares the euclidean
distance is not documented, so the emulator reports the L2 distance itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .text import TextModels


@dataclass(frozen=True)
class Matrix:
    keys: list[str]  # sorted: a row's position breaks distance ties deterministically
    rows: np.ndarray  # float32, n x d; unit rows for cosine
    squared_norms: np.ndarray  # for euclidean: |x|^2 per row
    metadata: list[dict[str, Any]]
    metric: str
    texts: TextModels = field(init=False)  # BM25 per searchable key, built on first text query

    def __post_init__(self) -> None:
        object.__setattr__(self, "texts", TextModels(self.metadata))

    @classmethod
    def build(cls, keys: list[str], data: np.ndarray, metadata: list[dict[str, Any]], metric: str) -> Matrix:
        rows = np.ascontiguousarray(data, dtype=np.float32)
        if metric == "cosine" and len(rows):
            rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        norms = np.einsum("ij,ij->i", rows, rows) if metric == "euclidean" else np.zeros(0, np.float32)
        return cls(keys, rows, norms, metadata, metric)

    def allowed(self, keep: Callable[[Mapping[str, Any]], bool] | None) -> np.ndarray | None:
        """The rows a filter keeps (None: every row)."""
        if keep is None:
            return None
        return np.fromiter((keep(item) for item in self.metadata), dtype=bool, count=len(self.keys))

    def nearest(self, query: np.ndarray, top_k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """(row, distance) of the top_k nearest `allowed` rows, nearest first; ties by key."""
        if not self.keys:
            return []
        distances = self._distances(query.astype(np.float32))
        if allowed is not None:
            distances = np.where(allowed, distances, np.inf)
            available = int(allowed.sum())
        else:
            available = len(self.keys)
        k = min(top_k, available)
        if k == 0:
            return []
        if k < len(distances):
            candidates = np.argpartition(distances, k - 1)[:k]
            # Take every row tied with the k-th distance, so the key order decides among them.
            candidates = np.flatnonzero(distances <= distances[candidates].max())
        else:
            candidates = np.flatnonzero(np.isfinite(distances))
        order = candidates[np.lexsort((candidates, distances[candidates]))][:k]
        return [(int(row), float(distances[row])) for row in order]

    def _distances(self, query: np.ndarray) -> np.ndarray:
        products = self.rows @ query
        if self.metric == "cosine":
            unit = products / np.float32(np.linalg.norm(query))
            return np.asarray(1.0 - unit, dtype=np.float64)
        squared = self.squared_norms - 2.0 * products + np.float32(query @ query)
        return np.asarray(np.sqrt(np.maximum(squared.astype(np.float64), 0.0)), dtype=np.float64)
