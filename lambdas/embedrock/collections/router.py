"""The collections routes: collections, their documents, and search (services imported per call,
so the models function, which imports this router only to document it, loads none of them)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from embedrock.collections.schemas import (
    Collection,
    CollectionDeleted,
    CollectionList,
    CreateCollectionRequest,
    DeleteDocumentsRequest,
    Document,
    DocumentsDeleted,
    SearchRequest,
    SearchResponse,
    UpsertRequest,
    UpsertResponse,
)
from embedrock.http.responses import responses
from embedrock.http.routers import new_router

router = new_router()
TAGS = ["Collections"]
_NAME = Path(description="The collection's name.")
_NOT_FOUND = {404: "No collection of that name (collection_not_found), or unknown route."}
_DOCUMENT_NOT_FOUND = {404: "No such collection (collection_not_found) or document (document_not_found)."}
_CONFLICT = {
    409: "A collection of that name exists (collection_exists), or the deployment keeps its maximum "
    "number of collections (collection_limit_reached; CDK context embedrock:maxCollections)."
}
# The store's errors: S3 Vectors throttling or quota (429), unavailable (503), timeout (504).
_STORE = (429, 503, 504)


@router.post(
    "/collections",
    summary="Create a collection",
    description="A collection keeps documents' vectors (one S3 Vectors index) made with one model at one "
    "dimension and metric; `text_search` adds full-text and hybrid search on their text.",
    tags=TAGS,
    responses=responses("The collection.", 400, 403, 409, *_STORE, described=_CONFLICT, success_status=201),
)
def create_collection(request: Annotated[CreateCollectionRequest, Body()]) -> Response[Collection]:
    from embedrock.collections import service

    created = service.create(request)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=created,
    )


@router.get(
    "/collections",
    summary="List collections",
    tags=TAGS,
    responses=responses("The collections.", 403, *_STORE),
)
def list_collections() -> CollectionList:
    from embedrock.collections import service

    return service.collections()


@router.get(
    "/collections/<name>",
    summary="Describe a collection",
    tags=TAGS,
    responses=responses("The collection.", 400, 403, 404, *_STORE, described=_NOT_FOUND),
)
def get_collection(name: Annotated[str, _NAME]) -> Collection:
    from embedrock.collections import service

    return service.to_schema(service.describe(unquote(name)))


@router.delete(
    "/collections/<name>",
    summary="Delete a collection and its documents",
    tags=TAGS,
    responses=responses("Deleted.", 400, 403, 404, *_STORE, described=_NOT_FOUND),
)
def delete_collection(name: Annotated[str, _NAME]) -> CollectionDeleted:
    from embedrock.collections import service

    return service.delete(unquote(name))


@router.post(
    "/collections/<name>/documents",
    summary="Upsert documents",
    description="Texts are embedded (as search_document) with the collection's model and dimensions; "
    "vectors are stored as given. A document whose id is stored already is replaced.",
    tags=TAGS,
    responses=responses(
        "Documents written, with the calls and Bedrock usage.",
        400,
        403,
        404,
        413,
        502,
        *_STORE,
        described=_NOT_FOUND,
    ),
)
def upsert_documents(
    name: Annotated[str, _NAME], request: Annotated[UpsertRequest, Body()]
) -> UpsertResponse:
    from embedrock.collections import service

    return service.upsert(unquote(name), request)


@router.get(
    "/collections/<name>/documents/<document_id>",
    summary="Get one document",
    tags=TAGS,
    responses=responses(
        "The document, with its vector.", 400, 403, 404, *_STORE, described=_DOCUMENT_NOT_FOUND
    ),
)
def get_document(
    name: Annotated[str, _NAME],
    document_id: Annotated[str, Path(description="The document's id (percent-encode '/' and '%').")],
) -> Document:
    from embedrock.collections import service

    return service.get_document(unquote(name), unquote(document_id))


@router.post(
    "/collections/<name>/documents:delete",
    summary="Delete documents by id",
    tags=TAGS,
    responses=responses("How many ids were deleted.", 400, 403, 404, *_STORE, described=_NOT_FOUND),
)
def delete_documents(
    name: Annotated[str, _NAME], request: Annotated[DeleteDocumentsRequest, Body()]
) -> DocumentsDeleted:
    from embedrock.collections import service

    return service.delete_documents(unquote(name), request)


@router.post(
    "/collections/<name>/search",
    summary="Search a collection",
    description="`mode`: vector (default), text (BM25) or hybrid (reciprocal rank fusion); `filter` in S3 "
    "Vectors' filter language; `rerank` re-scores the results' texts with a Bedrock rerank model. The "
    "response's `score` names what each result's score is.",
    tags=TAGS,
    responses=responses("Results, best first.", 400, 403, 404, 413, 502, *_STORE, described=_NOT_FOUND),
)
def search_collection(
    name: Annotated[str, _NAME], request: Annotated[SearchRequest, Body()]
) -> SearchResponse:
    from embedrock.collections import search

    return search.search(unquote(name), request)
