"""Logger, Tracer and Metrics shared by the handlers, and the per-request usage record.

Texts are never logged, traced or put in metrics: only counts, model ids and timings.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import EmbedResult

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "embedrock")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Embedrock"), service=SERVICE)

# At DEBUG these libraries log request contents: Powertools the parsed body, botocore the
# InvokeModel body. Pinned to INFO so a DEBUG log level never writes a caller's text.
for _chatty in ("aws_lambda_powertools.event_handler", "botocore"):
    logging.getLogger(_chatty).setLevel(logging.INFO)

# Requests that call no model (GET /models, errors, vectors-only similarity) publish no
# metric; Powertools would warn about that on every such request.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def record_embedding(model_id: str, n_texts: int, result: EmbedResult) -> None:
    """One record per request (a request with several Bedrock rounds passes their sum)."""
    metrics.add_dimension(name="Model", value=model_id)
    metrics.add_metric(name="Texts", unit=MetricUnit.Count, value=n_texts)
    metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=result.input_tokens)
    metrics.add_metric(name="BedrockCalls", unit=MetricUnit.Count, value=result.bedrock_calls)
    metrics.add_metric(name="BedrockLatency", unit=MetricUnit.Milliseconds, value=result.bedrock_ms)
    tracer.put_annotation(key="model", value=model_id)
    logger.info(
        "embedded",
        extra={
            "model": model_id,
            "text_count": n_texts,
            "input_tokens": result.input_tokens,
            "bedrock_calls": result.bedrock_calls,
            "bedrock_ms": round(result.bedrock_ms, 1),
        },
    )
