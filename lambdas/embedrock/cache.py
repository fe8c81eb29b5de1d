"""An opt-in DynamoDB cache of embeddings, used by the API and the pipeline: a text already
embedded with the same settings is never paid for twice. It deals in arrays, as the embedder
does; the pipeline's adapter is embedrock.ingest.cached_vectors.

On when EMBEDROCK_CACHE_TABLE names a table (`-c embedrock:cache=true` creates one). The key is
sha256(model, dimensions, normalize, input type, embedding type, text): everything that changes
the vector. Items expire after EMBEDROCK_CACHE_TTL_DAYS through DynamoDB's TTL. Vectors are stored
packed (float32 for floats, what Bedrock computes in), so an item is ~4 KB at 1,024 dimensions.
The cache is best effort: a DynamoDB error is logged and read as a miss, never fails a request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError

from embedrock.bedrock.codecs import DTYPES
from embedrock.bedrock.distinct import distinct
from embedrock.cache_table import EXPIRES_AT, KEY, VECTOR
from embedrock.embed_input import Item
from embedrock.embed_spec import EmbedSpec
from embedrock.encoding import PACKED_DTYPES

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import Embedder, EmbedResult

# Part of every key: bump it if what a key stands for changes (2: Titan V2 binary is packed bits).
KEY_VERSION = 2
_GET_BATCH, _WRITE_BATCH, _ATTEMPTS = 100, 25, 4

logger = logging.getLogger(__name__)


class DynamoDBClient(Protocol):
    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]: ...

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]: ...


def dynamodb_client() -> DynamoDBClient:
    """Short timeouts: a slow cache must not cost a request more than it saves."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=2)
    client: DynamoDBClient = boto3.client("dynamodb", config=config)
    return client


def cache_key(spec: EmbedSpec, item: Item) -> str:
    """A text keys as itself (the keys of before images); an image as its format and sha256."""
    if isinstance(item, str):
        content: object = item
    else:
        image = item.image
        content = {"text": item.text, "image": None if image is None else [image.format, image.digest()]}
    identity = json.dumps([KEY_VERSION, *spec.cache_key_parts(), content], ensure_ascii=False)
    return hashlib.sha256(identity.encode()).hexdigest()


class EmbeddingCache:
    def __init__(self, client: DynamoDBClient, table: str, *, ttl_days: int) -> None:
        self._client = client
        self._table = table
        self._ttl_seconds = ttl_days * 86_400

    def lookup(self, spec: EmbedSpec, texts: Sequence[Item]) -> dict[int, np.ndarray]:
        """Cached vectors by index into `texts` (a text may appear several times)."""
        indices_of: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            indices_of.setdefault(cache_key(spec, text), []).append(index)
        found: dict[int, np.ndarray] = {}
        keys = list(indices_of)
        for start in range(0, len(keys), _GET_BATCH):
            for item in self._get(keys[start : start + _GET_BATCH]):
                vector = _unpack(item[VECTOR]["B"], spec)
                for index in indices_of.get(item[KEY]["S"], []):
                    found[index] = vector
        return found

    def store(self, spec: EmbedSpec, texts: Sequence[Item], vectors: np.ndarray) -> None:
        expires = int(time.time()) + self._ttl_seconds
        items = {
            cache_key(spec, text): {
                KEY: {"S": cache_key(spec, text)},
                VECTOR: {"B": _pack(vector, spec)},
                EXPIRES_AT: {"N": str(expires)},
            }
            for text, vector in zip(texts, vectors, strict=True)
        }  # one item per key: BatchWriteItem refuses duplicates
        requests = [{"PutRequest": {"Item": item}} for item in items.values()]
        for start in range(0, len(requests), _WRITE_BATCH):
            self._write(requests[start : start + _WRITE_BATCH])

    def _get(self, keys: list[str]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {self._table: {"Keys": [{KEY: {"S": key}} for key in keys]}}
        items: list[dict[str, Any]] = []
        for attempt in range(_ATTEMPTS):
            try:
                response = self._client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError):
                logger.warning("embedding cache read failed; treating as misses", exc_info=True)
                return items
            items += response.get("Responses", {}).get(self._table, [])
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05 * 2**attempt)
        return items

    def _write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self._table: requests}
        for attempt in range(_ATTEMPTS):
            try:
                response = self._client.batch_write_item(RequestItems=pending)
            except (ClientError, BotoCoreError):
                logger.warning("embedding cache write failed; the vectors are not cached", exc_info=True)
                return
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(0.05 * 2**attempt)


class CachedEmbedder:
    """An Embedder that asks the cache first and Bedrock for the rest (the API's hook)."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self._inner = inner
        self._cache = cache

    def embed(self, spec: EmbedSpec, texts: Sequence[Item], *, partial: bool = False) -> EmbedResult:
        # Copies of one input are one lookup, one miss sent to Bedrock and one write.
        unique = distinct(texts)
        if not unique.has_copies:
            return self._embed(spec, texts, partial=partial)
        return unique.spread(self._embed(spec, unique.items, partial=partial))

    def _embed(self, spec: EmbedSpec, texts: Sequence[Item], *, partial: bool) -> EmbedResult:
        from embedrock.observability import record_cache

        hits = self._cache.lookup(spec, texts)
        record_cache(spec.model.id, hits=len(hits), misses=len(texts) - len(hits))
        misses = [index for index in range(len(texts)) if index not in hits]
        if not misses:
            return self._from_cache(spec, texts, hits)
        miss_texts = [texts[index] for index in misses]
        result = (
            self._inner.embed(spec, miss_texts, partial=True)
            if partial
            else self._inner.embed(spec, miss_texts)
        )
        failed = {offset for offset, _ in result.failures}
        fresh = [offset for offset in range(len(misses)) if offset not in failed]
        self._cache.store(spec, [miss_texts[i] for i in fresh], result.vectors[fresh])
        if not hits:
            return result
        vectors = np.zeros((len(texts), result.vectors.shape[1]), dtype=result.vectors.dtype)
        vectors[misses] = result.vectors
        for index, vector in hits.items():
            vectors[index] = vector
        failures = tuple((misses[offset], error) for offset, error in result.failures)
        # Tokens, calls and images stay the misses' own: the hits were never sent.
        return replace(result, vectors=vectors, failures=failures)

    @staticmethod
    def _from_cache(spec: EmbedSpec, texts: Sequence[Item], hits: dict[int, np.ndarray]) -> EmbedResult:
        from embedrock.bedrock.embedder import EmbedResult

        # Nothing was sent: no tokens, no images billed.
        return EmbedResult(
            vectors=np.stack([hits[index] for index in range(len(texts))]),
            input_tokens=0,
            bedrock_calls=0,
            images=0,
        )


def with_cache(embedder: Embedder, cache: EmbeddingCache | None) -> Embedder:
    return embedder if cache is None else CachedEmbedder(embedder, cache)


def _pack(vector: np.ndarray, spec: EmbedSpec) -> bytes:
    return np.ascontiguousarray(vector, dtype=PACKED_DTYPES[spec.embedding_type]).tobytes()


def _unpack(raw: bytes, spec: EmbedSpec) -> np.ndarray:
    packed = np.frombuffer(raw, dtype=PACKED_DTYPES[spec.embedding_type])
    if spec.embedding_type != "float":
        return packed.astype(DTYPES[spec.embedding_type])
    # The shortest decimal of each float32, as a float64: a cached vector prints as Bedrock's did.
    widened: np.ndarray = packed.astype(str).astype(np.float64)
    return widened
