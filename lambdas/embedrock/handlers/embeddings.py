"""Lambda entry point: POST /embeddings, POST /v1/embeddings, and direct invocation."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from embedrock.api import direct
from embedrock.api.routers import embeddings
from embedrock.http.resolver import build_resolver
from embedrock.observability import logger, metrics, tracer

app = build_resolver(embeddings.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict) or "httpMethod" not in event:
        return direct.invoke(event, context)
    return app.resolve(event, context)
