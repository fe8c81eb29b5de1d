"""The pipeline's view of the embeddings cache (chunk.VectorCache): vectors as lists, by record
index. The cache itself (embedrock.cache) deals in arrays, for the API and the pipeline alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from embedrock.encoding import to_lists
from embedrock.ingest.chunk_embedding import Vector

if TYPE_CHECKING:
    from embedrock.cache import EmbeddingCache
    from embedrock.embed_input import Item
    from embedrock.embed_spec import EmbedSpec


class CachedVectors:
    def __init__(self, cache: EmbeddingCache) -> None:
        self._cache = cache

    def get_many(self, spec: EmbedSpec, texts: dict[int, Item]) -> dict[int, Vector]:
        indices = list(texts)
        found = self._cache.lookup(spec, [texts[index] for index in indices])
        return {indices[i]: Vector(to_lists(vector[np.newaxis])[0], 0) for i, vector in found.items()}

    def put_many(self, spec: EmbedSpec, texts: dict[int, Item], vectors: Mapping[int, Vector]) -> None:
        indices = [index for index in texts if index in vectors]
        if indices:
            rows = np.asarray([vectors[index].embedding for index in indices])
            self._cache.store(spec, [texts[index] for index in indices], rows)
