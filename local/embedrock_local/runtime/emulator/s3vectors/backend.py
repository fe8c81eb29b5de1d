"""The s3vectors backend: S3 Vectors' operations on request dicts (botocore's input shapes),
answered with its output shapes or an S3VectorsError. The HTTP server and the in-process client
both call `call`.

Operation names, members and errors: botocore's s3vectors model (2025-07-15). Not served:
QueryVectors paging, policies and index-mode updates; each answers a ValidationException saying so.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from embedrock.vector_store import limits

from .errors import conflict, invalid, not_found, not_implemented, quota
from .filters import compile_filter
from .ranking import Hit, TextQuery, hybrid_hits, text_hits, vector_hits
from .search import Matrix
from .store import Bucket, Index, Store, StoredVector, TextSearch, now
from .tags import check_tag_keys, check_tags, merged

ACCOUNT = "123456789012"  # the emulator's account id in ARNs
DEFAULT_INDEX_MODE = "ENHANCED"  # new buckets default to ENHANCED (DESIGN: S3 Vectors, 2026-09-30)
DEFAULT_ENCRYPTION = {"sseType": "AES256"}  # S3 Vectors' default: SSE-S3 (model: SseType enum)
FLOAT32_MAX = float(np.finfo(np.float32).max)
NON_FINITE = ("NaN", "Infinity", "-Infinity")
NOT_SERVED = (
    "DeleteVectorBucketPolicy",
    "GetVectorBucketPolicy",
    "PutVectorBucketPolicy",
    "PutVectorBucketDefaultIndexMode",
    "UpdateIndexMode",
)


class S3VectorsBackend:
    def __init__(self, data_dir: Path, region: str) -> None:
        self.data_dir = data_dir
        self.region = region
        self._store: Store | None = None
        self.operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "CreateVectorBucket": self.create_vector_bucket,
            "GetVectorBucket": self.get_vector_bucket,
            "ListVectorBuckets": self.list_vector_buckets,
            "DeleteVectorBucket": self.delete_vector_bucket,
            "CreateIndex": self.create_index,
            "GetIndex": self.get_index,
            "ListIndexes": self.list_indexes,
            "DeleteIndex": self.delete_index,
            "PutVectors": self.put_vectors,
            "GetVectors": self.get_vectors,
            "ListVectors": self.list_vectors,
            "DeleteVectors": self.delete_vectors,
            "QueryVectors": self.query_vectors,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
            "UpdateMetadataConfiguration": self.update_metadata_configuration,
        }
        # How long a text search configuration added to an index with vectors stays BUILDING
        # (the service backfills it asynchronously; the emulator builds on first query). Tests
        # raise it to see the BUILDING status and the refusal of queries on that key.
        self.text_backfill_seconds = 0.0

    @property
    def store(self) -> Store:
        # Opened on first use, so a Bedrock-only emulator never touches the disk.
        if self._store is None:
            self._store = Store(self.data_dir / "s3vectors.sqlite3")
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def handles(self, operation: str) -> bool:
        return operation in self.operations or operation in NOT_SERVED

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation in NOT_SERVED:
            raise not_implemented(operation)
        return self.operations[operation](request)

    # Vector buckets
    def create_vector_bucket(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "encryptionConfiguration", "tags")
        name = _name(request.get("vectorBucketName"), "vectorBucketName")
        encryption = _encryption(request.get("encryptionConfiguration"))
        tags = check_tags(request.get("tags", {}))
        store = self.store
        with store.lock:
            if store.bucket(name) is not None:
                raise conflict(f"A vector bucket named {name} already exists.")
            if store.count_buckets() >= limits.BUCKETS_MAX:
                raise quota(f"You have reached the quota of {limits.BUCKETS_MAX} vector buckets per Region.")
            store.add_bucket(Bucket(name, now(), DEFAULT_INDEX_MODE, encryption), tags)
        return {"vectorBucketArn": self._bucket_arn(name)}

    def get_vector_bucket(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "vectorBucketArn")
        bucket = self._bucket(request)
        return {
            "vectorBucket": {
                "vectorBucketName": bucket.name,
                "vectorBucketArn": self._bucket_arn(bucket.name),
                "creationTime": bucket.created,
                "encryptionConfiguration": bucket.encryption,
                "defaultIndexMode": bucket.index_mode,
            }
        }

    def list_vector_buckets(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "maxResults", "nextToken", "prefix")
        limit = _int(
            request.get("maxResults", limits.LIST_BUCKETS_MAX), "maxResults", 1, limits.LIST_BUCKETS_MAX
        )
        prefix = _prefix(request.get("prefix"))
        after = _token(request.get("nextToken"))
        found = self.store.bucket_names(prefix, after, limit + 1)
        page = found[:limit]
        summaries = [
            {
                "vectorBucketName": b.name,
                "vectorBucketArn": self._bucket_arn(b.name),
                "creationTime": b.created,
            }
            for b in page
        ]
        return {"vectorBuckets": summaries, **_next(found, limit, page[-1].name if page else "")}

    def delete_vector_bucket(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "vectorBucketArn")
        store = self.store
        with store.lock:
            bucket = self._bucket(request)
            if store.count_indexes(bucket.name) > 0:
                raise conflict(f"The vector bucket {bucket.name} is not empty: delete its indexes first.")
            store.delete_bucket(bucket.name)
        return {}

    # Indexes
    def create_index(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(
            request,
            "vectorBucketName",
            "vectorBucketArn",
            "indexName",
            "dataType",
            "dimension",
            "distanceMetric",
            "metadataConfiguration",
            "encryptionConfiguration",
            "tags",
        )
        name = _name(request.get("indexName"), "indexName")
        data_type = _choice(request.get("dataType"), "dataType", limits.DATA_TYPES)
        dimension = _int(request.get("dimension"), "dimension", limits.DIMENSION_MIN, limits.DIMENSION_MAX)
        metric = _choice(request.get("distanceMetric"), "distanceMetric", limits.DISTANCE_METRICS)
        non_filterable, searchable = _metadata_configuration(request.get("metadataConfiguration"))
        encryption = _encryption(request.get("encryptionConfiguration"))
        tags = check_tags(request.get("tags", {}))
        store = self.store
        with store.lock:
            bucket = self._bucket(request)
            if store.index(bucket.name, name) is not None:
                raise conflict(f"An index named {name} already exists in vector bucket {bucket.name}.")
            if store.count_indexes(bucket.name) >= limits.INDEXES_MAX:
                raise quota(f"You have reached the quota of {limits.INDEXES_MAX} indexes per vector bucket.")
            if searchable and bucket.index_mode != "ENHANCED":
                raise invalid(_NEEDS_ENHANCED)
            created = now()
            index = Index(
                bucket.name,
                name,
                created,
                data_type,
                dimension,
                metric,
                non_filterable,
                bucket.index_mode,
                encryption or bucket.encryption,
                # An index created with its searchable keys has nothing to backfill: ACTIVE at once.
                tuple(TextSearch(key, language, created) for key, language in searchable),
            )
            store.add_index(index, tags)
        return {"indexArn": self._index_arn(index)}

    def get_index(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "indexName", "indexArn")
        index = self._index(request)
        description: dict[str, Any] = {
            "vectorBucketName": index.bucket,
            "indexName": index.name,
            "indexArn": self._index_arn(index),
            "creationTime": index.created,
            "dataType": index.data_type,
            "dimension": index.dimension,
            "distanceMetric": index.metric,
            "encryptionConfiguration": index.encryption,
            "indexMode": index.index_mode,
        }
        configuration: dict[str, Any] = {}
        if index.non_filterable:
            configuration["nonFilterableMetadataKeys"] = list(index.non_filterable)
        if index.text_search:
            at = now()
            configuration["textSearchConfigurations"] = [
                {
                    "metadataKey": t.metadata_key,
                    **({"language": t.language} if t.language else {}),
                    "status": t.status(at),
                }
                for t in index.text_search
            ]
        if configuration:
            description["metadataConfiguration"] = configuration
        return {"index": description}

    def update_metadata_configuration(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "indexName", "indexArn", "add", "delete")
        if ("add" in request) == ("delete" in request):
            raise invalid("Specify either add or delete, not both (and not neither).")
        with self.store.lock:
            index = self._index(request)
            if index.index_mode != "ENHANCED":
                raise invalid(_NEEDS_ENHANCED)
            current = {t.metadata_key: t for t in index.text_search}
            if "add" in request:
                added = _text_search_configurations(_configurations_of(request["add"], "add"), "add")
                if not added:
                    raise invalid("add.textSearchConfigurations must list 1 or more configurations.")
                taken = sorted(key for key, _ in added if key in current)
                if taken:
                    raise conflict(
                        f"Metadata key {taken[0]} is already full-text searchable in index {index.name}."
                    )
                if len(current) + len(added) > limits.TEXT_SEARCH_CONFIGURATIONS_MAX:
                    raise invalid(
                        f"An index takes at most {limits.TEXT_SEARCH_CONFIGURATIONS_MAX} text search configurations; "
                        f"it has {len(current)}."
                    )
                ready = now() + self.text_backfill_seconds
                updated = (*index.text_search, *(TextSearch(key, language, ready) for key, language in added))
            else:
                removed = _configuration_keys(request["delete"])
                unknown = sorted(set(removed) - set(current))
                if unknown:
                    raise invalid(
                        f"delete.textSearchConfigurations: {unknown[0]} is not a full-text searchable key of index "
                        f"{index.name}; searchable keys: {', '.join(current) or 'none'}."
                    )
                updated = tuple(t for t in index.text_search if t.metadata_key not in removed)
            self.store.set_text_search(index, updated)
        return {"indexArn": self._index_arn(index)}

    def list_indexes(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "vectorBucketArn", "maxResults", "nextToken", "prefix")
        limit = _int(
            request.get("maxResults", limits.LIST_BUCKETS_MAX), "maxResults", 1, limits.LIST_BUCKETS_MAX
        )
        prefix = _prefix(request.get("prefix"))
        after = _token(request.get("nextToken"))
        bucket = self._bucket(request)
        found = self.store.indexes(bucket.name, prefix, after, limit + 1)
        page = found[:limit]
        summaries = [
            {
                "vectorBucketName": i.bucket,
                "indexName": i.name,
                "indexArn": self._index_arn(i),
                "creationTime": i.created,
            }
            for i in page
        ]
        return {"indexes": summaries, **_next(found, limit, page[-1].name if page else "")}

    def delete_index(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "indexName", "indexArn")
        with self.store.lock:
            self.store.delete_index(self._index(request))
        return {}

    # Vectors
    def put_vectors(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "indexName", "indexArn", "vectors")
        vectors = request.get("vectors")
        if not isinstance(vectors, list) or not 1 <= len(vectors) <= limits.PUT_MAX:
            raise invalid(f"vectors must be a list of 1 to {limits.PUT_MAX} vectors.")
        with self.store.lock:
            index = self._index(request)
            rows = [_put_vector(item, index, position) for position, item in enumerate(vectors)]
            keys = [key for key, _, _ in rows]
            if len(set(keys)) != len(keys):
                raise invalid(
                    "vectors holds the same key more than once; each key may appear once per request."
                )
            self.store.put_vectors(index, rows)
        return {}

    def get_vectors(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "indexName", "indexArn", "keys", "returnData", "returnMetadata")
        keys = _keys(request.get("keys"), limits.GET_MAX)
        return_data = _bool(request.get("returnData", False), "returnData")
        return_metadata = _bool(request.get("returnMetadata", False), "returnMetadata")
        index = self._index(request)
        found = self.store.get_vectors(index, keys)
        # Keys that are not in the index are left out, in request order otherwise.
        return {
            "vectors": [
                _output(found[key], return_data, return_metadata)
                for key in dict.fromkeys(keys)
                if key in found
            ]
        }

    def list_vectors(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(
            request,
            "vectorBucketName",
            "indexName",
            "indexArn",
            "maxResults",
            "nextToken",
            "segmentCount",
            "segmentIndex",
            "returnData",
            "returnMetadata",
        )
        limit = _int(
            request.get("maxResults", limits.LIST_VECTORS_MAX), "maxResults", 1, limits.LIST_VECTORS_MAX
        )
        return_data = _bool(request.get("returnData", False), "returnData")
        return_metadata = _bool(request.get("returnMetadata", False), "returnMetadata")
        segments, segment = _segment(request)
        after = _token(request.get("nextToken"))
        index = self._index(request)
        page: list[StoredVector] = []
        more = False
        cursor = after
        while len(page) <= limit:
            batch = self.store.list_vectors(index, cursor, limits.LIST_VECTORS_MAX)
            if not batch:
                break
            cursor = batch[-1].key
            for vector in batch:
                if zlib.crc32(vector.key.encode()) % segments != segment:
                    continue
                if len(page) == limit:
                    more = True
                    break
                page.append(vector)
            if more:
                break
        result: dict[str, Any] = {"vectors": [_output(v, return_data, return_metadata) for v in page]}
        if more:
            result["nextToken"] = _encode_token(page[-1].key)
        return result

    def delete_vectors(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "vectorBucketName", "indexName", "indexArn", "keys")
        keys = _keys(request.get("keys"), limits.DELETE_MAX)
        with self.store.lock:
            self.store.delete_vectors(self._index(request), keys)
        return {}

    def query_vectors(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(
            request,
            "vectorBucketName",
            "indexName",
            "indexArn",
            "topK",
            "queryVector",
            "filter",
            "queryMode",
            "returnMetadata",
            "returnDistance",
            "queryTexts",
            "returnScores",
            "nextToken",
        )
        if "nextToken" in request:
            raise not_implemented("QueryVectors paging (nextToken)")
        top_k = _int(request.get("topK"), "topK", 1, limits.TOP_K_MAX)
        mode = None
        if "queryMode" in request:
            # Both modes give exact results here: the emulator always filters before searching.
            mode = _choice(request["queryMode"], "queryMode", limits.INDEX_MODES)
        return_metadata = _bool(request.get("returnMetadata", False), "returnMetadata")
        return_distance = _bool(request.get("returnDistance", False), "returnDistance")
        return_scores = _bool(request.get("returnScores", False), "returnScores")
        index = self._index(request)
        if "queryVector" not in request and "queryTexts" not in request:
            raise invalid("A request must include queryVector, queryTexts, or both.")
        vector = _floats(request["queryVector"], "queryVector", index) if "queryVector" in request else None
        enhanced = (mode or index.index_mode) == "ENHANCED"
        texts = _query_texts(request["queryTexts"], index, enhanced) if "queryTexts" in request else []
        keep = (
            compile_filter(request["filter"], index.non_filterable, enhanced=enhanced)
            if "filter" in request
            else None
        )
        matrix = self.store.matrix(index)
        allowed = matrix.allowed(keep)
        if not texts:
            assert vector is not None
            hits = vector_hits(matrix, vector, top_k, allowed)
        elif vector is None:
            hits = text_hits(matrix, texts, top_k, allowed)
        else:
            hits = hybrid_hits(matrix, vector, texts, top_k, allowed)
        results = [
            _query_output(
                hit,
                matrix,
                distance=return_distance,
                metadata=return_metadata,
                scores=return_scores and bool(texts),
                hybrid=vector is not None,
            )
            for hit in hits
        ]
        return {"vectors": results, "distanceMetric": index.metric}

    # Tags (TagResource, UntagResource, ListTagsForResource: on a bucket or an index ARN)
    def tag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "resourceArn", "tags")
        if "tags" not in request:
            raise invalid("tags is required: the tags to add to the resource.")
        added = check_tags(request["tags"])
        with self.store.lock:
            bucket, index = self._resource(request.get("resourceArn"))
            self.store.set_tags(merged(self.store.tags(bucket, index), added), bucket, index)
        return {}

    def untag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "resourceArn", "tagKeys")
        removed = check_tag_keys(request.get("tagKeys"))
        with self.store.lock:
            bucket, index = self._resource(request.get("resourceArn"))
            kept = {k: v for k, v in self.store.tags(bucket, index).items() if k not in removed}
            self.store.set_tags(kept, bucket, index)
        return {}

    def list_tags_for_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        _members(request, "resourceArn")
        bucket, index = self._resource(request.get("resourceArn"))
        return {"tags": self.store.tags(bucket, index)}

    def _resource(self, arn: Any) -> tuple[str, str | None]:
        """(bucket, index or None) of an existing bucket or index ARN."""
        if not isinstance(arn, str):
            raise invalid("resourceArn is required: a vector bucket or vector index ARN.")
        if limits.INDEX_ARN.fullmatch(arn):
            index = self._index({"indexArn": arn})
            return index.bucket, index.name
        if limits.BUCKET_ARN.fullmatch(arn):
            return self._bucket({"vectorBucketArn": arn}).name, None
        raise invalid(
            "resourceArn must be a vector bucket ARN (arn:aws:s3vectors:REGION:ACCOUNT:bucket/NAME) "
            "or a vector index ARN (.../bucket/NAME/index/INDEX)."
        )

    # Lookups
    def _bucket(self, request: dict[str, Any]) -> Bucket:
        name = self._bucket_name(request)
        bucket = self.store.bucket(name)
        if bucket is None:
            raise not_found(f"The specified vector bucket could not be found: {name}.")
        return bucket

    def _bucket_name(self, request: dict[str, Any]) -> str:
        arn, name = request.get("vectorBucketArn"), request.get("vectorBucketName")
        if arn is not None and name is not None:
            raise invalid("Specify either vectorBucketName or vectorBucketArn, not both.")
        if arn is not None:
            found = limits.BUCKET_ARN.fullmatch(arn) if isinstance(arn, str) else None
            if found is None:
                raise invalid("vectorBucketArn must look like arn:aws:s3vectors:REGION:ACCOUNT:bucket/NAME.")
            return found.group(3)
        if name is None:
            raise invalid("Specify vectorBucketName or vectorBucketArn.")
        return _name(name, "vectorBucketName")

    def _index(self, request: dict[str, Any]) -> Index:
        arn = request.get("indexArn")
        if arn is not None:
            if "vectorBucketName" in request or "indexName" in request:
                raise invalid("Specify either indexArn or vectorBucketName and indexName, not both.")
            found = limits.INDEX_ARN.fullmatch(arn) if isinstance(arn, str) else None
            if found is None:
                raise invalid(
                    "indexArn must look like arn:aws:s3vectors:REGION:ACCOUNT:bucket/NAME/index/INDEX."
                )
            bucket_name, name = found.group(3), found.group(4)
        else:
            if "indexName" not in request or "vectorBucketName" not in request:
                raise invalid("Specify indexArn, or both vectorBucketName and indexName.")
            bucket_name = _name(request["vectorBucketName"], "vectorBucketName")
            name = _name(request["indexName"], "indexName")
        bucket = self._bucket({"vectorBucketName": bucket_name})
        index = self.store.index(bucket.name, name)
        if index is None:
            raise not_found(f"The specified index could not be found: {name} in vector bucket {bucket.name}.")
        return index

    def _bucket_arn(self, name: str) -> str:
        return f"arn:aws:s3vectors:{self.region}:{ACCOUNT}:bucket/{name}"

    def _index_arn(self, index: Index) -> str:
        return f"{self._bucket_arn(index.bucket)}/index/{index.name}"


# Request checks
def _members(request: dict[str, Any], *allowed: str) -> None:
    unknown = sorted(set(request) - set(allowed))
    if unknown:
        raise invalid(f"Unknown request member {unknown[0]}; allowed: {', '.join(allowed)}.")


def _name(value: Any, field: str) -> str:
    if (
        not isinstance(value, str)
        or not limits.NAME_MIN <= len(value) <= limits.NAME_MAX
        or limits.NAME.fullmatch(value) is None
    ):
        raise invalid(
            f"{field} must be {limits.NAME_MIN} to {limits.NAME_MAX} characters of lowercase letters, digits, "
            "hyphens (-) and periods (.), beginning and ending with a letter or digit."
        )
    return value


def _int(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid(f"{field} must be an integer from {low} to {high}.")
    return value


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"{field} must be true or false.")
    return value


def _choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise invalid(f"{field} must be one of: {', '.join(allowed)}.")
    return str(value)


def _prefix(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not 1 <= len(value) <= limits.NAME_MAX:
        raise invalid(f"prefix must be a string of 1 to {limits.NAME_MAX} characters.")
    return value


def _encryption(value: Any) -> dict[str, Any]:
    if value is None:
        return dict(DEFAULT_ENCRYPTION)
    if not isinstance(value, dict) or set(value) - {"sseType", "kmsKeyArn"}:
        raise invalid("encryptionConfiguration takes sseType (AES256 | aws:kms) and kmsKeyArn.")
    sse = _choice(value.get("sseType", "AES256"), "encryptionConfiguration.sseType", ("AES256", "aws:kms"))
    if (sse == "aws:kms") != ("kmsKeyArn" in value):
        raise invalid("encryptionConfiguration.kmsKeyArn is required with sseType aws:kms, and only with it.")
    return dict(value)


def _metadata_configuration(value: Any) -> tuple[tuple[str, ...], list[tuple[str, str | None]]]:
    """(nonFilterableMetadataKeys, [(searchable key, language)]) of CreateIndex's metadataConfiguration."""
    if value is None:
        return (), []
    if not isinstance(value, dict):
        raise invalid(
            "metadataConfiguration must be an object with nonFilterableMetadataKeys and/or textSearchConfigurations."
        )
    _members(value, "nonFilterableMetadataKeys", "textSearchConfigurations")
    searchable = _text_search_configurations(
        value.get("textSearchConfigurations", []), "metadataConfiguration"
    )
    if "nonFilterableMetadataKeys" not in value:
        return (), searchable
    keys = value["nonFilterableMetadataKeys"]
    if (
        not isinstance(keys, list)
        or not 1 <= len(keys) <= limits.NON_FILTERABLE_KEYS_MAX
        or not all(isinstance(k, str) and 1 <= len(k) <= limits.METADATA_KEY_MAX for k in keys)
    ):
        raise invalid(
            f"metadataConfiguration.nonFilterableMetadataKeys must list 1 to {limits.NON_FILTERABLE_KEYS_MAX} keys "
            f"of 1 to {limits.METADATA_KEY_MAX} characters."
        )
    if len(set(keys)) != len(keys):
        raise invalid("metadataConfiguration.nonFilterableMetadataKeys lists a key more than once.")
    return tuple(keys), searchable


