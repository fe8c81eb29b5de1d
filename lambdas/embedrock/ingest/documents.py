"""The JSON documents a run writes: its plan, one result per chunk, and the file's manifest."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock.ingest.formats import Rejection
from embedrock.ingest.layout import Format

# Part of every run id: bump it when the output a run produces changes for the same input.
PIPELINE_VERSION = 2  # 2: outputs keyed by the input name with its extension

Mode = Literal["on_demand", "batch"]


def run_id(
    name: str, content_sha256: str, config: dict[str, Any], images: list[list[str]] | None = None
) -> str:
    """The same name, content, configuration and s3 images (their ETags) make the same run."""
    identity: dict[str, Any] = {
        "version": PIPELINE_VERSION,
        "name": name,
        "sha256": content_sha256,
        "config": config,
    }
    if images:  # absent for a file without s3 images: its run id is what it always was
        identity["images"] = images
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_bytes(self) -> bytes:
        return self.model_dump_json(indent=2).encode()


class ChunkPlan(_Document):
    n: int
    records: int
    first_line: int
    last_line: int


class BatchJobPlan(_Document):
    """Consecutive chunks embedded by one Bedrock batch inference job."""

    j: int
    chunks: list[int]
    records: int


class Plan(_Document):
    run_id: str
    input_key: str
    version_id: str | None
    name: str
    format: Format
    sha256: str
    bytes: int
    config: dict[str, Any]
    config_sources: dict[str, str]
    mode: Mode
    lines: int
    rejected: list[Rejection]
    chunks: list[ChunkPlan]
    started_at: float
    plan_ms: float
    jobs: list[BatchJobPlan] = []

    def spec(self) -> EmbedSpec:
        """The file's spec, invoked as the file asked (a profile id stays one). Plans written before
        invoke_model and truncate existed lack them: the model's own id, and no truncate asked."""
        config = self.config
        return resolve_spec(
            model_id=config.get("invoke_model") or config["model"],
            dimensions=config["dimensions"],
            normalize=config["normalize"],
            input_type=config["input_type"],
            embedding_type=config["embedding_type"],
            truncate=config.get("truncate"),
        )


class ChunkResult(_Document):
    n: int
    records: int
    embedded: int
    rejected: list[Rejection]
    input_tokens: int  # on demand
    cache_hits: int
    bedrock_calls: int
    bedrock_ms: float
    duration_ms: float
    batch_tokens: int = 0
    # Embedded lines with an image, billed per image where the model prices them (cache hits excluded).
    images: int = 0
    batch_images: int = 0
    # Filling a collection: documents upserted, and the PutVectors calls it took.
    upserted: int = 0
    vector_write_calls: int = 0


class Counts(_Document):
    lines: int
    embedded: int
    rejected: int
    cache_hits: int = 0
    chunks: int = 0
    bedrock_calls: int = 0
    batch_jobs: int = 0


class Durations(_Document):
    total: float
    plan: float = 0.0
    embed: float = 0.0
    bedrock: float = 0.0
    assemble: float = 0.0


class ManifestError(_Document):
    code: str
    message: str
    param: str | None = None


class Manifest(_Document):
    """output/<input file name>.manifest.json. Always: counts.lines == counts.embedded + counts.rejected."""

    status: Literal["complete", "rejected", "failed"]
    input: str
    input_version_id: str | None = None
    input_sha256: str | None = None
    input_bytes: int = 0
    format: Format | None = None
    output: str
    # What was published, checked before a re-run trusts it (a truncated or deleted output is rebuilt).
    output_bytes: int = 0
    output_sha256: str | None = None
    run_id: str | None = None
    mode: Mode | None = None
    model: str | None = None  # the catalog model
    # The id Bedrock was invoked with: the model's, or the inference profile the file named.
    invoke_model: str | None = None
    dimensions: int | None = None
    # The collection the file fills, the documents upserted into it (= counts.embedded when
    # complete) and the PutVectors calls that took.
    collection: str | None = None
    upserted: int = 0
    vector_write_calls: int = 0
    config: dict[str, Any] = {}
    config_sources: dict[str, str] = {}
    counts: Counts
    input_tokens: int = 0  # on demand and batch: the tokens paid for (cache hits are not)
    batch_input_tokens: int = 0
    input_images: int = 0  # images billed per image, on demand and batch (cache hits are not)
    price_per_million_tokens: float | None = None
    batch_price_per_million_tokens: float | None = None
    # USD Bedrock bills for the run: on-demand tokens at the catalog price, batch tokens at the batch
    # price (embedrock.pricing, rounded to 1e-9). Manifests of earlier versions name it
    # estimated_cost_usd, still read.
    cost_usd: float = Field(default=0.0, validation_alias=AliasChoices("cost_usd", "estimated_cost_usd"))
    durations_ms: Durations
    started_at: str
    finished_at: str
    # When status is "rejected" every line is rejected for `error`; these are per-line reasons.
    rejected: list[Rejection] = []
    error: ManifestError | None = None


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
