"""The ingest function's AWS side, built once per container: S3 and SQS clients, and pipelines."""

from __future__ import annotations

import os
from collections.abc import Sequence
from threading import Lock
from typing import Any, Literal, Protocol, cast

from embedrock import wiring
from embedrock.bedrock.batch_jobs import BatchJobs, Job
from embedrock.ingest import messages
from embedrock.ingest import settings as ingest_settings
from embedrock.ingest.batch_inference import BatchPolicy, BatchRunner
from embedrock.ingest.cached_vectors import CachedVectors
from embedrock.ingest.object_store import S3Client, S3Store
from embedrock.ingest.pipeline import Enqueue, Pipeline
from embedrock.ingest.settings import IngestSettings

_SEND_BATCH = 10  # SQS SendMessageBatch takes at most 10 entries


class SqsClient(Protocol):
    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]: ...

    def change_message_visibility(self, **kwargs: Any) -> dict[str, Any]: ...


_clients: dict[str, Any] = {}
_lock = Lock()


def _client(service: Literal["s3", "sqs"]) -> Any:
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard"})
            region = os.environ.get("AWS_REGION")
            if service == "s3":
                _clients[service] = boto3.client("s3", region_name=region, config=config)
            else:
                _clients[service] = boto3.client("sqs", region_name=region, config=config)
        return _clients[service]


def s3() -> S3Client:
    return cast(S3Client, _client("s3"))


def sqs() -> SqsClient:
    return cast(SqsClient, _client("sqs"))


def reset() -> None:
    """Forget the clients (tests create them inside moto's mock)."""
    with _lock:
        _clients.clear()


def pipeline(bucket: str) -> Pipeline:
    config, ingest = wiring.settings(), ingest_settings.get()
    return Pipeline(
        store=S3Store(s3(), bucket),
        embedder=wiring.embedder(),
        default_model_id=config.default_model_id,
        max_concurrency=config.max_concurrency,
        chunk_lines=ingest.chunk_lines,
        enqueue=_enqueue(bucket, ingest.queue_url) if ingest.queue_url else None,
        cache=_cached_vectors(),
        batch=_batch(bucket, ingest),
        allowed_profiles=config.inference_profiles,
        # Built on the first file that names a collection (a file naming one without a bucket is rejected).
        vector_store=wiring.vector_store if config.vector_bucket is not None else None,
    )


def batch_job(job_arn: str) -> Job:
    """The job as Bedrock describes it now (the event may be stale or from another stack)."""
    role_arn = ingest_settings.get().batch_role_arn
    if role_arn is None:
        raise LookupError(
            "a batch job event, but batch inference is not configured (EMBEDROCK_BATCH_ROLE_ARN)"
        )
    return BatchJobs(wiring.control_client(), role_arn=role_arn).describe(job_arn)


def _cached_vectors() -> CachedVectors | None:
    cache = wiring.cache()
    return None if cache is None else CachedVectors(cache)


def _batch(bucket: str, ingest: IngestSettings) -> BatchRunner | None:
    if ingest.batch_role_arn is None:
        return None
    return BatchRunner(
        BatchJobs(wiring.control_client(), role_arn=ingest.batch_role_arn),
        bucket=bucket,
        policy=BatchPolicy(min_lines=ingest.batch_min_lines, max_records=ingest.batch_max_records),
    )


def _enqueue(bucket: str, queue_url: str) -> Enqueue:
    def send(run_id: str, chunks: Sequence[int]) -> None:
        for start in range(0, len(chunks), _SEND_BATCH):
            entries = [
                {"Id": str(n), "MessageBody": messages.chunk_message(bucket, run_id, n)}
                for n in chunks[start : start + _SEND_BATCH]
            ]
            failed = sqs().send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
            if failed:
                raise RuntimeError(f"could not queue chunks of run {run_id}: {failed}")

    return send
