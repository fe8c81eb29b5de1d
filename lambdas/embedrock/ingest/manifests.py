"""The manifest of a file: what went in, what came out, what was reported, and what it cost."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from embedrock import catalog
from embedrock.errors import ApiError
from embedrock.ingest.documents import (
    ChunkResult,
    Counts,
    Durations,
    Manifest,
    ManifestError,
    Plan,
    iso,
)
from embedrock.ingest.layout import InputFile
from embedrock.ingest.object_store import ObjectInfo
from embedrock.pricing import cost_usd, round_usd


def complete(
    plan: Plan,
    results: Sequence[ChunkResult],
    *,
    output: str,
    output_bytes: int,
    output_sha256: str,
    assemble_ms: float,
) -> Manifest:
    finished = time.time()
    rejected = sorted(
        [*plan.rejected, *(r for result in results for r in result.rejected)], key=lambda r: r.line
    )
    embedded = sum(result.embedded for result in results)
    counts = Counts(
        lines=plan.lines,
        embedded=embedded,
        rejected=len(rejected),
        cache_hits=sum(result.cache_hits for result in results),
        chunks=len(plan.chunks),
        bedrock_calls=sum(result.bedrock_calls for result in results),
        batch_jobs=len(plan.jobs),
    )
    if counts.lines != counts.embedded + counts.rejected:
        # Never publish a manifest that loses a line: fail loudly instead (the message is retried).
        raise AssertionError(
            f"run {plan.run_id}: {counts.lines} lines != {embedded} embedded + {len(rejected)} rejected"
        )
    tokens = sum(result.input_tokens for result in results)
    batch_tokens = sum(result.batch_tokens for result in results)
    price, batch_price = _price(plan), _batch_price(plan)
    model = _model(plan)
    # Per mode: batch inference's tokens at the batch price; cache hits were never sent.
    images = sum(result.images for result in results)
    batch_images = sum(result.batch_images for result in results)
    cost = cost_usd(model, tokens, images=images) + (
        cost_usd(model, batch_tokens, images=batch_images, batch=True)
        if batch_tokens or batch_images
        else 0.0
    )
    return Manifest(
        status="complete",
        **_described(plan, output),
        output_bytes=output_bytes,
        output_sha256=output_sha256,
        upserted=sum(result.upserted for result in results),
        vector_write_calls=sum(result.vector_write_calls for result in results),
        counts=counts,
        input_tokens=tokens + batch_tokens,
        batch_input_tokens=batch_tokens,
        input_images=images + batch_images,
        price_per_million_tokens=price,
        batch_price_per_million_tokens=batch_price,
        cost_usd=round_usd(cost),
        durations_ms=Durations(
            total=round((finished - plan.started_at) * 1000, 1),
            plan=round(plan.plan_ms, 1),
            embed=round(sum(result.duration_ms for result in results), 1),
            bedrock=round(sum(result.bedrock_ms for result in results), 1),
            assemble=round(assemble_ms, 1),
        ),
        started_at=iso(plan.started_at),
        finished_at=iso(finished),
        rejected=rejected,
    )


class Upload(Protocol):
    @property
    def file(self) -> InputFile: ...
    @property
    def info(self) -> ObjectInfo: ...
    @property
    def sha256(self) -> str: ...
    @property
    def started(self) -> float: ...


def rejected_file(upload: Upload, *, lines: int, error: ApiError) -> Manifest:
    """A file rejected whole (unsupported format, invalid configuration): every line is reported."""
    finished, file = time.time(), upload.file
    return Manifest(
        status="rejected",
        input=file.key,
        input_version_id=upload.info.version_id,
        input_sha256=upload.sha256,
        input_bytes=upload.info.size,
        format=file.format,
        output=file.output_key,
        counts=Counts(lines=lines, embedded=0, rejected=lines),
        durations_ms=Durations(total=round((finished - upload.started) * 1000, 1)),
        started_at=iso(upload.started),
        finished_at=iso(finished),
        error=ManifestError(code=error.code, message=error.message, param=error.param),
    )


def failed(plan: Plan, *, output: str, message: str, error: ApiError) -> Manifest:
    """Bedrock kept failing for a chunk: nothing is published, every line is reported."""
    finished = time.time()
    return Manifest(
        status="failed",
        **_described(plan, output),
        counts=Counts(lines=plan.lines, embedded=0, rejected=plan.lines, chunks=len(plan.chunks)),
        price_per_million_tokens=_price(plan),
        durations_ms=Durations(
            total=round((finished - plan.started_at) * 1000, 1), plan=round(plan.plan_ms, 1)
        ),
        started_at=iso(plan.started_at),
        finished_at=iso(finished),
        rejected=plan.rejected,
        error=ManifestError(code=error.code, message=message),
    )


def _price(plan: Plan) -> float:
    return _model(plan).price_per_million_tokens


def _batch_price(plan: Plan) -> float | None:
    return _model(plan).batch_price_per_million_tokens if plan.jobs else None


def _model(plan: Plan) -> catalog.CatalogModel:
    model = catalog.find(plan.config["model"])
    assert model is not None  # the plan's configuration was resolved against the catalog
    return model


def _described(plan: Plan, output: str) -> dict[str, Any]:
    """What every manifest says of its input, run and configuration."""
    return {
        "input": plan.input_key,
        "input_version_id": plan.version_id,
        "input_sha256": plan.sha256,
        "input_bytes": plan.bytes,
        "format": plan.format,
        "output": output,
        "run_id": plan.run_id,
        "mode": plan.mode,
        "model": plan.config["model"],
        "invoke_model": plan.config.get("invoke_model") or plan.config["model"],
        "dimensions": plan.config["dimensions"],
        "collection": plan.config.get("collection"),
        "config": plan.config,
        "config_sources": plan.config_sources,
    }
