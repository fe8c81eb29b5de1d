"""The VectorStore over Amazon S3 Vectors: one vector bucket, one index per collection.

Request and response members: botocore's s3vectors model (2025-07-15). Limits: limits.py. The
collection's layout (model tag, text key): model.py. Retries are botocore's (client.py); what
outlasts them, and every other failure, becomes an API error in errors.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from embedrock.errors import ApiError, InvalidRequest, shown
from embedrock.settings import Settings
from embedrock.vector_store import limits
from embedrock.vector_store.errors import vector_store_errors
from embedrock.vector_store.model import (
    MODEL_TAG,
    RESERVED_PREFIX,
    TEXT_KEY,
    Collection,
    Document,
    Match,
    Metric,
    Query,
    WriteReport,
)
from embedrock.vector_store.pacing import WritePacer

# Room kept in a PutVectors request for what surrounds the vectors (bucket, index, brackets).
_ENVELOPE_BYTES = 1024
# Seconds in a throttled answer's Retry-After unless told: EMBEDROCK_RETRY_AFTER's default.
_RETRY_AFTER_SECONDS: int = Settings.model_fields["retry_after_seconds"].default


class S3VectorsStore:
    """The store over `client`, a boto3 s3vectors client or the emulator's in-process one.

    The client is typed Any: both answer boto3's calls, and the published s3vectors stubs
    (mypy-boto3-s3vectors 1.43) lack the full-text members (queryTexts, returnScores) this uses.
    `clock` and `sleep` pace the writes (tests pass a fake clock).
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        retry_after_seconds: int = _RETRY_AFTER_SECONDS,
        max_request_bytes: int = limits.REQUEST_BYTES_MAX,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._retry_after = retry_after_seconds
        self._max_request_bytes = max_request_bytes
        self._pacer = WritePacer(clock=clock, sleep=sleep)

    @property
    def bucket(self) -> str:
        return self._bucket

    # Collections
    def create(self, collection: Collection) -> Collection:
        metadata: dict[str, Any] = {"nonFilterableMetadataKeys": [TEXT_KEY]}
        if collection.text_language is not None:
            metadata["textSearchConfigurations"] = [
                {"metadataKey": TEXT_KEY, "language": collection.text_language}
            ]
        with self._errors(collection.name):
            self._client.create_index(
                vectorBucketName=self._bucket,
                indexName=collection.name,
                dataType="float32",
                dimension=collection.dimensions,
                distanceMetric=collection.metric,
                metadataConfiguration=metadata,
                # Tagging at creation needs s3vectors:TagResource besides CreateIndex (Amazon S3 User
                # Guide, "Creating vector indexes with tags", creating-vector-indexes-with-tags.html).
                tags={MODEL_TAG: collection.model},
            )
            index = self._client.get_index(vectorBucketName=self._bucket, indexName=collection.name)["index"]
        return _collection(index, collection.model)

    def describe(self, name: str) -> Collection:
        with self._errors(name):
            index = self._client.get_index(vectorBucketName=self._bucket, indexName=name)["index"]
            tags = self._client.list_tags_for_resource(resourceArn=index["indexArn"])["tags"]
        model = tags.get(MODEL_TAG)
        if not model:
            # Only this service's indexes belong in its bucket: without the tag there is no model
            # to embed queries and documents with.
            raise ApiError(
                f"index {shown(name)} of vector bucket {self._bucket} has no {MODEL_TAG} tag, so it is "
                "not a collection of this service; tag it with its embedding model id or remove it.",
                code="collection_untagged",
            )
        return _collection(index, model)

    def collections(self) -> list[Collection]:
        names = list(self._index_names())  # every page first, then each index's details
        return [self.describe(name) for name in names]

    def delete(self, name: str) -> None:
        with self._errors(name):
            self._client.delete_index(vectorBucketName=self._bucket, indexName=name)

    # Documents
    def put(self, name: str, documents: Sequence[Document]) -> WriteReport:
        # The last write of an id wins, as it would across calls (PutVectors overwrites a key);
        # S3 Vectors takes a key once per request.
        latest = {document.id: _vector(position, document) for position, document in enumerate(documents)}
        items = list(latest.values())
        calls = 0
        for batch in _batches(items, limits.PUT_MAX, self._max_request_bytes - _ENVELOPE_BYTES):
            self._pacer.wait(name, len(batch))
            with self._errors(name):
                self._client.put_vectors(vectorBucketName=self._bucket, indexName=name, vectors=batch)
            calls += 1
        return WriteReport(documents=len(items), calls=calls)

    def get(self, name: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Document]:
        keys = list(dict.fromkeys(ids))
        found: dict[str, Document] = {}
        for start in range(0, len(keys), limits.GET_MAX):
            with self._errors(name):
                answer = self._client.get_vectors(
                    vectorBucketName=self._bucket,
                    indexName=name,
                    keys=keys[start : start + limits.GET_MAX],
                    returnData=with_vectors,
                    returnMetadata=True,
                )
            for vector in answer["vectors"]:
                metadata, text = _split(vector.get("metadata"))
                data = vector.get("data", {}).get("float32") if with_vectors else None
                found[vector["key"]] = Document(vector["key"], data, metadata, text)
        return [found[key] for key in keys if key in found]

    def delete_documents(self, name: str, ids: Sequence[str]) -> WriteReport:
        keys = list(dict.fromkeys(ids))
        calls = 0
        for start in range(0, len(keys), limits.DELETE_MAX):
            batch = keys[start : start + limits.DELETE_MAX]
            self._pacer.wait(name, len(batch))
            with self._errors(name):
                self._client.delete_vectors(vectorBucketName=self._bucket, indexName=name, keys=batch)
            calls += 1
        return WriteReport(documents=len(keys), calls=calls)

    def query(self, name: str, query: Query) -> list[Match]:
        if query.vector is None and query.text is None:
            raise InvalidRequest("a search needs a query text or a vector.", param="query")
        request: dict[str, Any] = {
            "vectorBucketName": self._bucket,
            "indexName": name,
            "topK": query.top_k,
            "returnMetadata": True,
        }
        if query.vector is not None:
            request["queryVector"] = {"float32": [float(x) for x in query.vector]}
            request["returnDistance"] = True
        if query.text is not None:
            # Without queryVector: full-text (BM25) only; with it: hybrid, the rankings fused by
            # reciprocal rank fusion (Amazon S3 User Guide, "Querying with full-text and vector
            # search", s3-vectors-querying-full-text-and-vector-search.html).
            request["queryTexts"] = [{"metadataKey": TEXT_KEY, "text": query.text}]
            request["returnScores"] = True
        if query.filter is not None:
            request["filter"] = dict(query.filter)
        with self._errors(name):
            answer = self._client.query_vectors(**request)
        return [_match(vector) for vector in answer["vectors"]]

    def _index_names(self) -> Iterator[str]:
        token: str | None = None
        while True:
            page: dict[str, Any] = {"vectorBucketName": self._bucket, "maxResults": limits.LIST_BUCKETS_MAX}
            if token:
                page["nextToken"] = token
            with self._errors(None):
                answer = self._client.list_indexes(**page)
            yield from (index["indexName"] for index in answer["indexes"])
            token = answer.get("nextToken")
            if not token:
                return

    def _errors(self, collection: str | None) -> Any:
        return vector_store_errors(collection, retry_after=self._retry_after)


