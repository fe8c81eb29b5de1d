"""S3 Vectors' limits, in one place: the collections validate to them before any paid call, the
pipeline batches by them, and the emulator enforces them.

Sources: Amazon S3 User Guide, "Limitations and restrictions" (s3-vectors-limitations.html) and
botocore's s3vectors model (2025-07-15) for the request shapes' min/max and patterns."""

from __future__ import annotations

import json
import re
from typing import Any

NAME_MIN, NAME_MAX = 3, 63  # vectorBucketName, indexName (model: min 3, max 63)
# The model's ARN pattern for bucket and index names: lowercase letters, digits, '-' and '.',
# starting and ending with a letter or digit.
NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
BUCKET_ARN = re.compile(r"arn:aws[-a-z0-9]*:s3vectors:([a-z0-9-]+):([0-9]{12}):bucket/(" + NAME.pattern + ")")
INDEX_ARN = re.compile(BUCKET_ARN.pattern + r"/index/(" + NAME.pattern + ")")

DIMENSION_MIN, DIMENSION_MAX = 1, 4096  # user guide: "Dimension value per vector: 1 to 4,096"
DATA_TYPES = ("float32",)  # model: DataType enum
DISTANCE_METRICS = ("cosine", "euclidean")  # model: DistanceMetric enum
INDEX_MODES = ("CLASSIC", "ENHANCED")  # model: IndexMode enum
NON_FILTERABLE_KEYS_MAX = 10  # user guide: "Non-filterable metadata keys per vector index: Up to 10"
METADATA_KEY_MAX = 63  # model: NonFilterableMetadataKey max 63

BUCKETS_MAX = 10_000  # user guide: "Vector buckets per AWS Region in an account: 10,000"
INDEXES_MAX = 10_000  # user guide: "Vector indexes per vector bucket: 10,000"

KEY_MIN, KEY_MAX = 1, 1024  # model: VectorKey min 1, max 1024
PUT_MAX = 500  # user guide: "Vectors per PutVectors API call: Up to 500"
DELETE_MAX = 500  # user guide: "Vectors per DeleteVectors API call: Up to 500"
GET_MAX = 100  # user guide: "Vectors per GetVectors API call: Up to 100"
# user guide: "Top-K results per QueryVectors request: Up to 100" (the GA page; the preview
# page said 30). The model has a QueryVectors nextToken; paging is not served by the emulator.
TOP_K_MAX = 100
LIST_VECTORS_MAX = 1000  # user guide and model: ListVectors maxResults 1..1000
LIST_BUCKETS_MAX = 500  # model: ListVectorBuckets / ListIndexes maxResults 1..500
SEGMENTS_MAX = 16  # user guide: "Segment count for parallel listing ... Up to 16"

# user guide: "Total metadata per vector: Up to 40 KB (filterable + non-filterable)",
# "Filterable metadata per vector: Up to 2 KB", "Total metadata keys per vector: Up to 50".
# How AWS counts the bytes is not documented: the emulator counts compact JSON as UTF-8.
METADATA_BYTES_MAX = 40 * 1024
FILTERABLE_BYTES_MAX = 2 * 1024
METADATA_KEYS_MAX = 50


def json_bytes(value: Any) -> int:
    """Metadata's size as the limits above count it here: compact JSON, as UTF-8."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# Full-text search (model: MetadataConfiguration.textSearchConfigurations max 10, LanguageCode enum;
# QueryVectors queryTexts 1..10, QueryTextString 1..1024 characters).
TEXT_SEARCH_CONFIGURATIONS_MAX = 10
TEXT_SEARCH_LANGUAGES = ("en", "fr", "es", "pt", "it", "de", "nl", "zh", "ja", "ko")
QUERY_TEXTS_MAX = 10
QUERY_TEXT_MAX = 1024

# Writes, per index (user guide, "Limitations and restrictions", GA page: "Request payload size: Up
# to 20 MiB", "Combined PutVectors and DeleteVectors requests per second per vector index: Up to
# 1,000", "Combined vectors inserted and deleted per second per vector index: Up to 2,500"; the
# "S3 Vectors best practices" page adds that going over them answers 429 TooManyRequestsException).
REQUEST_BYTES_MAX = 20 * 1024 * 1024
WRITE_REQUESTS_PER_SECOND = 1000
WRITE_VECTORS_PER_SECOND = 2500

# Tags on vector buckets and indexes. S3 Vectors API reference, TagResource
# (API_S3VectorBuckets_TagResource.html): "You can add up to 50 tags for each resource"; key
# 1..128 and value 0..256 characters of the pattern below (also botocore's TagKey / TagValue).
TAGS_MAX = 50
TAG_KEY_MIN, TAG_KEY_MAX = 1, 128
TAG_VALUE_MAX = 256
# The pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*: Unicode letters, separators and numbers, and these.
TAG_UNICODE_CATEGORIES = ("L", "Z", "N")
TAG_PUNCTUATION = "_.:/=+-@"
# S3 API reference, Tag (API_control_Tag.html): "System created tags that begin with aws: aren't
# supported"; the S3 Vectors pages themselves do not say how they answer an aws: key.
TAG_RESERVED_PREFIX = "aws:"
