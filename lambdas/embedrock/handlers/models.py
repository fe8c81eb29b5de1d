"""Lambda entry point: GET /models, GET /models/{model_id}, /health, /openapi.json, /docs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from embedrock.api import docs
from embedrock.api.app import build_resolver
from embedrock.api.routers import meta, models
from embedrock.observability import logger, metrics, tracer

app = build_resolver(models.router, meta.router, docs.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resolver = docs.swagger() if event.get("resource") == "/docs" else app
    return resolver.resolve(event, context)
