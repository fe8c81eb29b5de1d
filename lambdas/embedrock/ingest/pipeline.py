"""The pipeline's entry points: a file was uploaded; a chunk is due. Storage-agnostic.

The ingest Lambda drives it from SQS messages with an S3 store; `embedrock ingest` drives it
on a laptop with a directory store and the Bedrock emulator. Same code, same files out.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING, Literal, Protocol

from embedrock.bedrock.batch_jobs import Job
from embedrock.errors import ApiError, InvalidRequest
from embedrock.ingest import images, manifests, publishing
from embedrock.ingest.batch_inference import BatchRunner
from embedrock.ingest.chunk import ChunkFailed, VectorCache, run_chunk
from embedrock.ingest.config import FileConfig, resolve
from embedrock.ingest.documents import ChunkResult, Manifest, Plan, run_id
from embedrock.ingest.formats import Record, physical_lines, read_items
from embedrock.ingest.layout import (
    FORMATS,
    JSON,
    JSONL,
    Format,
    InputFile,
    RunKeys,
    batch_job_of,
    input_file,
)
from embedrock.ingest.object_store import ObjectInfo, Store
from embedrock.ingest.planning import make_plan

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import Embedder  # a type only: the embedder loads at first use
    from embedrock.vector_store.model import Collection
    from embedrock.vector_store.port import VectorStore

Status = Literal["ignored", "unchanged", "rejected", "planned", "chunk_done", "complete", "superseded"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    key: str
    manifest: Manifest | None = None
    detail: str = ""


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, lines: int) -> None: ...


@dataclass(frozen=True)
class _Upload:
    file: InputFile
    content: IO[bytes]
    info: ObjectInfo
    sha256: str
    started: float


# Chunks of a run to process elsewhere (the ingest queue): run id, chunk numbers.
Enqueue = Callable[[str, Sequence[int]], None]


@dataclass
class Pipeline:
    store: Store
    embedder: Embedder
    default_model_id: str
    max_concurrency: int
    chunk_lines: int
    enqueue: Enqueue | None = None
    cache: VectorCache | None = None
    progress: Progress | None = None
    batch: BatchRunner | None = None
    # The inference profiles this deployment may invoke (None: any), as on the API.
    allowed_profiles: tuple[str, ...] | None = None
    # The collections' store, built the first time a file names a `collection` (None: no vector
    # bucket here, and such a file is rejected).
    vector_store: Callable[[], VectorStore] | None = None

    def ingest(self, key: str, version_id: str | None = None) -> Outcome:
        """A file landed under input/: plan it (once), then embed its chunks here or via the queue."""
        file = input_file(key)
        if file is None:
            return Outcome("ignored", key, detail="not a data file under input/ (a sidecar or a folder)")
        if file.format is None and file.name.lower().endswith(images.IMAGE_SUFFIXES):
            return Outcome("ignored", key, detail="an image: embedded by the lines that reference it")
        with tempfile.TemporaryFile() as content:
            started = time.time()
            try:
                info = self.store.download(key, content, version_id=version_id)
            except KeyError:
                return Outcome("ignored", key, detail="the object no longer exists")
            plan, damaged = self._plan(_Upload(file, content, info, publishing.sha256(content), started))
            if isinstance(plan, Outcome):
                return plan
        outcome = self._run(plan)
        if damaged is not None and outcome.status == "complete":
            return replace(outcome, detail=f"the published output was {damaged}: rebuilt")
        return outcome

    def run_chunk(self, run: str, n: int, *, last_attempt: bool = False) -> Outcome:
        """A chunk message: embed chunk `n` unless done, then publish the file if it was the last."""
        plan = self._load_plan(RunKeys(run))
        if plan is None:
            raise LookupError(f"run {run} has no plan: its work area expired or was deleted")
        if self.store.head(RunKeys(run).chunk_result(n)) is None:
            self._embed(plan, n, last_attempt=last_attempt)
        return self._publish_if_complete(plan)

    # --- planning ---------------------------------------------------------------------------

    def _plan(self, upload: _Upload) -> tuple[Plan | Outcome, str | None]:
        """The run to do, and what was wrong with its published output if it is rebuilt."""
        file, info = upload.file, upload.info
        if file.format is None:
            error = InvalidRequest(
                f"'{file.key}' is not a supported input; use one of {', '.join(sorted(FORMATS))}.",
                code="unsupported_format",
            )
            return self._reject(upload, error), None
        try:
            config = resolve(
                info.metadata,
                self.store.get(file.sidecar_key),
                default_model_id=self.default_model_id,
                allowed_profiles=self.allowed_profiles,
                describe_collection=self._describe_collection if self.vector_store is not None else None,
            )
        except InvalidRequest as error:
            return self._reject(upload, error), None
        lookups = self._image_lookups(upload, config)
        run = run_id(file.name, upload.sha256, config.identity(), images.identity(lookups))
        keys = RunKeys(run)
        manifest = publishing.published(self.store, file, run)
        damaged = None if manifest is None else publishing.damage(self.store, manifest)
        if manifest is not None and damaged is None:
            if self.store.head(keys.plan) is not None and not publishing.is_pruned(self.store, keys):
                publishing.prune(self.store, keys)  # a run stopped between publishing and pruning
            detail = f"run {run} already published this content and configuration"
            return Outcome("unchanged", file.key, detail=detail), None
        planned = self._load_plan(keys)
        if planned is not None and publishing.is_pruned(self.store, keys):
            # Published, then its output was damaged or its manifest lost: the chunks' outputs
            # are gone with the pruning, so the run starts again (the cache, if any, pays for nothing).
            self.store.delete([keys.plan])
            planned = None
        if planned is not None:
            return self._current(planned, info), damaged
        publishing.clear_leftovers(self.store, keys)
        return make_plan(
            self.store,
            file=file,
            fmt=file.format,
            content=upload.content,
            info=info,
            sha256=upload.sha256,
            config=config,
            run_id=run,
            chunk_lines=self.chunk_lines,
            batch=self.batch.policy if self.batch is not None else None,
            image_lookups=lookups,
        ), damaged

    def _store_for(self, plan: Plan) -> VectorStore | None:
        if plan.config.get("collection") is None or self.vector_store is None:
            return None
        return self.vector_store()

    def _describe_collection(self, name: str) -> Collection:
        assert self.vector_store is not None
        return self.vector_store().describe(name)

    def _image_lookups(self, upload: _Upload, config: FileConfig) -> dict[str, images.Lookup]:
        """Every s3 image the file's lines reference, looked up once, before its run id is known."""
        if upload.file.format is not Format.JSONL:
            return {}
        upload.content.seek(0)
        records = (item for item in read_items(Format.JSONL, upload.content) if isinstance(item, Record))
        return images.look_up(self.store, records, config.spec.model)

    def _reject(self, upload: _Upload, error: ApiError) -> Outcome:
        file = upload.file
        upload.content.seek(0)
        # Lines as a run would count them (a CSV header is not one), or physical lines.
        items = read_items(file.format, upload.content) if file.format else physical_lines(upload.content)
        lines = sum(1 for _ in items)
        manifest = manifests.rejected_file(upload, lines=lines, error=error)
        # Only this file's own keys: an output left by an earlier upload of it no longer matches. A
        # file of no supported format never had one (and an extensionless name may be an old-layout output).
        if file.format is not None and self.store.head(file.output_key) is not None:
            self.store.put(file.output_key, b"", content_type=JSONL)
        self.store.put(file.manifest_key, manifest.to_bytes(), content_type=JSON)
        return Outcome("rejected", file.key, manifest, detail=error.message)

    def _current(self, plan: Plan, info: ObjectInfo) -> Plan:
        """The same content uploaded again while its run is under way: that run now publishes for
        the newest version (publishing checks the input it read is still the current one)."""
        if plan.version_id == info.version_id:
            return plan
        plan = plan.model_copy(update={"version_id": info.version_id})
        self.store.put(RunKeys(plan.run_id).plan, plan.to_bytes(), content_type=JSON)
        return plan

    def _load_plan(self, keys: RunKeys) -> Plan | None:
        raw = self.store.get(keys.plan)
        return None if raw is None else Plan.model_validate_json(raw)

    # --- embedding --------------------------------------------------------------------------

    def _run(self, plan: Plan) -> Outcome:
        keys = RunKeys(plan.run_id)
        if self.progress is not None:
            self.progress.start(plan.lines)
            self.progress.advance(len(plan.rejected))
        remaining = [chunk.n for chunk in plan.chunks if self.store.head(keys.chunk_result(chunk.n)) is None]
        in_jobs: set[int] = set()
        if self.batch is not None:  # without it (batch turned off since), every chunk runs on demand
            for job in plan.jobs:
                if any(n in remaining for n in job.chunks):
                    self.batch.submit(self.store, plan, job)
                    in_jobs |= set(job.chunks)
        return self._run_chunks(plan, [n for n in remaining if n not in in_jobs])

    def _run_chunks(self, plan: Plan, chunks: list[int]) -> Outcome:
        """Chunks due on demand: queued when there are several (and a queue), else run here."""
        if self.enqueue is not None and len(chunks) > 1:
            self.enqueue(plan.run_id, chunks)
            return Outcome("planned", plan.input_key, detail=f"{len(chunks)} chunks queued")
        for n in chunks:
            self._embed(plan, n, last_attempt=False)
        return self._publish_if_complete(plan)

    def batch_job_finished(self, job: Job) -> Outcome:
        """A batch job ended: its vectors go to its chunks, which finish (and publish) as usual."""
        located = batch_job_of(job.output_uri.removeprefix(f"s3://{self.store.location}/"))
        plan = self._load_plan(RunKeys(located[0])) if located is not None else None
        if located is None or plan is None or self.batch is None or located[1] >= len(plan.jobs):
            return Outcome("ignored", job.arn, detail="not a batch job of a run of this bucket")
        if publishing.is_pruned(self.store, RunKeys(plan.run_id)):
            return Outcome("unchanged", job.arn, detail=f"run {plan.run_id} is already published")
        planned = plan.jobs[located[1]]
        self.batch.collect(self.store, plan, planned, job, self.cache)
        keys = RunKeys(plan.run_id)
        return self._run_chunks(
            plan, [n for n in planned.chunks if self.store.head(keys.chunk_result(n)) is None]
        )

    def _embed(self, plan: Plan, n: int, *, last_attempt: bool) -> ChunkResult:
        try:
            return run_chunk(
                self.store,
                self.embedder,
                plan,
                n,
                max_concurrency=self.max_concurrency,
                cache=self.cache,
                on_done=self.progress.advance if self.progress is not None else None,
                vector_store=self._store_for(plan),
            )
        except ChunkFailed as failure:
            if last_attempt:
                output = _file(plan).output_key
                manifest = manifests.failed(plan, output=output, message=str(failure), error=failure.error)
                self.store.put(_file(plan).manifest_key, manifest.to_bytes(), content_type=JSON)
            raise

    # --- publishing -------------------------------------------------------------------------

    def _publish_if_complete(self, plan: Plan) -> Outcome:
        keys = RunKeys(plan.run_id)
        if publishing.is_pruned(self.store, keys):  # a late or repeated chunk message
            return Outcome("unchanged", plan.input_key, detail=f"run {plan.run_id} is already published")
        done = self.store.list(keys.results_prefix)
        if len(done) < len(plan.chunks):
            return Outcome(
                "chunk_done", plan.input_key, detail=f"{len(done)} of {len(plan.chunks)} chunks done"
            )
        current = self.store.head(plan.input_key)
        if plan.version_id is not None and (current is None or current.version_id != plan.version_id):
            # A newer upload (or a deletion) replaced this input: its own run publishes.
            return Outcome(
                "superseded", plan.input_key, detail=f"version {plan.version_id} is no longer current"
            )
        return Outcome("complete", plan.input_key, publishing.publish(self.store, plan, _file(plan)))


def _file(plan: Plan) -> InputFile:
    file = input_file(plan.input_key)
    assert file is not None
    return file
