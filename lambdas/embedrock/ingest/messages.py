"""What arrives on the ingest queue: S3 notifications, and the pipeline's own chunk tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

CHUNK_KIND = "embedrock.chunk"
BATCH_JOB_EVENT = ("aws.bedrock", "Batch Inference Job State Change")  # source, detail-type


@dataclass(frozen=True)
class Upload:
    bucket: str
    key: str
    version_id: str | None


@dataclass(frozen=True)
class ChunkTask:
    bucket: str
    run_id: str
    n: int


@dataclass(frozen=True)
class BatchJobEnded:
    """EventBridge: a Bedrock batch inference job changed state (the rule passes terminal ones)."""

    job_arn: str
    status: str


@dataclass(frozen=True)
class Ignored:
    reason: str


Task = Upload | ChunkTask | BatchJobEnded | Ignored


class PoisonMessage(ValueError):
    """A message no retry can process: after the queue's retries it lands in the DLQ."""


def chunk_message(bucket: str, run_id: str, n: int) -> str:
    return json.dumps({"kind": CHUNK_KIND, "bucket": bucket, "run_id": run_id, "chunk": n})


def parse(body: str) -> list[Task]:
    try:
        message = json.loads(body)
    except ValueError:
        raise PoisonMessage("the message body is not JSON") from None
    if not isinstance(message, dict):
        raise PoisonMessage("the message body is not a JSON object")
    if message.get("kind") == CHUNK_KIND:
        return [_chunk(message)]
    if (message.get("source"), message.get("detail-type")) == BATCH_JOB_EVENT:
        return [_batch_job(message)]
    if message.get("Event") == "s3:TestEvent":
        # S3 sends one when the notification is configured (at deploy): nothing to do.
        return [Ignored("S3 test event")]
    if isinstance(message.get("Records"), list):
        return [_s3_record(record) for record in message["Records"]]
    raise PoisonMessage(f"unknown message with keys {sorted(message)[:8]}")


def _chunk(message: dict[str, Any]) -> ChunkTask:
    try:
        return ChunkTask(
            bucket=str(message["bucket"]), run_id=str(message["run_id"]), n=int(message["chunk"])
        )
    except (KeyError, TypeError, ValueError):
        raise PoisonMessage("a chunk task needs bucket, run_id and chunk") from None


def _batch_job(message: dict[str, Any]) -> BatchJobEnded:
    detail = message.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("batchJobArn"), str):
        raise PoisonMessage("a batch job event without detail.batchJobArn")
    return BatchJobEnded(job_arn=detail["batchJobArn"], status=str(detail.get("status", "")))


def _s3_record(record: Any) -> Task:
    try:
        if record["eventSource"] != "aws:s3" or not str(record["eventName"]).startswith("ObjectCreated:"):
            return Ignored(f"{record['eventSource']} {record['eventName']}")
        s3 = record["s3"]
        # S3 URL-encodes keys in notifications (a space arrives as '+').
        key = unquote_plus(s3["object"]["key"])
        return Upload(bucket=s3["bucket"]["name"], key=key, version_id=s3["object"].get("versionId"))
    except (KeyError, TypeError):
        raise PoisonMessage("an S3 notification record without bucket or key") from None
