"""Large files through Bedrock batch inference: half the price, hours instead of seconds.

A run's chunks are grouped into jobs of at most `max_records` records. Each job's input is its
chunks' texts as batch records whose id names the chunk and the line in it; the job's output,
in any order, is split back into the chunks' partial files. The chunks then finish as any chunk
does: what the job did not embed (a record error, a missing record, or a failed job) is embedded
on demand or reported, so the output and the manifest are the same as without batch inference.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO

from embedrock.bedrock.batch_jobs import SUCCEEDED, BatchJobs, Job, parse_output_line, record
from embedrock.bedrock.batch_limits import MIN_RECORDS
from embedrock.catalog import CatalogModel
from embedrock.embed_input import Item
from embedrock.errors import InvalidRequest
from embedrock.ingest import images
from embedrock.ingest.chunk import Partial, VectorCache, load_records
from embedrock.ingest.chunk_embedding import Vector
from embedrock.ingest.documents import BatchJobPlan, ChunkPlan, Plan
from embedrock.ingest.layout import JSON, JSONL, RunKeys
from embedrock.ingest.object_store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchPolicy:
    min_lines: int
    max_records: int


def plan_jobs(
    chunks: Sequence[ChunkPlan], model: CatalogModel, policy: BatchPolicy | None
) -> list[BatchJobPlan]:
    """Consecutive chunks per job, none over max_records; a remainder under Bedrock's minimum stays on demand."""
    if policy is None or not model.batch_inference or sum(c.records for c in chunks) < policy.min_lines:
        return []
    groups: list[list[ChunkPlan]] = [[]]
    for chunk in chunks:
        if sum(c.records for c in groups[-1]) + chunk.records > policy.max_records:
            groups.append([])
        groups[-1].append(chunk)
    sizes = [sum(c.records for c in group) for group in groups]
    kept = [
        group for group, size in zip(groups, sizes, strict=True) if MIN_RECORDS <= size <= policy.max_records
    ]
    return [
        BatchJobPlan(j=j, chunks=[c.n for c in group], records=sum(c.records for c in group))
        for j, group in enumerate(kept)
    ]


def record_id(n: int, index: int) -> str:
    """11 digits: the chunk (5) and the record's place in it (6)."""
    return f"{n:05d}{index:06d}"


class BatchRunner:
    def __init__(self, jobs: BatchJobs, *, bucket: str, policy: BatchPolicy) -> None:
        self.jobs = jobs
        self.bucket = bucket
        self.policy = policy

    def submit(self, store: Store, plan: Plan, job: BatchJobPlan) -> None:
        """Writes the job's records and creates the job, once (the request token makes it idempotent)."""
        keys, spec = RunKeys(plan.run_id), plan.spec()
        if store.head(keys.batch_job(job.j)) is not None:
            return
        with tempfile.TemporaryFile() as body:
            for n in job.chunks:
                for index, line in enumerate(load_records(store, keys, n)):
                    try:  # one image in memory at a time, its bytes inline as InvokeModel takes them
                        item = images.read_item(store, line, spec.model)
                    except InvalidRequest:
                        continue  # left out of the job: its chunk reports the line on demand
                    body.write(json.dumps(record(spec, record_id(n, index), item)).encode() + b"\n")
            body.seek(0)
            store.upload(keys.batch_input(job.j), body, content_type=JSONL)
        arn = self.jobs.submit(
            spec,
            name=f"embedrock-{plan.run_id[:24]}-{job.j}",
            token=f"{plan.run_id}-{job.j}",
            input_uri=self._uri(keys.batch_input(job.j)),
            output_uri=self._uri(keys.batch_output_prefix(job.j)),
        )
        store.put(keys.batch_job(job.j), json.dumps({"job_arn": arn, "j": job.j}).encode(), content_type=JSON)
        logger.info("batch job submitted", extra={"run_id": plan.run_id, "job": job.j, "job_arn": arn})

    def collect(
        self, store: Store, plan: Plan, job: BatchJobPlan, finished: Job, cache: VectorCache | None
    ) -> None:
        """Adds the job's vectors to its chunks' partial files (and the cache); errors stay missing."""
        if finished.status not in SUCCEEDED:
            logger.warning(
                "batch job did not complete: its chunks are embedded on demand",
                extra={"job_arn": finished.arn, "status": finished.status, "reason": finished.message},
            )
            return
        keys, spec = RunKeys(plan.run_id), plan.spec()
        with ExitStack() as files:
            output = files.enter_context(tempfile.TemporaryFile())
            try:
                store.download(self._key(finished.output_file_uri()), output)
            except KeyError:
                logger.warning(
                    "batch job output missing: its chunks are embedded on demand",
                    extra={"job_arn": finished.arn},
                )
                return
            output.seek(0)
            by_chunk = _split_by_chunk(output, files)
            for n in job.chunks:
                partial = Partial.from_bytes(store.get(keys.chunk_partial(n)))
                fresh = {i: v for i, v in _vectors(plan, by_chunk.get(n)).items() if i not in partial.vectors}
                partial.vectors |= fresh
                partial.batch |= set(fresh)
                store.put(keys.chunk_partial(n), partial.to_bytes(), content_type=JSON)
                if cache is not None and fresh:
                    # Texts only: an image's cache key is its bytes' digest, not read again for this.
                    records = load_records(store, keys, n)
                    texts: dict[int, Item] = {
                        i: text for i in fresh if records[i].image is None and (text := records[i].text)
                    }
                    if texts:
                        cache.put_many(spec, texts, {i: fresh[i] for i in texts})

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _key(self, uri: str) -> str:
        return uri.removeprefix(f"s3://{self.bucket}/")


def _split_by_chunk(output: IO[bytes], files: ExitStack) -> dict[int, IO[bytes]]:
    """The job's output lines (in any order) into one temporary file per chunk: one chunk in memory at a time."""
    by_chunk: dict[int, IO[bytes]] = {}
    for raw in output:
        found = _RECORD_ID.search(raw)
        if found is None:
            continue
        n = int(found[1][:5])
        if n not in by_chunk:
            by_chunk[n] = files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 - the ExitStack closes it
        by_chunk[n].write(raw if raw.endswith(b"\n") else raw + b"\n")
    for lines in by_chunk.values():
        lines.seek(0)
    return by_chunk


def _vectors(plan: Plan, lines: IO[bytes] | None) -> dict[int, Vector]:
    """Vectors by place in the chunk; failed records are left out (they finish on demand)."""
    spec, vectors = plan.spec(), {}
    for raw in lines or ():
        result = parse_output_line(spec, raw)
        if result.vector is not None:
            vectors[int(result.record_id[5:])] = Vector(result.vector.tolist(), result.tokens)
    return vectors


_RECORD_ID = re.compile(rb'"recordId"\s*:\s*"([0-9]{11})"')