def _collection(index: Mapping[str, Any], model: str) -> Collection:
    searched = index.get("metadataConfiguration", {}).get("textSearchConfigurations", [])
    language = next((c.get("language") for c in searched if c.get("metadataKey") == TEXT_KEY), None)
    created = index.get("creationTime")
    return Collection(
        name=index["indexName"],
        model=model,
        dimensions=int(index["dimension"]),
        metric=cast(Metric, index["distanceMetric"]),
        text_language=language,
        created_at=created if isinstance(created, datetime) else None,
    )


def _vector(position: int, document: Document) -> dict[str, Any]:
    if document.vector is None:
        raise InvalidRequest(f"documents[{position}] has no vector to store.", param=f"documents[{position}]")
    reserved = sorted(key for key in document.metadata if key.startswith(RESERVED_PREFIX))
    if reserved:
        raise InvalidRequest(
            f"documents[{position}].metadata key {reserved[0]} starts with {RESERVED_PREFIX!r}, "
            "which is kept for the store's own keys; rename it.",
            param=f"documents[{position}].metadata",
        )
    metadata = dict(document.metadata)
    if document.text is not None:
        metadata[TEXT_KEY] = document.text
    item: dict[str, Any] = {"key": document.id, "data": {"float32": _floats(document.vector)}}
    if metadata:
        item["metadata"] = metadata
    return item


