"""Collections and their documents: create, list, describe, delete; upsert, get, delete documents.

Every rule is checked before a paid call (validation.py); texts are embedded as search_document
with the collection's model and dimensions, through the embedder and the cache as the embeddings
route does, then written through the vector store port.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from embedrock import wiring
from embedrock.collections import schemas
from embedrock.collections.validation import check_documents, check_id, check_name
from embedrock.embed_spec import EmbedSpec, check_text, resolve_spec
from embedrock.errors import Conflict, InvalidRequest, NotFound, shown
from embedrock.observability import record_documents_upserted, record_vector_write_calls
from embedrock.vector_store import model as stored

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import EmbedResult
    from embedrock.vector_store.port import VectorStore

# The CDK context that sets settings.max_collections (infra/config.py reads it).
MAX_COLLECTIONS_CONTEXT = "embedrock:maxCollections"


def store() -> VectorStore:
    return wiring.vector_store()


def create(request: schemas.CreateCollectionRequest) -> schemas.Collection:
    name = check_name(request.name)
    spec = collection_spec(request.model, request.dimensions)
    if "float" not in spec.model.embedding_types:
        raise InvalidRequest(
            f"model {spec.model.id} does not output float vectors, which S3 Vectors stores.",
            param="model",
            code="model_not_supported",
        )
    vectors = store()
    limit = wiring.settings().max_collections
    existing = vectors.collections()
    if any(collection.name == name for collection in existing):
        raise _exists(name)
    if len(existing) >= limit:
        raise Conflict(
            f"this deployment keeps at most {limit} collections and has {len(existing)}; delete one, or "
            f"raise the limit with the CDK context {MAX_COLLECTIONS_CONTEXT} (a cost guard).",
            param="name",
            code="collection_limit_reached",
        )
    created = vectors.create(
        stored.Collection(
            name=name,
            model=spec.invoke_id,
            dimensions=spec.dimensions,
            metric=request.metric,
            text_language=request.text_search.language if request.text_search else None,
        )
    )
    return to_schema(created)


def collection_spec(
    model_id: str | None, dimensions: int | None, input_type: str = "search_document"
) -> EmbedSpec:
    """The embedding a collection's texts get: its model (catalog id or inference profile, checked
    as the embeddings route checks them) at its dimensions, as `input_type` where the model takes one."""
    config = wiring.settings()
    spec = resolve_spec(
        model_id=model_id,
        dimensions=dimensions,
        default_model_id=config.default_model_id,
        allowed_profiles=config.inference_profiles,
    )
    if not spec.model.input_types:
        return spec
    return resolve_spec(
        model_id=spec.invoke_id,
        dimensions=spec.dimensions,
        input_type=input_type,
        default_model_id=config.default_model_id,
        allowed_profiles=config.inference_profiles,
    )


def describe(name: str) -> stored.Collection:
    return store().describe(check_name(name))


def collections() -> schemas.CollectionList:
    return schemas.CollectionList(collections=[to_schema(c) for c in store().collections()])


def delete(name: str) -> schemas.CollectionDeleted:
    store().delete(check_name(name))
    return schemas.CollectionDeleted(name=name)


def upsert(name: str, request: schemas.UpsertRequest) -> schemas.UpsertResponse:
    collection = describe(name)
    check_documents(request.documents, collection)
    spec = collection_spec(collection.model, collection.dimensions)
    texts = [(index, doc.text) for index, doc in enumerate(request.documents) if doc.text is not None]
    for index, text in texts:
        check_text(text, spec.model, where=f"documents[{index}].text")
    embedded = embed(spec, [text for _, text in texts]) if texts else None
    vectors = iter(embedded.vectors if embedded is not None else ())
    documents = [
        stored.Document(
            id=doc.id,
            vector=[float(x) for x in next(vectors)] if doc.text is not None else doc.vector,
            metadata=doc.metadata,
            text=doc.text,
        )
        for doc in request.documents
    ]
    report = store().put(collection.name, documents)
    record_documents_upserted(report.documents, report.calls)
    tokens = embedded.input_tokens if embedded is not None else 0
    return schemas.UpsertResponse(
        upserted=report.documents,
        calls=report.calls,
        usage=schemas.UpsertUsage(
            input_tokens=tokens,
            requests=embedded.bedrock_calls if embedded is not None else 0,
            cost_usd=_cost(spec, tokens),
        ),
    )


def get_document(name: str, document_id: str) -> schemas.Document:
    collection = check_name(name)
    check_id(document_id, "document_id")
    found = store().get(collection, [document_id], with_vectors=True)
    if not found:
        raise NotFound(
            f"collection {collection} has no document with id '{shown(document_id)}'.",
            param="document_id",
            code="document_not_found",
        )
    document = found[0]
    return schemas.Document(
        id=document.id,
        text=document.text,
        metadata=dict(document.metadata),
        vector=[float(x) for x in document.vector] if document.vector is not None else None,
    )


def delete_documents(name: str, request: schemas.DeleteDocumentsRequest) -> schemas.DocumentsDeleted:
    collection = check_name(name)
    for index, document_id in enumerate(request.ids):
        check_id(document_id, f"ids[{index}]")
    report = store().delete_documents(collection, list(dict.fromkeys(request.ids)))
    record_vector_write_calls(report.calls)
    return schemas.DocumentsDeleted(deleted=report.documents)


def embed(spec: EmbedSpec, texts: Sequence[str]) -> EmbedResult:
    """Texts through the embedder and the cache (the embeddings route's path), usage recorded."""
    from embedrock.cache import with_cache
    from embedrock.observability import record_embedding

    result = with_cache(wiring.embedder(), wiring.cache()).embed(spec, list(texts))
    record_embedding(spec.model.id, len(texts), result)
    return result


def _cost(spec: EmbedSpec, tokens: int) -> float:
    from embedrock.pricing import cost_usd

    return cost_usd(spec.model, tokens)


def to_schema(collection: stored.Collection) -> schemas.Collection:
    return schemas.Collection(
        name=collection.name,
        model=collection.model,
        dimensions=collection.dimensions,
        metric=collection.metric,
        text_search=schemas.TextSearch(language=collection.text_language)
        if collection.text_language
        else None,
        created_at=collection.created_at,
    )


def _exists(name: str) -> Conflict:
    return Conflict(
        f"a collection named {name} already exists; choose another name or delete it first.",
        param="name",
        code="collection_exists",
    )