_NEEDS_ENHANCED = (
    "Full-text search needs a vector index in ENHANCED mode (textSearchConfigurations, queryTexts)."
)


def _configurations_of(value: Any, where: str) -> Any:
    if not isinstance(value, dict) or set(value) != {"textSearchConfigurations"}:
        raise invalid(f"{where} must be an object with textSearchConfigurations.")
    return value["textSearchConfigurations"]


def _text_search_configurations(value: Any, where: str) -> list[tuple[str, str | None]]:
    """[(metadataKey, language or None)]: at most 10, each key once, languages of the enum.
    A key may also be non-filterable (botocore's MetadataConfiguration documentation)."""
    field = f"{where}.textSearchConfigurations"
    if not isinstance(value, list) or len(value) > limits.TEXT_SEARCH_CONFIGURATIONS_MAX:
        raise invalid(f"{field} must list at most {limits.TEXT_SEARCH_CONFIGURATIONS_MAX} configurations.")
    found: list[tuple[str, str | None]] = []
    for position, item in enumerate(value):
        at = f"{field}[{position}]"
        if not isinstance(item, dict):
            raise invalid(f"{at} must be an object with metadataKey and an optional language.")
        unknown = sorted(set(item) - {"metadataKey", "language"})
        if unknown:
            raise invalid(
                f"{at}: unknown member {unknown[0]}; allowed: metadataKey, language (status is read-only)."
            )
        key = _metadata_key(item.get("metadataKey"), f"{at}.metadataKey")
        language = None
        if "language" in item:
            language = _choice(item["language"], f"{at}.language", limits.TEXT_SEARCH_LANGUAGES)
        if any(key == seen for seen, _ in found):
            raise invalid(
                f"{field} lists metadata key {key} more than once; each key takes one configuration."
            )
        found.append((key, language))
    return found


