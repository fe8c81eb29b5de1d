"""Lambda entry point: GET /models, GET /models/{model_id}, /health, /openapi.json, /docs.

Also the composition edge of the whole API's OpenAPI document: it alone gathers the routers of
every context (api and collections) to document every route of the route table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from embedrock.api.routers import all_routers as api_routers
from embedrock.api.routers import meta, models
from embedrock.http.docs import ApiDocument
from embedrock.http.resolver import build_resolver
from embedrock.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import Router


def every_router() -> list[Router]:
    """Every context's routers, imported on the first document request (not at cold start)."""
    from embedrock.collections import router as collections

    return [*api_routers(), collections.router]


DOCUMENT = ApiDocument(every_router)
app = build_resolver(models.router, meta.router, DOCUMENT.router())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resolver = DOCUMENT.swagger if event.get("resource") == "/docs" else app
    return resolver.resolve(event, context)
