"""Planning a run: read the file once, check every line, write the valid ones out in chunks."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from embedrock.embed_spec import EmbedSpec, check_text
from embedrock.errors import InvalidRequest
from embedrock.ingest import collection_fill, images
from embedrock.ingest.batch_inference import BatchPolicy, plan_jobs
from embedrock.ingest.config import FileConfig
from embedrock.ingest.documents import ChunkPlan, Plan
from embedrock.ingest.formats import Record, Rejection, read_items
from embedrock.ingest.layout import JSON, JSONL, Format, InputFile, RunKeys
from embedrock.ingest.object_store import ObjectInfo, Store


@dataclass
class _Checker:
    spec: EmbedSpec
    bucket: str
    image_lookups: Mapping[str, images.Lookup]
    fmt: Format
    fills_collection: bool = False
    first_line_of: dict[str, int] = field(default_factory=dict)

    def check(self, record: Record) -> Record | Rejection:
        """The record as its chunk keeps it (an s3 image's ETag added), or why it is rejected."""
        try:
            if record.text is not None:
                check_text(record.text, self.spec.model, where="the text")
            record = images.plan_record(
                record, self.spec.model, bucket=self.bucket, lookups=self.image_lookups
            )
            if self.fills_collection:  # what the collection would refuse is reported before any call
                collection_fill.check(record, self.fmt)
        except InvalidRequest as error:
            return Rejection(line=record.line, code=error.code, reason=error.message)
        key = str(record.id)
        if key in self.first_line_of:
            return Rejection(
                line=record.line,
                code="duplicate_id",
                reason=f"id {record.id!r} already appears on line {self.first_line_of[key]}; "
                "ids must be unique within a file.",
            )
        self.first_line_of[key] = record.line
        return record


def make_plan(
    store: Store,
    *,
    file: InputFile,
    fmt: Format,
    content: IO[bytes],
    info: ObjectInfo,
    sha256: str,
    config: FileConfig,
    run_id: str,
    chunk_lines: int,
    batch: BatchPolicy | None = None,
    image_lookups: Mapping[str, images.Lookup] | None = None,
) -> Plan:
    """Writes each chunk's records, then the plan (so a plan's chunks always exist)."""
    started, clock = time.time(), time.perf_counter()
    keys = RunKeys(run_id)
    checker = _Checker(
        config.spec, store.bucket, image_lookups or {}, fmt, fills_collection=config.collection is not None
    )
    rejected: list[Rejection] = []
    chunks: list[ChunkPlan] = []
    pending: list[Record] = []
    lines = 0

    def flush() -> None:
        if pending:
            n = len(chunks)
            store.put(
                keys.chunk_input(n), "\n".join(r.to_json() for r in pending).encode(), content_type=JSONL
            )
            chunks.append(
                ChunkPlan(n=n, records=len(pending), first_line=pending[0].line, last_line=pending[-1].line)
            )
            pending.clear()

    content.seek(0)
    for item in read_items(fmt, content):
        lines += 1
        checked = item if isinstance(item, Rejection) else checker.check(item)
        if isinstance(checked, Rejection):
            rejected.append(checked)
            continue
        pending.append(checked)
        if len(pending) >= chunk_lines:
            flush()
    flush()
    jobs = plan_jobs(chunks, config.spec.model, batch)
    plan = Plan(
        run_id=run_id,
        input_key=file.key,
        version_id=info.version_id,
        name=file.name,
        format=fmt,
        sha256=sha256,
        bytes=info.size,
        config=config.canonical(),
        config_sources=config.sources,
        mode="batch" if jobs else "on_demand",
        lines=lines,
        rejected=rejected,
        chunks=chunks,
        jobs=jobs,
        started_at=started,
        plan_ms=(time.perf_counter() - clock) * 1000,
    )
    store.put(keys.plan, plan.to_bytes(), content_type=JSON)
    return plan