def _configuration_keys(value: Any) -> list[str]:
    items = _configurations_of(value, "delete")
    if not isinstance(items, list) or not 1 <= len(items) <= limits.TEXT_SEARCH_CONFIGURATIONS_MAX:
        raise invalid(
            f"delete.textSearchConfigurations must list 1 to {limits.TEXT_SEARCH_CONFIGURATIONS_MAX} "
            "{metadataKey} objects."
        )
    keys = []
    for position, item in enumerate(items):
        at = f"delete.textSearchConfigurations[{position}]"
        if not isinstance(item, dict) or set(item) != {"metadataKey"}:
            raise invalid(f"{at} must be an object with metadataKey only.")
        keys.append(_metadata_key(item["metadataKey"], f"{at}.metadataKey"))
    return keys


def _metadata_key(value: Any, field: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limits.METADATA_KEY_MAX:
        raise invalid(f"{field} must be a metadata key of 1 to {limits.METADATA_KEY_MAX} characters.")
    return value


def _query_texts(value: Any, index: Index, enhanced: bool) -> list[TextQuery]:
    """queryTexts: 1 to 10 {metadataKey, text}, each key once, searchable and ACTIVE."""
    if not enhanced:
        raise invalid(_NEEDS_ENHANCED)
    if not isinstance(value, list) or not 1 <= len(value) <= limits.QUERY_TEXTS_MAX:
        raise invalid(f"queryTexts must list 1 to {limits.QUERY_TEXTS_MAX} {{metadataKey, text}} queries.")
    searchable = ", ".join(t.metadata_key for t in index.text_search) or "none"
    at = now()
    queries: list[TextQuery] = []
    for position, item in enumerate(value):
        where = f"queryTexts[{position}]"
        if not isinstance(item, dict) or set(item) != {"metadataKey", "text"}:
            raise invalid(f"{where} must be an object with metadataKey and text.")
        key = _metadata_key(item["metadataKey"], f"{where}.metadataKey")
        text = item["text"]
        if not isinstance(text, str) or not 1 <= len(text) <= limits.QUERY_TEXT_MAX:
            raise invalid(f"{where}.text must be a string of 1 to {limits.QUERY_TEXT_MAX} characters.")
        configuration = index.searchable(key)
        if configuration is None:
            raise invalid(
                f"{where}.metadataKey {key} is not full-text searchable in index {index.name}; "
                f"searchable keys: {searchable}."
            )
        if configuration.status(at) != "ACTIVE":
            raise invalid(
                f"{where}.metadataKey {key}: its text search configuration is BUILDING and not serving "
                "queries yet; retry when GetIndex shows it ACTIVE."
            )
        if any(q.metadata_key == key for q in queries):
            raise invalid(f"queryTexts targets metadata key {key} more than once; each key may appear once.")
        queries.append(TextQuery(key, text, configuration.language))
    return queries


def _query_output(
    hit: Hit, matrix: Matrix, *, distance: bool, metadata: bool, scores: bool, hybrid: bool
) -> dict[str, Any]:
    item: dict[str, Any] = {"key": matrix.keys[hit.row]}
    if distance and hit.distance is not None:
        item["distance"] = hit.distance
    if metadata:
        item["metadata"] = matrix.metadata[hit.row]
    if scores:
        found: dict[str, Any] = {}
        if hit.fused is not None:
            found["fused"] = hit.fused
        if hit.bm25:
            found["bm25Scores"] = [{"metadataKey": k, "score": s} for k, s in hit.bm25.items()]
        if hybrid and hit.distance is not None:
            found["vectorDistance"] = hit.distance
        item["scores"] = found
    return item


def _keys(value: Any, most: int) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= most:
        raise invalid(f"keys must be a list of 1 to {most} keys.")
    for key in value:
        _key(key, "keys")
    return list(value)


def _key(value: Any, field: str) -> str:
    if not isinstance(value, str) or not limits.KEY_MIN <= len(value) <= limits.KEY_MAX:
        raise invalid(
            f"{field}: a vector key must be a string of {limits.KEY_MIN} to {limits.KEY_MAX} characters."
        )
    return value


def _floats(value: Any, field: str, index: Index) -> np.ndarray:
    data = value.get("float32") if isinstance(value, dict) and set(value) == {"float32"} else None
    if not isinstance(data, list):
        raise invalid(f'{field} must be {{"float32": [...]}} with {index.dimension} numbers.')
    if len(data) != index.dimension:
        raise invalid(
            f"{field} has {len(data)} dimensions; index {index.name} expects dimension {index.dimension}."
        )
    # botocore sends a NaN or infinite float as the string "NaN", "Infinity" or "-Infinity".
    if any(x in NON_FINITE for x in data if isinstance(x, str)) or not all(
        math.isfinite(x) and abs(x) <= FLOAT32_MAX for x in data if _is_number(x)
    ):
        raise invalid(
            f"{field} holds NaN, Infinity or a value beyond float32's range; only finite float32 values are allowed."
        )
    if not all(_is_number(x) for x in data):
        raise invalid(f"{field} must hold numbers only.")
    vector = np.asarray(data, dtype=np.float32)
    if index.metric == "cosine" and not np.any(vector):
        raise invalid(
            f"{field} is a zero vector, which has no cosine distance; index {index.name} uses cosine."
        )
    return vector


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _put_vector(item: Any, index: Index, position: int) -> tuple[str, np.ndarray, dict[str, Any] | None]:
    where = f"vectors[{position}]"
    if not isinstance(item, dict):
        raise invalid(f"{where} must be an object with key, data and metadata.")
    unknown = sorted(set(item) - {"key", "data", "metadata"})
    if unknown:
        raise invalid(f"{where}: unknown member {unknown[0]}; allowed: key, data, metadata.")
    key = _key(item.get("key"), f"{where}.key")
    data = _floats(item.get("data"), f"{where}.data", index)
    metadata = item.get("metadata")
    if metadata is not None:
        _check_metadata(metadata, index, f"{where}.metadata")
    return key, data, metadata


def _check_metadata(metadata: Any, index: Index, where: str) -> None:
    if not isinstance(metadata, dict):
        raise invalid(f"{where} must be a JSON object.")
    if len(metadata) > limits.METADATA_KEYS_MAX:
        raise invalid(
            f"{where} has {len(metadata)} keys; at most {limits.METADATA_KEYS_MAX} are allowed per vector."
        )
    filterable = {}
    for name, value in metadata.items():
        if name in index.non_filterable:
            continue
        if not _filterable_value(value):
            raise invalid(
                f"{where}.{name}: filterable metadata holds strings, numbers, booleans or lists of them."
            )
        filterable[name] = value
    total = _size(metadata)
    if total > limits.METADATA_BYTES_MAX:
        raise invalid(
            f"{where} is {total} bytes; metadata is limited to {limits.METADATA_BYTES_MAX} bytes per vector."
        )
    size = _size(filterable)
    if size > limits.FILTERABLE_BYTES_MAX:
        raise invalid(
            f"{where}: filterable metadata is {size} bytes; the limit is {limits.FILTERABLE_BYTES_MAX} bytes per "
            "vector (declare large keys in nonFilterableMetadataKeys)."
        )


def _filterable_value(value: Any) -> bool:
    def primitive(item: Any) -> bool:
        return isinstance(item, str | bool) or (isinstance(item, int | float) and math.isfinite(item))

    return primitive(value) or (isinstance(value, list) and all(primitive(item) for item in value))


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _segment(request: dict[str, Any]) -> tuple[int, int]:
    if ("segmentCount" in request) != ("segmentIndex" in request):
        raise invalid("segmentCount and segmentIndex go together.")
    if "segmentCount" not in request:
        return 1, 0
    count = _int(request["segmentCount"], "segmentCount", 1, limits.SEGMENTS_MAX)
    return count, _int(request["segmentIndex"], "segmentIndex", 0, count - 1)


def _output(vector: StoredVector, data: bool, metadata: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"key": vector.key}
    if data:
        item["data"] = {"float32": vector.data.tolist()}
    if metadata:
        item["metadata"] = vector.metadata or {}
    return item


def _encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


def _token(value: Any) -> str:
    if value is None:
        return ""
    try:
        return base64.urlsafe_b64decode(str(value).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("nextToken is not a token this operation returned.") from None


def _next(found: list[Any], limit: int, last: str) -> dict[str, str]:
    return {"nextToken": _encode_token(last)} if len(found) > limit else {}
