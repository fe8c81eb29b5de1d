"""POST /embeddings and the OpenAI-compatible POST /v1/embeddings."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from embedrock.api.schemas import (
    EmbeddingsRequest,
    EmbeddingsResponse,
    OpenAIEmbeddingsRequest,
    OpenAIEmbeddingsResponse,
    PartialEmbeddingsResponse,
)
from embedrock.http.responses import responses
from embedrock.http.routers import new_router

router = new_router()

_ERRORS = (400, 403, 413, 429, 502, 503, 504)


@router.post(
    "/embeddings",
    summary="Embed texts",
    description="Vectors for `texts` (or one `text`) in input order. Titan takes one text per "
    "Bedrock call (run concurrently), Cohere up to 96; everything is checked before any call. "
    'With `"partial": true`, texts Bedrock failed for get `null` and an entry in `errors`.',
    tags=["Embeddings"],
    responses=responses("The vectors, in input order.", *_ERRORS),
)
def create_embeddings(
    request: Annotated[EmbeddingsRequest, Body()],
) -> EmbeddingsResponse | PartialEmbeddingsResponse:
    # Imported on first use: the numpy-backed core is not needed to load the module
    # (the models function imports this router only to document it).
    from embedrock.api.services import embed

    return embed.create_embeddings(request)


@router.post(
    "/v1/embeddings",
    summary="Embed texts (OpenAI-compatible)",
    description="The OpenAI embeddings API over Bedrock: point the official OpenAI client's "
    "base_url here; `model` takes Bedrock model ids.",
    tags=["Embeddings"],
    responses=responses("The vectors, OpenAI-style.", *_ERRORS),
)
def create_openai_embeddings(request: Annotated[OpenAIEmbeddingsRequest, Body()]) -> OpenAIEmbeddingsResponse:
    from embedrock.api.services import embed

    return embed.create_openai_embeddings(request)
