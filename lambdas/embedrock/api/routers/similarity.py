"""POST /similarity: scores, matrices and top-k search, from texts or vectors."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from embedrock.api.schemas import SIMILARITY_SHAPES, SimilarityRequest, SimilarityResponse
from embedrock.http.responses import responses
from embedrock.http.routers import new_router

router = new_router()


@router.post(
    "/similarity",
    summary="Compare texts or vectors",
    description=f"Send {SIMILARITY_SHAPES}. Texts are embedded once each; vectors need no Bedrock call. "
    "With `query` and `documents`, `input_type` is the query's purpose only (default search_query): "
    "the documents are embedded as search_document (Nova: GENERIC_INDEX) whatever it says.",
    tags=["Similarity"],
    responses=responses(
        "`score`, `scores`, `matrix` or ranked `results`, by request shape.",
        400,
        403,
        413,
        429,
        502,
        503,
        504,
    ),
)
def compare(request: Annotated[SimilarityRequest, Body()]) -> SimilarityResponse:
    from embedrock.api.services import compare

    return compare.compare(request)
