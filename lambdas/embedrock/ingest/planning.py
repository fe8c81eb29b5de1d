"""Planning a run: read the file once, check every line, write the valid ones out in chunks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO

from embedrock.embed_spec import EmbedSpec, check_text
from embedrock.errors import InvalidRequest
from embedrock.ingest.batch_inference import BatchPolicy, plan_jobs
from embedrock.ingest.config import FileConfig
from embedrock.ingest.documents import ChunkPlan, Plan
from embedrock.ingest.formats import Record, Rejection, read_items
from embedrock.ingest.layout import JSON, JSONL, Format, InputFile, RunKeys
from embedrock.ingest.object_store import ObjectInfo, Store


@dataclass
class _Checker:
    spec: EmbedSpec
    first_line_of: dict[str, int] = field(default_factory=dict)

    def problem(self, record: Record) -> Rejection | None:
        try:
            check_text(record.text, self.spec.model, where="the text")
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
        return None


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
) -> Plan:
    """Writes each chunk's records, then the plan (so a plan's chunks always exist)."""
    started, clock = time.time(), time.perf_counter()
    keys = RunKeys(run_id)
    checker = _Checker(config.spec)
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
        problem = item if isinstance(item, Rejection) else checker.problem(item)
        if problem is not None:
            rejected.append(problem)
            continue
        assert isinstance(item, Record)
        pending.append(item)
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
