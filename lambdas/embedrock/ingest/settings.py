"""Settings of the ingest function, from environment variables parsed once at cold start."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from embedrock.bedrock.batch_limits import MIN_RECORDS
from embedrock.settings import load_model


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Where chunk tasks of large files go (the ingest queue itself); unset: chunks run in line.
    queue_url: str | None = Field(default=None, alias="EMBEDROCK_INGEST_QUEUE_URL")
    # Lines per chunk: each chunk is one message, embedded by one invocation.
    chunk_lines: int = Field(default=1000, ge=1, le=100_000, alias="EMBEDROCK_INGEST_CHUNK_LINES")
    # The queue's maxReceiveCount: the attempt that fails for the last time writes a failed manifest.
    max_receives: int = Field(default=5, ge=1, le=1000, alias="EMBEDROCK_INGEST_MAX_RECEIVES")
    # The ingestion bucket: batch job events name theirs, and jobs of other stacks are ignored.
    bucket: str | None = Field(default=None, alias="EMBEDROCK_INGEST_BUCKET")
    # Bedrock batch inference: on when the service role it needs is set.
    batch_role_arn: str | None = Field(default=None, alias="EMBEDROCK_BATCH_ROLE_ARN")
    # Files with at least this many valid lines go to batch inference (when the model supports it).
    batch_min_lines: int = Field(default=10_000, ge=MIN_RECORDS, alias="EMBEDROCK_BATCH_MIN_LINES")
    # Records per batch job (Bedrock's quota is commonly 50,000); bigger files get several jobs.
    batch_max_records: int = Field(default=50_000, ge=MIN_RECORDS, alias="EMBEDROCK_BATCH_MAX_RECORDS")


@lru_cache(maxsize=1)
def get() -> IngestSettings:
    return load_model(IngestSettings)
