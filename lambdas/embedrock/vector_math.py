"""Similarity maths on vectors: scores, pairs, matrices, top-k. Pure numpy, no HTTP.

cosine and dot are similarities (higher is closer); euclidean is a distance (lower is
closer), and ranking follows that. Validation helpers raise InvalidRequest naming the field.
Contract: identical vectors (so identical texts) score exactly 1.0 with cosine and exactly 0.0
with euclidean; rounding (0.9999999999999999) never shows through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from embedrock.errors import InvalidRequest

Metric = Literal["cosine", "dot", "euclidean"]
METRICS: tuple[Metric, ...] = ("cosine", "dot", "euclidean")


def higher_is_closer(metric: Metric) -> bool:
    return metric != "euclidean"


def as_matrix(vectors: Sequence[Sequence[float]], param: str, *, at_least: int = 1) -> np.ndarray:
    """Vectors of one length, finite and non-empty, as float64 (n, d); errors name `param[i]`."""
    if len(vectors) < at_least:
        raise InvalidRequest(
            f"{param} must hold at least {at_least} vector{'s' if at_least > 1 else ''}.",
            param=param,
            code="empty_input",
        )
    stacked = _stack(vectors, lambda i: f"{param}[{i}]")
    check_finite(stacked, param)
    return stacked


def as_pairs(pairs: Sequence[Sequence[Sequence[float]]], param: str) -> np.ndarray:
    """Pairs of vectors as float64 (n, 2, d); errors name `param[i][j]`."""
    if not pairs:
        raise InvalidRequest(f"{param} must hold at least one pair.", param=param, code="empty_input")
    stacked = _stack([vector for pair in pairs for vector in pair], lambda k: f"{param}[{k // 2}][{k % 2}]")
    stacked = stacked.reshape(len(pairs), 2, -1)
    check_finite(stacked, param)
    return stacked


def as_vector(vector: Sequence[float], param: str) -> np.ndarray:
    if len(vector) == 0:
        raise InvalidRequest(f"{param} is empty.", param=param, code="empty_vector")
    array = np.asarray(vector, dtype=np.float64)
    check_finite(array, param)
    return array


def _stack(vectors: Sequence[Sequence[float]], name: Callable[[int], str]) -> np.ndarray:
    lengths = [len(vector) for vector in vectors]
    for index, length in enumerate(lengths):
        if length == 0:
            raise InvalidRequest(f"{name(index)} is empty.", param=name(index), code="empty_vector")
        if length != lengths[0]:
            raise InvalidRequest(
                f"{name(index)} has {length} numbers but {name(0)} has {lengths[0]}; "
                "all vectors must have the same length.",
                param=name(index),
                code="dimension_mismatch",
            )
    return np.asarray(vectors, dtype=np.float64)


def check_finite(vectors: np.ndarray, param: str) -> None:
    where = _first_vector(~np.isfinite(vectors).all(axis=-1), param)
    if where:
        raise InvalidRequest(
            f"{where} holds NaN or infinity; vectors must be finite numbers.",
            param=where,
            code="invalid_vector",
        )


def _first_vector(flags: np.ndarray, param: str) -> str | None:
    """The path of the first flagged vector: `param`, `param[i]` or `param[i][j]` by rank."""
    if not flags.any():
        return None
    index = np.unravel_index(int(np.argmax(flags)), flags.shape)
    return param + "".join(f"[{int(i)}]" for i in index)


def check_same_width(first: np.ndarray, second: np.ndarray, first_param: str, second_param: str) -> None:
    if first.shape[-1] != second.shape[-1]:
        raise InvalidRequest(
            f"{second_param} has {second.shape[-1]} numbers but the {first_param} have "
            f"{first.shape[-1]}; all vectors must have the same length.",
            param=second_param,
            code="dimension_mismatch",
        )


def check_metric(vectors: np.ndarray, metric: Metric, param: str) -> None:
    """Cosine divides by the norm: a zero vector has no direction to compare."""
    where = _first_vector(~np.any(vectors, axis=-1), param) if metric == "cosine" else None
    if where:
        raise InvalidRequest(
            f"{where} is a zero vector: cosine similarity is undefined for it; "
            'use "metric": "dot" or "euclidean".',
            param=where,
            code="zero_vector",
        )


def check_top_k(top_k: int, n_documents: int) -> None:
    if not 1 <= top_k <= n_documents:
        raise InvalidRequest(
            f"top_k must be between 1 and the number of documents ({n_documents}); got {top_k}.",
            param="top_k",
            code="invalid_top_k",
        )


def _unit(matrix: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    if not _usable(norms):
        matrix = _rescaled(matrix)
        norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    unit: np.ndarray = matrix / norms
    return unit


def _usable(norms: np.ndarray | np.floating[Any]) -> bool:
    """Norms computed at full precision: their squares neither overflowed (1e200 squared is inf)
    nor fell among the subnormal numbers, where precision is lost (1e-160 squared)."""
    info = np.finfo(np.asarray(norms).dtype)
    low, high = np.sqrt(info.tiny / info.eps), np.sqrt(info.max)
    return bool(np.all((norms >= low) & (norms < high)))


def _rescaled(vectors: np.ndarray) -> np.ndarray:
    """Each vector divided by its largest |value|: cosine ignores scale, and norms then fit."""
    peak = np.max(np.abs(vectors), axis=-1, keepdims=True)
    scaled: np.ndarray = vectors / np.where(peak > 0, peak, 1.0)
    return scaled


def pairwise(first: np.ndarray, second: np.ndarray, metric: Metric = "cosine") -> np.ndarray:
    """Row i of `first` against row i of `second`: shape (n,)."""
    if metric == "euclidean":
        distances: np.ndarray = np.linalg.norm(first - second, axis=-1)
        return distances
    same = (first == second).all(axis=-1) if metric == "cosine" else None
    if metric == "cosine":
        first, second = _unit(first), _unit(second)
    scores: np.ndarray = np.einsum("ij,ij->i", first, second)
    if same is None:
        return scores
    return np.where(same, 1.0, np.clip(scores, -1.0, 1.0))


def score(first: np.ndarray, second: np.ndarray, metric: Metric = "cosine") -> float:
    return float(pairwise(first.reshape(1, -1), second.reshape(1, -1), metric)[0])


def matrix(vectors: np.ndarray, metric: Metric = "cosine") -> np.ndarray:
    """n x n scores, exactly symmetric; identical rows (the diagonal, repeated texts) score
    exactly 1 (cosine) or 0 (euclidean)."""
    if metric == "euclidean":
        return _euclidean_matrix(vectors)
    rows = _unit(vectors) if metric == "cosine" else vectors
    gram = rows @ rows.T
    result: np.ndarray = (gram + gram.T) / 2
    if metric == "dot":
        return result
    if metric == "cosine":
        result = np.clip(result, -1.0, 1.0)
    # Rows equal to each other, found by their index in the distinct rows (O(n d log n)).
    _, group = np.unique(vectors, axis=0, return_inverse=True)
    group = group.reshape(-1)
    result[group[:, None] == group[None, :]] = 1.0 if metric == "cosine" else 0.0
    return result


# Rows of differences computed at once in _euclidean_matrix: ~32 MB of float64 at most.
_DIFFERENCE_BLOCK = 4_000_000


def _euclidean_matrix(vectors: np.ndarray) -> np.ndarray:
    """n x n distances from the differences themselves, a block of rows at a time.

    Not |a|^2 + |b|^2 - 2ab: that cancels catastrophically for close points far from the origin
    (1e-4 apart at 1e3 came out 10 % wrong). Identical rows are exactly 0 (their difference is).
    """
    n, d = vectors.shape
    distances = np.empty((n, n))
    step = max(1, _DIFFERENCE_BLOCK // max(1, n * d))
    for start in range(0, n, step):
        differences = vectors[start : start + step, None, :] - vectors[None, :, :]
        distances[start : start + step] = np.sqrt(np.einsum("ijk,ijk->ij", differences, differences))
    # Exactly symmetric whatever order the sums ran in.
    result: np.ndarray = (distances + distances.T) / 2
    return result


def scores_against(query: np.ndarray, documents: np.ndarray, metric: Metric = "cosine") -> np.ndarray:
    """The query (d,) against every document (n, d): shape (n,), in the documents' precision.

    Cosine and dot are one matrix-vector product (plus the documents' norms): no (n, d)
    temporary, so float32 documents stay float32 and a large search is bound by memory speed.
    """
    if metric == "euclidean":
        return pairwise(np.broadcast_to(query, documents.shape), documents, metric)
    dtype = documents.dtype if np.issubdtype(documents.dtype, np.floating) else np.float64
    documents, query = documents.astype(dtype, copy=False), query.astype(dtype, copy=False)
    # Overflow (huge vectors) and 0/0 (zero vectors) leave inf or NaN that check_scores reports.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scores: np.ndarray = documents @ query
        if metric == "cosine":
            norms, query_norm = np.sqrt(np.einsum("ij,ij->i", documents, documents)), np.linalg.norm(query)
            if not (_usable(norms) and _usable(query_norm)):  # huge or tiny vectors (rare):
                documents, query = _rescaled(documents), _rescaled(query)  # the same cosine, rescaled
                scores = documents @ query
                norms, query_norm = (
                    np.sqrt(np.einsum("ij,ij->i", documents, documents)),
                    np.linalg.norm(query),
                )
            scores = np.clip(scores / (norms * query_norm), -1.0, 1.0)
            _exact_for_identical(scores, query, documents)
    return scores


def _exact_for_identical(scores: np.ndarray, query: np.ndarray, documents: np.ndarray) -> None:
    """Documents equal to the query score exactly 1; only near-1 scores are compared, so a
    large search makes no second pass over its documents."""
    near = np.flatnonzero(scores > 1.0 - 1e-6)
    if near.size:
        same = near[(documents[near] == query).all(axis=-1)]
        scores[same] = 1.0


def top_k(
    query: np.ndarray, documents: np.ndarray, k: int, metric: Metric = "cosine"
) -> list[tuple[int, float]]:
    """(index, score) of the k closest documents, closest first; ties keep document order."""
    scores = scores_against(query, documents, metric)
    check_scores(scores)
    key = -scores if higher_is_closer(metric) else scores
    if k < len(key):
        # argpartition finds the k-th best in O(n); take everything strictly better, then the
        # lowest-index documents tied with it, so a tie never depends on partition order.
        kth = key[np.argpartition(key, k - 1)[k - 1]]
        better = np.flatnonzero(key < kth)
        chosen = np.concatenate([better, np.flatnonzero(key == kth)[: k - len(better)]])
    else:
        chosen = np.arange(len(key))
    ranked = chosen[np.lexsort((chosen, key[chosen]))]
    return [(int(index), float(scores[index])) for index in ranked]


def check_scores(scores: np.ndarray) -> None:
    """Finite inputs can still overflow (1e200 squared): say so instead of returning inf."""
    if not np.isfinite(scores).all():
        raise InvalidRequest(
            "the scores overflowed (vectors too large); scale the vectors down.", code="score_overflow"
        )
