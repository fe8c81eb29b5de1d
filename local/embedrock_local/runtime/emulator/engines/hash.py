"""The `hash` engine: deterministic hashed word features, dependency-free. Not semantic."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np

from .base import FloatArray

_WORD = re.compile(r"\w+")
# Function words carry little meaning; full weight would make unrelated sentences look alike.
# fmt: off
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "do", "does", "for", "from", "has", "have", "he",
    "i", "in", "is", "it", "its", "not", "of", "on", "or", "she", "that", "the", "they", "this", "to", "was",
    "we", "were", "will", "with", "you", "your",
})
# fmt: on
_STOPWORD_WEIGHT = 0.25
_TRIGRAM_WEIGHT = 0.2


def _features(text: str) -> dict[str, float]:
    """Lowercased word unigrams, plus character trigrams of each word at a lower weight."""
    weights: dict[str, float] = {}
    for word in _WORD.findall(text.lower()):
        weight = _STOPWORD_WEIGHT if word in _STOPWORDS else 1.0
        weights["w:" + word] = weights.get("w:" + word, 0.0) + weight
        padded = f"<{word}>"
        for i in range(len(padded) - 2):
            key = "c:" + padded[i : i + 3]
            weights[key] = weights.get(key, 0.0) + _TRIGRAM_WEIGHT * weight
    if not weights:
        # Texts without word characters ("", "?!") still get a stable vector of their own.
        weights["raw:" + text] = 1.0
    return weights


# Each feature adds +-weight at this many pseudo-random positions: enough for dense vectors
# from short texts, far cheaper than a full random direction per feature.
_SPREAD = 32


@lru_cache(maxsize=65_536)
def _codes(feature: str) -> bytes:
    """_SPREAD little-endian uint32 codes of a feature (sign bit, position) from SHAKE-256:
    the same in every process, unlike the salted built-in hash().
    """
    return hashlib.shake_256(b"embedrock-hash:" + feature.encode("utf-8")).digest(4 * _SPREAD)


class HashEngine:
    """Hashed bag of words: same text, same vector (any process); shared words, higher cosine.

    Each word and character trigram adds a fixed sparse pseudo-random direction (a random
    projection of the bag of features), so vectors are dense enough to quantize sensibly.
    It knows no synonyms: "sunny" and "raining" are as unrelated as any two words. Use it for
    plumbing and determinism, not for retrieval quality.
    """

    name = "hash"
    description = "deterministic hashed word features; not semantic"

    def embed(self, texts: list[str], dimensions: int) -> FloatArray:
        out = np.empty((len(texts), dimensions), dtype=np.float64)
        for row, text in enumerate(texts):
            features = _features(text)
            codes = np.frombuffer(b"".join(_codes(feature) for feature in features), dtype="<u4")
            weights = np.repeat(
                np.fromiter(features.values(), dtype=np.float64, count=len(features)), _SPREAD
            )
            signed = np.where(codes >> 31, weights, -weights)
            out[row] = np.bincount((codes & 0x7FFFFFFF) % dimensions, weights=signed, minlength=dimensions)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0  # all features cancelled out (vanishingly rare): keep zeros, not NaN
        result: FloatArray = out / norms
        return result