def _floats(vector: Sequence[float]) -> list[float]:
    """The vector as the JSON numbers botocore writes. A list (what the API's schema and the
    pipeline hold) is sent as it is: a copy of 10,000 x 1,024 floats allocated ~10 million objects
    and was ~1 s of an upsert; its numbers are checked by botocore's parameter validation and by S3
    Vectors. numpy rows (the embedder's) convert in one C pass (tolist), ~4x faster than float()
    per element; other sequences go through float() by map, in C."""
    if isinstance(vector, list):
        return vector
    tolist = getattr(vector, "tolist", None)
    if callable(tolist):
        return cast(list[float], tolist())
    return list(map(float, vector))


# The longest JSON a float takes as Python writes it (float.__repr__; json.dumps and botocore's
# rest-json serializer write the same): sign, 17 significant digits, point and a 3-digit exponent,
# e.g. -2.2250738585072014e-308. botocore's strings for NaN and infinities ("-Infinity") are shorter.
_FLOAT_JSON_MAX = 24
_SEPARATOR = 2  # ", " between list items, as json.dumps writes them by default


def _json_bytes(item: dict[str, Any]) -> int:
    # json.dumps with its default separators: what botocore's rest-json serializer sends.
    return len(json.dumps(item).encode())


def _json_bytes_bound(item: dict[str, Any]) -> int:
    """At least the item's JSON size, without writing its floats: writing them costs ~0.5 ms per
    1,024 (float repr), ~5 s for 10,000 vectors, more than the rest of an upsert together."""
    floats = item["data"]["float32"]
    frame = len(json.dumps({**item, "data": {"float32": []}}).encode())
    return frame + len(floats) * (_FLOAT_JSON_MAX + _SEPARATOR)


def _batches(items: list[dict[str, Any]], most: int, max_bytes: int) -> Iterator[list[dict[str, Any]]]:
    """Consecutive batches of at most `most` items and `max_bytes` as botocore's JSON writes them.

    A batch is sized by each item's upper bound while the bounds prove it fits (at 1,024 dimensions
    500 vectors are ~13 MB by the bound, under the 20 MiB limit); once they no longer do, the
    batch's items are counted exactly from then on. So the cuts are the exact ones, and exact sizes
    are computed only for batches near the limit.
    """
    batch: list[dict[str, Any]] = []
    size = 0
    exact = False
    for item in items:
        item_bytes = (_json_bytes(item) if exact else _json_bytes_bound(item)) + _SEPARATOR
        if batch and not exact and len(batch) < most and size + item_bytes > max_bytes:
            exact = True
            size = sum(_json_bytes(kept) + _SEPARATOR for kept in batch)
            item_bytes = _json_bytes(item) + _SEPARATOR
        if batch and (len(batch) == most or size + item_bytes > max_bytes):
            yield batch
            batch, size, exact = [], 0, False
        batch.append(item)
        size += item_bytes
    if batch:
        yield batch


def _split(metadata: Mapping[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """User metadata and the document text, from what the store keeps."""
    kept = dict(metadata or {})
    text = kept.pop(TEXT_KEY, None)
    return kept, text if isinstance(text, str) else None


def _match(vector: Mapping[str, Any]) -> Match:
    metadata, text = _split(vector.get("metadata"))
    distance = vector.get("distance")
    return Match(
        id=vector["key"],
        distance=float(distance) if distance is not None else None,
        scores=_scores(vector.get("scores")),
        metadata=metadata,
        text=text,
    )


def _scores(scores: Mapping[str, Any] | None) -> dict[str, float]:
    """QueryScores {fused, bm25Scores: [{metadataKey, score}], vectorDistance} by name:
    `fused` (RRF), `bm25` (the text key's), `vector_distance`. S3 API reference, QueryScores
    (API_S3VectorBuckets_QueryScores.html): fused only for hybrid requests, vectorDistance when a
    hybrid result matched the vector search."""
    if not scores:
        return {}
    named: dict[str, float] = {}
    if scores.get("fused") is not None:
        named["fused"] = float(scores["fused"])
    for bm25 in scores.get("bm25Scores", []):
        key = bm25["metadataKey"]
        named["bm25" if key == TEXT_KEY else f"bm25:{key}"] = float(bm25["score"])
    if scores.get("vectorDistance") is not None:
        named["vector_distance"] = float(scores["vectorDistance"])
    return named
