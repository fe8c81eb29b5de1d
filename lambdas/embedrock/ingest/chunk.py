"""One chunk of a run: cached vectors first, then Bedrock for the rest, output rows in input order.

What a failed attempt already paid for is kept in the chunk's partial file, so the retry embeds
only what is still missing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from embedrock.embed_input import Item
from embedrock.embed_spec import EmbedSpec
from embedrock.errors import ApiError, InvalidRequest
from embedrock.ingest import collection_fill, images
from embedrock.ingest.chunk_embedding import FanOut, Vector, embed_each_call, rejected_by_bedrock
from embedrock.ingest.documents import ChunkResult, Plan
from embedrock.ingest.formats import Record, Rejection
from embedrock.ingest.layout import JSON, JSONL, RunKeys
from embedrock.ingest.object_store import Store

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import Embedder  # a type only: the embedder loads at first use
    from embedrock.vector_store.port import VectorStore

# Output fields the pipeline writes; an input field of the same name is kept as input_<name>.
OUTPUT_FIELDS = ("id", "embedding", "model", "dimensions")  # and "image", where the line had one


class VectorCache(Protocol):
    """The embeddings cache as the pipeline uses it (see embedrock.cache)."""

    def get_many(self, spec: EmbedSpec, texts: dict[int, Item]) -> dict[int, Vector]: ...

    def put_many(self, spec: EmbedSpec, texts: dict[int, Item], vectors: dict[int, Vector]) -> None: ...


class ChunkInterrupted(KeyboardInterrupt):
    """Ctrl-C during a chunk: what its finished calls embedded is saved first, for the re-run."""


class ChunkFailed(Exception):
    """Bedrock failed for part of a chunk; what succeeded is saved and the chunk is retried."""

    def __init__(self, message: str, error: ApiError) -> None:
        super().__init__(message)
        self.error = error


@dataclass
class Partial:
    """The vectors of a chunk embedded so far: by a failed attempt, the cache, or a batch job."""

    vectors: dict[int, Vector]
    cached: set[int] = field(default_factory=set)
    batch: set[int] = field(default_factory=set)  # from Bedrock batch inference (batch price)
    bedrock_calls: int = 0
    bedrock_ms: float = 0.0
    copies: set[int] = field(default_factory=set)  # copied from an identical line: not billed

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "bedrock_calls": self.bedrock_calls,
                "bedrock_ms": self.bedrock_ms,
                "cached": sorted(self.cached),
                "batch": sorted(self.batch),
                "copies": sorted(self.copies),
                "vectors": {str(i): [v.tokens, v.embedding] for i, v in self.vectors.items()},
            }
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> Partial:
        if raw is None:
            return cls({})
        data = json.loads(raw)
        vectors = {int(i): Vector(embedding, tokens) for i, (tokens, embedding) in data["vectors"].items()}
        return cls(
            vectors,
            set(data["cached"]),
            set(data["batch"]),
            data["bedrock_calls"],
            data["bedrock_ms"],
            set(data.get("copies", ())),  # absent from a partial file written before copies
        )


def load_records(store: Store, keys: RunKeys, n: int) -> list[Record]:
    return [Record.from_json(line) for line in (store.get(keys.chunk_input(n)) or b"").splitlines()]


def run_chunk(
    store: Store,
    embedder: Embedder,
    plan: Plan,
    n: int,
    *,
    max_concurrency: int,
    cache: VectorCache | None = None,
    on_done: Callable[[int], None] | None = None,
    vector_store: VectorStore | None = None,
) -> ChunkResult:
    """Embeds chunk `n` (upserting it into the plan's collection, if any) and writes its output and
    result; raises ChunkFailed after saving progress."""
    started = time.perf_counter()
    keys, spec = RunKeys(plan.run_id), plan.spec()
    records = load_records(store, keys, n)
    partial = Partial.from_bytes(store.get(keys.chunk_partial(n)))
    if partial.vectors and on_done is not None:
        on_done(len(partial.vectors))
    todo = [i for i in range(len(records)) if i not in partial.vectors]
    fan = FanOut()
    run = _Window(store, embedder, spec, records, partial, fan, max_concurrency, cache, on_done)
    try:
        # Window by window, so a chunk of large s3 images never holds them all at once.
        for window in images.windows(records, todo):
            if fan.failure is not None or fan.interrupted:
                break
            run.embed(window)
        if fan.failure is None and not fan.interrupted:
            filled = _fill(vector_store, plan=plan, n=n, records=records, partial=partial)
            return _write(store, plan, n, records, partial=partial, fan=fan, filled=filled, started=started)
    except KeyboardInterrupt:  # after the calls: what they embedded must not be lost
        fan.interrupted = True
    except Exception:  # e.g. S3 failing to read an image: what earlier windows paid for is kept
        store.put(keys.chunk_partial(n), partial.to_bytes(), content_type=JSON)
        raise
    store.put(keys.chunk_partial(n), partial.to_bytes(), content_type=JSON)
    chunk = plan.chunks[n]
    done = f"chunk {n} (lines {chunk.first_line}-{chunk.last_line}): {len(partial.vectors)} of {len(records)} texts embedded"
    if fan.interrupted:
        raise ChunkInterrupted(f"{done}, then interrupted")
    assert fan.failure is not None
    raise ChunkFailed(f"{done}, then: {fan.failure.message}", fan.failure) from fan.failure


@dataclass
class _Window:
    """What embedding one window of a chunk needs, and where its outcome goes."""

    store: Store
    embedder: Embedder
    spec: EmbedSpec
    records: Sequence[Record]
    partial: Partial
    fan: FanOut
    max_concurrency: int
    cache: VectorCache | None
    on_done: Callable[[int], None] | None

    def embed(self, window: Sequence[int]) -> None:
        """Reads the window's images, then cache and Bedrock as for texts: vectors into `partial`,
        the rest of the outcome into `fan`."""
        spec, cache, on_done, fan, partial = self.spec, self.cache, self.on_done, self.fan, self.partial
        items: dict[int, Item] = {}
        for i in window:
            try:
                items[i] = images.read_item(self.store, self.records[i], spec.model)
            except InvalidRequest as error:  # its image cannot be embedded: the line is rejected
                fan.rejected[i] = error
        if len(items) < len(window) and on_done is not None:
            on_done(len(window) - len(items))
        hits = cache.get_many(spec, items) if cache is not None and items else {}
        if hits and on_done is not None:
            on_done(len(hits))
        misses = {i: item for i, item in items.items() if i not in hits}
        called = embed_each_call(
            self.embedder, spec, misses, max_concurrency=self.max_concurrency, on_done=on_done
        )
        fan.merge(called)
        fan.failure = fan.failure or called.failure
        fan.interrupted = fan.interrupted or called.interrupted
        # In place, before the cache write: an interrupt from here on loses nothing paid for.
        partial.vectors |= hits | called.vectors
        partial.cached |= set(hits)
        partial.copies |= called.copies
        partial.bedrock_calls += called.bedrock_calls
        partial.bedrock_ms += called.bedrock_ms
        if cache is not None and called.vectors:
            fresh = {i: misses[i] for i in called.vectors if i not in called.copies}  # one write each
            cache.put_many(spec, fresh, called.vectors)


def _fill(
    vector_store: VectorStore | None,
    *,
    plan: Plan,
    n: int,
    records: Sequence[Record],
    partial: Partial,
) -> collection_fill.Upserted | None:
    """Upserts what the chunk embedded into the plan's collection; None when it fills none."""
    collection = plan.config.get("collection")
    if collection is None:
        return None
    if vector_store is None:
        raise LookupError(f"run {plan.run_id} fills collection '{collection}', but no vector store is set")
    documents = {
        i: collection_fill.document(records[i], plan.format, vector.embedding)
        for i, vector in partial.vectors.items()
    }
    try:
        return collection_fill.upsert(vector_store, collection, documents)
    except ApiError as error:  # throttled or unavailable after the store's retries: retry the chunk
        chunk = plan.chunks[n]
        raise ChunkFailed(
            f"chunk {n} (lines {chunk.first_line}-{chunk.last_line}): {len(partial.vectors)} of "
            f"{len(records)} texts embedded, then upserting them into collection '{collection}' "
            f"failed: {error.message}",
            error,
        ) from error


def _write(
    store: Store,
    plan: Plan,
    n: int,
    records: Sequence[Record],
    *,
    partial: Partial,
    fan: FanOut,
    filled: collection_fill.Upserted | None,
    started: float,
) -> ChunkResult:
    keys, spec = RunKeys(plan.run_id), plan.spec()
    rows: list[str] = []
    rejected: list[Rejection] = []
    not_upserted = filled.failed if filled is not None else {}
    for index, record in enumerate(records):
        vector = partial.vectors.get(index)
        if index in not_upserted:  # embedded, but not in the collection: reported, not output
            rejected.append(_not_upserted(record, plan, not_upserted[index]))
        elif vector is not None:
            rows.append(output_row(record, vector.embedding, spec))
        else:
            error = fan.rejected[index]  # every record is either embedded or rejected
            code = "rejected_by_bedrock" if rejected_by_bedrock(error) else error.code
            rejected.append(Rejection(line=record.line, code=code, reason=error.message))
    store.put(keys.chunk_output(n), "".join(row + "\n" for row in rows).encode(), content_type=JSONL)
    result = ChunkResult(
        n=n,
        records=len(records),
        embedded=len(rows),
        rejected=rejected,
        input_tokens=sum(
            v.tokens for i, v in partial.vectors.items() if i not in partial.cached | partial.batch
        ),
        batch_tokens=sum(partial.vectors[i].tokens for i in partial.batch),
        images=sum(
            records[i].image is not None
            for i in partial.vectors
            if i not in partial.cached | partial.batch | partial.copies
        ),
        batch_images=sum(records[i].image is not None for i in partial.batch),
        cache_hits=len(partial.cached),
        bedrock_calls=partial.bedrock_calls,
        bedrock_ms=partial.bedrock_ms,
        duration_ms=(time.perf_counter() - started) * 1000,
        upserted=filled.documents if filled is not None else 0,
        vector_write_calls=filled.calls if filled is not None else 0,
    )
    store.put(keys.chunk_result(n), result.to_bytes(), content_type=JSON)
    return result


def _not_upserted(record: Record, plan: Plan, error: ApiError) -> Rejection:
    return Rejection(
        line=record.line,
        code="not_upserted",
        reason=f"embedded, but collection '{plan.config['collection']}' refused it: {error.message}",
    )


def output_row(record: Record, embedding: list[Any], spec: EmbedSpec) -> str:
    row: dict[str, Any] = {
        "id": record.id,
        "embedding": embedding,
        "model": spec.model.id,
        "dimensions": spec.dimensions,
    }
    if record.image is not None:
        row["image"] = record.image  # the reference as given, never the bytes
    for key, value in record.fields.items():
        name = key
        while name in row:
            name = f"input_{name}"
        row[name] = value
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))
