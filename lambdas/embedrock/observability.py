"""Logger, Tracer and Metrics shared by the handlers, and the per-request usage record.

Texts are never logged, traced or put in metrics: only counts, model ids and timings.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import warnings
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import EmbedResult

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "embedrock")

logger = Logger(service=SERVICE)
# Patch only botocore, the one library this code calls out with: the default patches (and so
# imports at cold start) every library X-Ray supports that happens to be installed.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Embedrock")


class _Metrics(Metrics):
    """Powertools Metrics that keeps nothing while metrics are disabled (POWERTOOLS_METRICS_DISABLED,
    as the local tools set it). Powertools would keep every value and, whatever the setting,
    print an EMF blob to stdout each time one metric reaches 100 values: hundreds of JSON lines
    in `embedrock perf`, `serve` and `ingest` terminals."""

    def add_metric(
        self, name: str, unit: MetricUnit | str, value: float, resolution: MetricResolution | int = 60
    ) -> None:
        if not is_metrics_disabled():
            super().add_metric(name=name, unit=unit, value=value, resolution=resolution)

    def add_dimension(self, name: str, value: str) -> None:
        if not is_metrics_disabled():
            super().add_dimension(name=name, value=value)


metrics = _Metrics(namespace=NAMESPACE, service=SERVICE)
THROTTLE_METRIC = "BedrockThrottles"

# At DEBUG these libraries log request contents: Powertools the parsed body, botocore the
# InvokeModel body. Pinned to INFO so a DEBUG log level never writes a caller's text.
for _chatty in ("aws_lambda_powertools.event_handler", "botocore"):
    logging.getLogger(_chatty).setLevel(logging.INFO)

# Requests that call no model (GET /models, errors, vectors-only similarity) publish no
# metric; Powertools would warn about that on every such request.
warnings.filterwarnings("ignore", message="No application metrics to publish")


# The pipeline's tokens embedded by Bedrock batch inference (also counted in InputTokens): the
# dashboard prices them at the batch price.
BATCH_TOKENS_METRIC = "BatchInputTokens"


def record_file_tokens(model_id: str, input_tokens: int, batch_tokens: int) -> None:
    """A pipeline file's tokens, with its Model dimension (one ingest invocation may handle files of
    several models, so each is its own EMF record rather than a dimension of the shared metrics)."""
    if is_metrics_disabled():
        return
    for name, value in (("InputTokens", input_tokens), (BATCH_TOKENS_METRIC, batch_tokens)):
        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=value,
            namespace=NAMESPACE,
            default_dimensions={"service": SERVICE},
        ) as metric:
            metric.add_dimension(name="Model", value=model_id)


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


def record_cache(model_id: str, *, hits: int, misses: int) -> None:
    """The embeddings cache's answer for one request's texts (only when the cache is on)."""
    metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=hits)
    metrics.add_metric(name="CacheMisses", unit=MetricUnit.Count, value=misses)
    logger.info("embedding cache", extra={"model": model_id, "cache_hits": hits, "cache_misses": misses})


_emf_lock = threading.Lock()


def record_throttle(model_id: str) -> None:
    """One throttled InvokeModel attempt (retried or not), as its own EMF record.

    Called from the embedder's worker threads, as it happens, so the count survives a request
    that fails. Two aggregations: by function (`service`, what the alarm watches) and by
    function and model (the dashboard).
    """
    if is_metrics_disabled():
        return
    record = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["service"], ["service", "Model"]],
                    "Metrics": [{"Name": THROTTLE_METRIC, "Unit": "Count"}],
                }
            ],
        },
        "service": SERVICE,
        "Model": model_id,
        THROTTLE_METRIC: 1,
    }
    line = json.dumps(record, separators=(",", ":")) + "\n"
    with _emf_lock:  # one whole line per record, whatever other threads print
        sys.stdout.write(line)
        sys.stdout.flush()


# Collections: counted per function (`service`), never per collection (unbounded cardinality), and
# each as its own EMF record so that a request's Model dimension does not split them.
def _service_metric(name: str, unit: MetricUnit, value: float) -> None:
    if is_metrics_disabled():
        return
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ):
        pass


def record_vector_write_calls(calls: int) -> None:
    """S3 Vectors PutVectors and DeleteVectors calls a request made."""
    _service_metric("VectorWriteCalls", MetricUnit.Count, calls)


def record_documents_upserted(documents: int, calls: int) -> None:
    """Documents written to a collection, and the PutVectors calls that wrote them."""
    _service_metric("DocumentsUpserted", MetricUnit.Count, documents)
    record_vector_write_calls(calls)
    logger.info("documents upserted", extra={"documents": documents, "vector_write_calls": calls})


def record_collection_query(latency_ms: float) -> None:
    """One collection search, and the time the store's QueryVectors call took."""
    _service_metric("CollectionQueries", MetricUnit.Count, 1)
    _service_metric("CollectionQueryLatency", MetricUnit.Milliseconds, latency_ms)


def record_vector_store_throttle() -> None:
    """One throttled S3 Vectors attempt (retried or not)."""
    _service_metric("VectorStoreThrottles", MetricUnit.Count, 1)
