"""QueryVectors' three rankings over one index (search.Matrix): by distance (vector only), by BM25
(queryTexts only) and by reciprocal rank fusion (both: hybrid).

What the QueryVectors API reference and the user guide ("Querying with full-text and vector
search", s3-vectors-querying-full-text-and-vector-search) say: a full-text-only search ranks by
BM25; a hybrid search runs one full-text search per query text field and one vector search, and
fuses the rankings with RRF into one list of the top K; `scores.bm25Scores` lists the searchable
keys the result matched, `scores.fused` is the RRF score (hybrid only), `scores.vectorDistance`
is there when the result matched the vector search. What they do not say, and the emulator
chooses: RRF's constant k = 60 (Cormack, Clarke and Buettcher, SIGIR 2009, the usual default);
each ranking fused is its own top K; a full-text-only query over several keys ranks by the sum of
their BM25 scores. Rows that share no term with any query text are not full-text matches. Ties
go to the smaller key, as in vector search.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .search import Matrix

RRF_K = 60


@dataclass(frozen=True)
class TextQuery:
    metadata_key: str
    text: str
    language: str | None


@dataclass
class Hit:
    row: int
    distance: float | None = None  # set when the row is in the vector ranking
    bm25: dict[str, float] = field(default_factory=dict)  # per searchable key the row matched
    fused: float | None = None  # hybrid only


def vector_hits(matrix: Matrix, query: np.ndarray, top_k: int, allowed: np.ndarray | None) -> list[Hit]:
    return [Hit(row, distance=distance) for row, distance in matrix.nearest(query, top_k, allowed)]


def text_hits(matrix: Matrix, queries: list[TextQuery], top_k: int, allowed: np.ndarray | None) -> list[Hit]:
    scores = _bm25(matrix, queries, allowed)
    total = np.sum(list(scores.values()), axis=0) if scores else np.zeros(len(matrix.keys), np.float32)
    return [_hit(row, scores) for row in _top(total, top_k)]


def hybrid_hits(
    matrix: Matrix, vector: np.ndarray, queries: list[TextQuery], top_k: int, allowed: np.ndarray | None
) -> list[Hit]:
    scores = _bm25(matrix, queries, allowed)
    nearest = matrix.nearest(vector, top_k, allowed)
    rankings = [[row for row, _ in nearest]] + [_top(key_scores, top_k) for key_scores in scores.values()]
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
    distances = dict(nearest)
    order = sorted(fused, key=lambda row: (-fused[row], row))[:top_k]
    hits = []
    for row in order:
        hit = _hit(row, scores)
        hit.distance = distances.get(row)
        hit.fused = fused[row]
        hits.append(hit)
    return hits


def _bm25(matrix: Matrix, queries: list[TextQuery], allowed: np.ndarray | None) -> dict[str, np.ndarray]:
    """Each query key's BM25 score per row; rows the filter drops score 0."""
    found = {}
    for query in queries:
        scores = matrix.texts.model(query.metadata_key, query.language).scores(query.text)
        found[query.metadata_key] = scores if allowed is None else np.where(allowed, scores, 0.0)
    return found


def _top(scores: np.ndarray, top_k: int) -> list[int]:
    """The top_k rows with a positive score, highest first; ties by row (the key order)."""
    rows = np.flatnonzero(scores > 0)
    ordered = rows[np.lexsort((rows, -scores[rows]))]
    return [int(row) for row in ordered[:top_k]]


def _hit(row: int, scores: dict[str, np.ndarray]) -> Hit:
    return Hit(row, bm25={key: float(s[row]) for key, s in scores.items() if s[row] > 0})
