"""One router per capability; handlers include the routers their function serves."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import Router


def all_routers() -> list[Router]:
    """Every router of the api context, for the whole API's OpenAPI document (imported on the
    first document request, not at cold start)."""
    from embedrock.api.routers import embeddings, meta, models, rerank, similarity

    return [embeddings.router, models.router, similarity.router, rerank.router, meta.router]
