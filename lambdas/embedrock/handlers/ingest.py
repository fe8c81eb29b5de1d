"""Lambda entry point: the ingest queue (S3 uploads and chunk tasks), with partial batch responses.

A message that fails is reported in batchItemFailures and made visible again after a backoff;
after the queue's maxReceiveCount it moves to the dead-letter queue, whose alarm fires.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from embedrock.bedrock.batch_limits import TERMINAL
from embedrock.ingest import assembly, messages
from embedrock.ingest import settings as ingest_settings
from embedrock.ingest.pipeline import Outcome
from embedrock.observability import (
    logger,
    metrics,
    record_documents_upserted,
    record_file_tokens,
    tracer,
)

# Seconds before a failed message is retried: doubles per attempt, within SQS's 12 hours.
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 900


class IngestProcessor(BatchProcessor):
    def __init__(self) -> None:
        # Report every failure as a batch item failure, even when the whole batch fails.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: Any) -> Any:
        response = super().failure_handler(record, exception)
        _back_off(record)
        return response


processor = IngestProcessor()


def record_handler(record: SQSRecord) -> None:
    attempt = int(record.attributes.approximate_receive_count)
    last_attempt = attempt >= ingest_settings.get().max_receives
    for task in messages.parse(record.body):
        _observe(_handle(task, last_attempt=last_attempt), attempt)


def _handle(task: messages.Task, *, last_attempt: bool) -> Outcome | None:
    if isinstance(task, messages.Ignored):
        logger.info("message ignored", extra={"reason": task.reason})
        return None
    if isinstance(task, messages.Upload):
        return assembly.pipeline(task.bucket).ingest(task.key, task.version_id)
    if isinstance(task, messages.BatchJobEnded):
        return _batch_job_ended(task)
    return assembly.pipeline(task.bucket).run_chunk(task.run_id, task.n, last_attempt=last_attempt)


def _batch_job_ended(task: messages.BatchJobEnded) -> Outcome | None:
    job = assembly.batch_job(task.job_arn)
    bucket = ingest_settings.get().bucket
    if job.status not in TERMINAL or bucket is None or not job.output_uri.startswith(f"s3://{bucket}/"):
        logger.info("batch job event ignored", extra={"job_arn": job.arn, "status": job.status})
        return None
    return assembly.pipeline(bucket).batch_job_finished(job)


def _observe(outcome: Outcome | None, attempt: int) -> None:
    if outcome is None:
        return
    logger.info(
        "ingest step",
        extra={"status": outcome.status, "key": outcome.key, "detail": outcome.detail, "attempt": attempt},
    )
    manifest = outcome.manifest
    if manifest is None:
        return
    metrics.add_metric(name=f"Files{manifest.status.title()}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="LinesEmbedded", unit=MetricUnit.Count, value=manifest.counts.embedded)
    metrics.add_metric(name="LinesRejected", unit=MetricUnit.Count, value=manifest.counts.rejected)
    metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=manifest.counts.cache_hits)
    if manifest.model is not None:
        record_file_tokens(manifest.model, manifest.input_tokens, manifest.batch_input_tokens)
    if manifest.collection is not None and manifest.status == "complete":
        record_documents_upserted(manifest.upserted, manifest.vector_write_calls)


def _back_off(record: SQSRecord) -> None:
    queue_url = ingest_settings.get().queue_url
    attempt = int(record.attributes.approximate_receive_count)
    if queue_url is None:
        return
    delay = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))
    try:
        assembly.sqs().change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
        )
    except Exception:  # the retry still happens, after the queue's visibility timeout
        logger.warning("could not shorten the retry delay", exc_info=True)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
