"""Filling a collection from a file: what a chunk embedded is upserted, by id, through the vector store.

A record's document is its id (the file's, or its line number), its vector, its text (an image
alone has none) and, in JSONL, the line's `metadata` object. Upserts are by id, so a chunk
retried or a file run again writes the same documents again, never a second copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from embedrock.errors import ApiError, InvalidRequest
from embedrock.ingest.formats import Record
from embedrock.ingest.layout import Format
from embedrock.vector_store import limits
from embedrock.vector_store.metadata import check_id, check_metadata
from embedrock.vector_store.model import Document
from embedrock.vector_store.port import VectorStore

METADATA_FIELD = "metadata"  # a JSONL line's field holding its document's metadata


def metadata_of(record: Record, fmt: Format) -> object:
    """The document's metadata: a JSONL line's `metadata` field; CSV and text lines have none."""
    return record.fields.get(METADATA_FIELD, {}) if fmt is Format.JSONL else {}


def check(record: Record, fmt: Format) -> None:
    """At planning, before anything is paid for: the document S3 Vectors would refuse (InvalidRequest)."""
    check_id(str(record.id), "id")
    metadata = metadata_of(record, fmt)
    if not isinstance(metadata, dict):
        raise InvalidRequest(
            f"the line's {METADATA_FIELD} must be a JSON object of keys and values.",
            param=METADATA_FIELD,
            code="invalid_metadata",
        )
    check_metadata(metadata, record.text, where="the document")


def document(record: Record, fmt: Format, vector: Sequence[float]) -> Document:
    metadata: Any = metadata_of(record, fmt)
    return Document(id=str(record.id), vector=vector, metadata=metadata, text=record.text)


@dataclass
class Upserted:
    """What a chunk's upsert did: documents written, PutVectors calls, and the refused by index."""

    documents: int = 0
    calls: int = 0
    failed: dict[int, ApiError] = field(default_factory=dict)


def upsert(store: VectorStore, collection: str, documents: Mapping[int, Document]) -> Upserted:
    """In batches of at most limits.PUT_MAX (the store splits further by size and paces them).

    A batch the service refuses is halved until the documents it refuses are found: those are
    reported, the rest written. Throttling or unavailability that outlasts the store's retries
    raises: the chunk is retried, and what was already written is written again (by id).
    """
    outcome = Upserted()
    items = sorted(documents.items())
    for start in range(0, len(items), limits.PUT_MAX):
        _put(store, collection, items[start : start + limits.PUT_MAX], outcome)
    return outcome


def _put(store: VectorStore, collection: str, batch: list[tuple[int, Document]], outcome: Upserted) -> None:
    try:
        report = store.put(collection, [doc for _, doc in batch])
    except ApiError as error:
        if transient(error):
            raise
        outcome.calls += 1
        if len(batch) == 1 or not isinstance(error, InvalidRequest):
            # Not the documents' fault alone (the collection was deleted, access was denied): all reported.
            outcome.failed |= dict.fromkeys((i for i, _ in batch), error)
            return
        half = len(batch) // 2
        _put(store, collection, batch[:half], outcome)
        _put(store, collection, batch[half:], outcome)
        return
    outcome.documents += report.documents
    outcome.calls += report.calls


def transient(error: ApiError) -> bool:
    """Throttled (429) or the service failing (5xx): worth retrying the chunk, not reporting lines."""
    return error.status == 429 or error.status >= 500
