"""What the vector store keeps: collections (an index each) and their documents.

How a collection is laid out in S3 Vectors, in one place: the model id is an index tag (S3 Vectors
keeps dimension and metric itself), the document text is a non-filterable metadata key (so results
and rerank need no second store, and full-text search can index it), and user metadata keys may
not start with the reserved prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Metric = Literal["cosine", "euclidean"]
SearchMode = Literal["vector", "text", "hybrid"]

# Index tag holding the collection's embedding model (a catalog id or inference profile id).
MODEL_TAG = "embedrock:model"
# Non-filterable metadata key holding a document's text; also the key text search indexes.
TEXT_KEY = "_text"
# User metadata keys may not start with this: it is kept for the store's own keys.
RESERVED_PREFIX = "_"


@dataclass(frozen=True)
class Collection:
    name: str
    model: str
    dimensions: int
    metric: Metric
    # Full-text search on the documents' text, in this language (limits.TEXT_SEARCH_LANGUAGES).
    text_language: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Document:
    """One stored vector. `vector` is None when a read did not ask for it."""

    id: str
    vector: Sequence[float] | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    text: str | None = None


@dataclass(frozen=True)
class Query:
    """A search: a vector (vector mode), a text (text mode) or both (hybrid)."""

    top_k: int
    vector: Sequence[float] | None = None
    text: str | None = None
    filter: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Match:
    """One result as the store ranks it. `distance` is the index metric's (vector and hybrid
    modes); `scores` are the service's own (e.g. BM25, RRF), by name, when it returns them."""

    id: str
    distance: float | None
    scores: Mapping[str, float] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    text: str | None = None


@dataclass(frozen=True)
class WriteReport:
    """What a put or delete did: documents written and the API calls it took."""

    documents: int
    calls: int
