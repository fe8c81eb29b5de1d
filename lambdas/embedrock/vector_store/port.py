"""The port the collections context and the pipeline write and search through.

Errors are the API's (embedrock.errors): a missing collection or document is NotFound, a name
taken is a Conflict, the service's quota a 402/429, its refusals of a request an InvalidRequest
naming the field, throttling that outlasts the retries Throttled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from embedrock.vector_store.model import Collection, Document, Match, Query, WriteReport


class VectorStore(Protocol):
    def create(self, collection: Collection) -> Collection: ...

    def describe(self, name: str) -> Collection: ...

    def collections(self) -> list[Collection]: ...

    def delete(self, name: str) -> None: ...

    def put(self, name: str, documents: Sequence[Document]) -> WriteReport:
        """Upsert by id, in batches the service accepts, paced and retried."""
        ...

    def get(self, name: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Document]:
        """The documents found, in the order of `ids`; missing ids are left out."""
        ...

    def delete_documents(self, name: str, ids: Sequence[str]) -> WriteReport: ...

    def query(self, name: str, query: Query) -> list[Match]: ...
