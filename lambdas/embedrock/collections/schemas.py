"""Request and response models of the collections routes: validation and the OpenAPI document.

Requests reject unknown fields. Per-field rules that need the collection (a vector's length, the
model's text limit) or span fields are checked in validation.py, each naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from embedrock import catalog
from embedrock.http.schemas import Schema, catalog_choice, enum_schema
from embedrock.vector_store import limits

# Per request: one PutVectors / DeleteVectors call's worth (S3 User Guide, "Limitations and
# restrictions": up to 500 vectors per PutVectors and per DeleteVectors call).
MAX_DOCUMENTS = limits.PUT_MAX
MAX_DELETE_IDS = limits.DELETE_MAX
DEFAULT_TOP_K = 10

Language = Annotated[
    str, catalog_choice(limits.TEXT_SEARCH_LANGUAGES), enum_schema(limits.TEXT_SEARCH_LANGUAGES)
]
RerankModelId = Annotated[
    str, catalog_choice(catalog.rerank_model_ids()), enum_schema(catalog.rerank_model_ids())
]
# What a metadata value may be; checked again (finite numbers, list items) in validation.py.
MetadataValue = str | bool | int | float | list[str]
Metadata = dict[str, MetadataValue]
ScoreName = Literal["cosine_similarity", "euclidean_distance", "bm25", "rrf", "relevance_score"]
_STRICT = ConfigDict(extra="forbid", strict=True)


class TextSearch(Schema):
    model_config = _STRICT

    language: Language = Field(
        default="en",
        description="Language of the documents' text for full-text search (BM25): "
        f"{', '.join(limits.TEXT_SEARCH_LANGUAGES)}.",
    )


class CreateCollectionRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"name": "docs", "model": catalog.DEFAULT_MODEL_ID, "dimensions": 1024, "metric": "cosine"}
            ]
        },
    )

    name: str = Field(
        description=f"{limits.NAME_MIN} to {limits.NAME_MAX} characters: lowercase letters, digits, '-' "
        "and '.', starting and ending with a letter or digit (S3 Vectors' index names).",
        examples=["docs"],
    )
    model: str | None = Field(
        default=None,
        description="The embedding model (or inference profile id) texts are embedded with; "
        f"default: the service's default model. Allowed: {', '.join(catalog.model_ids())}.",
        examples=[catalog.DEFAULT_MODEL_ID],
    )
    dimensions: int | None = Field(
        default=None,
        description="Vector length, one of the model's allowed dimensions; default: the model's.",
    )
    metric: Literal["cosine", "euclidean"] = Field(
        default="cosine", description="The index's distance metric (S3 Vectors: cosine or euclidean)."
    )
    text_search: TextSearch | None = Field(
        default=None,
        description="Enable full-text and hybrid search on the documents' text, in this language.",
    )


class Collection(Schema):
    name: str
    model: str = Field(description="The embedding model id (or inference profile id) of its vectors.")
    dimensions: int
    metric: Literal["cosine", "euclidean"]
    text_search: TextSearch | None = Field(description="Full-text search settings; null when off.")
    created_at: datetime | None = Field(description="When the collection was created (UTC).")


class CollectionList(Schema):
    collections: list[Collection]


class CollectionDeleted(Schema):
    name: str
    deleted: Literal[True] = True


class DocumentIn(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(description=f"{limits.KEY_MIN} to {limits.KEY_MAX} characters, unique in the request.")
    text: str | None = Field(
        default=None,
        description="Text to embed (as search_document) with the collection's model; kept with the "
        "document for results, rerank and text search. Exactly one of `text` and `vector`.",
    )
    vector: list[float] | None = Field(
        default=None,
        description="A vector of the collection's dimensions, finite (and not all zeros for cosine).",
    )
    metadata: Metadata = Field(
        default_factory=dict,
        description="Filterable metadata: strings, numbers, booleans or lists of strings; keys may not "
        f"start with '_'; at most {limits.METADATA_KEYS_MAX} keys (the stored text counts as one) and "
        f"{limits.FILTERABLE_BYTES_MAX} bytes as compact JSON; with the text, "
        f"{limits.METADATA_BYTES_MAX} bytes.",
    )


class UpsertRequest(Schema):
    model_config = _STRICT

    documents: list[DocumentIn] = Field(
        min_length=1,
        max_length=MAX_DOCUMENTS,
        description=f"1 to {MAX_DOCUMENTS} documents; a document with an id already stored replaces it.",
    )


class UpsertUsage(Schema):
    input_tokens: int = Field(description="Tokens Bedrock counted for the texts embedded (cache hits: none).")
    requests: int = Field(description="Bedrock calls made.")
    cost_usd: float = Field(description="What Bedrock bills for those tokens, in USD (catalog prices).")


class UpsertResponse(Schema):
    upserted: int = Field(description="Documents written.")
    calls: int = Field(description="S3 Vectors PutVectors calls made.")
    usage: UpsertUsage


class Document(Schema):
    id: str
    text: str | None = Field(
        description="The text it was embedded from; null for a document given as a vector."
    )
    metadata: dict[str, Any]
    vector: list[float] | None = Field(description="The stored vector (float32).")


class DeleteDocumentsRequest(Schema):
    model_config = _STRICT

    ids: list[str] = Field(
        min_length=1, max_length=MAX_DELETE_IDS, description=f"1 to {MAX_DELETE_IDS} document ids."
    )


class DocumentsDeleted(Schema):
    deleted: int = Field(description="Ids sent for deletion (deleting an absent id is not an error).")


class Rerank(Schema):
    model_config = _STRICT

    model: RerankModelId = Field(
        default=catalog.DEFAULT_RERANK_MODEL_ID,
        description="The rerank model; offered only in some AWS regions (a 400 names them).",
    )
    top_n: int | None = Field(
        default=None, description="Results kept after reranking, best first: 1 to top_k; default: all."
    )


class SearchRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"query": "how do I reset my password", "top_k": 5}]},
    )

    query: str | None = Field(
        default=None,
        description="Text to search for: embedded as search_query (vector, hybrid) or matched by "
        f"BM25 (text, hybrid; at most {limits.QUERY_TEXT_MAX} characters there).",
    )
    vector: list[float] | None = Field(
        default=None,
        description="A query vector of the collection's dimensions instead of `query` (vector mode only).",
    )
    top_k: int = Field(default=DEFAULT_TOP_K, description=f"Results wanted: 1 to {limits.TOP_K_MAX}.")
    filter: dict[str, Any] | None = Field(
        default=None,
        description="A metadata filter in S3 Vectors' filter language: `{key: value}` ($eq), $ne, $gt, $gte, "
        "$lt, $lte, $in, $nin, $exists, $startsWith, and $and / $or over filters.",
        examples=[{"genre": {"$in": ["faq", "guide"]}, "year": {"$gte": 2024}}],
    )
    mode: Literal["vector", "text", "hybrid"] = Field(
        default="vector",
        description="vector: nearest vectors; text: BM25 over the documents' text; hybrid: both, fused by "
        "reciprocal rank fusion. text and hybrid need `query` and a collection with text_search.",
    )
    rerank: Rerank | None = Field(
        default=None, description="Re-score the results' texts with a Bedrock rerank model."
    )


class SearchResult(Schema):
    id: str
    score: float | None = Field(
        description="The number the results are ordered by (see the response's `score`); null for a "
        "result the rerank model could not score (it has no text)."
    )
    scores: dict[str, float] = Field(
        description="Every number known for the result: `distance` (the index metric's), `bm25`, `rrf`, "
        "`relevance_score`."
    )
    metadata: dict[str, Any]
    text: str | None


class SearchUsage(Schema):
    input_tokens: int = Field(description="Tokens Bedrock counted for embedding the query.")
    requests: int = Field(description="Bedrock calls made (embedding and rerank).")
    cost_usd: float | None = Field(
        description="What Bedrock bills in USD: the query's embedding, plus the rerank query; null while "
        "the rerank model's price is not confirmed."
    )


class SearchResponse(Schema):
    results: list[SearchResult] = Field(description="Best first.")
    score: ScoreName = Field(
        description="What each result's `score` is: cosine_similarity (1 - S3 Vectors' cosine distance, "
        "higher is better), euclidean_distance (lower is better), bm25 (text), rrf (hybrid), "
        "relevance_score (reranked; higher is better)."
    )
    mode: Literal["vector", "text", "hybrid"]
    usage: SearchUsage
