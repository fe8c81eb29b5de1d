"""Lambda entry point: GET /models, GET /models/{model_id}, /health, /openapi.json, /docs."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from embedrock.api.app import EmbedrockResolver, build_resolver
from embedrock.api.openapi import TITLE
from embedrock.api.routers import meta, models
from embedrock.observability import logger, metrics, tracer

app = build_resolver(models.router, meta.router)


@cache
def _docs() -> EmbedrockResolver:
    """Swagger UI at /docs, set up on its first request: Powertools' OpenAPI models take
    ~130 ms to import, which every cold start of this function would pay otherwise.
    """
    docs = build_resolver()
    # The UI's document comes from EmbedrockResolver.get_openapi_schema: every route of the API.
    docs.enable_swagger(path="/docs", title=TITLE)
    return docs


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resolver = _docs() if event.get("resource") == "/docs" else app
    return resolver.resolve(event, context)
