"""Publishing a run: assemble its output, record what was written, check it later, prune the work area.

A manifest records the output's size and sha256, so a re-run verifies the output before trusting
the manifest: a truncated or deleted output is rebuilt, from the work area if it still holds the
chunks' outputs, else by embedding again. Once published, a run keeps only its plan and chunk
results (a few KB: enough for late messages and the manifest's counts).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from typing import IO, cast

from embedrock.ingest import manifests
from embedrock.ingest.documents import ChunkResult, Manifest, Plan
from embedrock.ingest.layout import JSON, JSONL, InputFile, RunKeys
from embedrock.ingest.object_store import Store

logger = logging.getLogger(__name__)


def publish(store: Store, plan: Plan, file: InputFile) -> Manifest:
    """Chunk outputs in input order to the output, then the manifest (written last), then pruning."""
    started = time.perf_counter()
    keys = RunKeys(plan.run_id)
    results = [ChunkResult.model_validate_json(_get(store, keys.chunk_result(c.n))) for c in plan.chunks]
    with tempfile.TemporaryFile() as output:
        for chunk in plan.chunks:  # in input order, whatever order the chunks finished in
            store.download(keys.chunk_output(chunk.n), output)
        size, digest = output.tell(), sha256(output)
        output.seek(0)
        store.upload(file.output_key, output, content_type=JSONL)
    manifest = manifests.complete(
        plan,
        results,
        output=file.output_key,
        output_bytes=size,
        output_sha256=digest,
        assemble_ms=(time.perf_counter() - started) * 1000,
    )
    # A complete manifest means the output next to it is complete.
    store.put(file.manifest_key, manifest.to_bytes(), content_type=JSON)
    prune(store, keys)
    return manifest


def published(store: Store, file: InputFile, run: str) -> Manifest | None:
    """The file's complete manifest if it is of run `run` (same content and configuration)."""
    raw = store.get(file.manifest_key)
    if raw is None:
        return None
    try:
        manifest = Manifest.model_validate_json(raw)
    except ValueError:
        return None
    return manifest if manifest.run_id == run and manifest.status == "complete" else None


def damage(store: Store, manifest: Manifest) -> str | None:
    """What is wrong with the published output, or None if it is what the manifest recorded."""
    info = store.head(manifest.output)
    if info is None:
        return "missing"
    if manifest.output_sha256 is None:
        return "not recorded in its manifest"
    if info.size != manifest.output_bytes:
        return f"{info.size} bytes, not the {manifest.output_bytes} published"
    digest = _Digest()  # hashed as it streams: no copy on disk (Lambda's /tmp is small)
    try:
        store.download(manifest.output, cast(IO[bytes], digest))
    except KeyError:
        return "missing"
    if digest.hexdigest() != manifest.output_sha256:
        return "changed since it was published (its sha256 differs)"
    return None


def prune(store: Store, keys: RunKeys) -> None:
    """Deletes the run's chunk inputs, partials, outputs and batch files; best effort (work/ also expires)."""
    try:
        store.put(keys.pruned, json.dumps({"pruned_at": time.time()}).encode(), content_type=JSON)
        store.delete([key for key in store.list(keys.prefix) if not keys.kept_after_publishing(key)])
    except Exception:  # the output is published; a work area left behind costs storage, not correctness
        logger.warning("could not prune the work area", extra={"run_id": keys.run_id}, exc_info=True)


def is_pruned(store: Store, keys: RunKeys) -> bool:
    return store.head(keys.pruned) is not None


def clear_leftovers(store: Store, keys: RunKeys) -> None:
    """Before planning a run that has no plan: results or a marker there are of a pruned or reset
    run and would pass for this run's (chunk inputs alone may be a concurrent planning's: kept)."""
    found = store.list(keys.prefix)
    if any(key == keys.pruned or key.startswith(keys.results_prefix) for key in found):
        store.delete(found)


def sha256(content: IO[bytes]) -> str:
    content.seek(0)
    digest = hashlib.sha256()
    while block := content.read(1 << 20):
        digest.update(block)
    return digest.hexdigest()


class _Digest:
    """A write-only file that keeps only the sha256 of what is written to it."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._sha256.update(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


def _get(store: Store, key: str) -> bytes:
    raw = store.get(key)
    if raw is None:
        raise LookupError(f"{key} is missing from the run's work area")
    return raw
