"""POST /rerank: order documents by relevance to a query with a Bedrock rerank model."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from embedrock.api.rerank_schemas import RERANK_MODEL_IDS, RerankRequest, RerankResponse
from embedrock.http.responses import responses
from embedrock.http.routers import new_router

router = new_router()


@router.post(
    "/rerank",
    summary="Rerank documents by relevance to a query",
    description="Cohere's rerank shape: `query`, `documents` (strings or `{text}` objects), `top_n`, "
    f"`return_documents`. Models: {RERANK_MODEL_IDS}; each is offered only in some AWS regions, and "
    "asking for one that is not offered in this service's region is a 400 naming the regions it runs in.",
    tags=["Rerank"],
    responses=responses("Ranked `results`, best first.", 400, 403, 429, 502, 503, 504),
)
def rerank(request: Annotated[RerankRequest, Body()]) -> RerankResponse:
    from embedrock.api.services import rerank

    return rerank.rerank(request)
