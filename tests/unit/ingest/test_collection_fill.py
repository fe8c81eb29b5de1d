"""The pipeline filling a collection: what it embeds is upserted by id, counted, and never lost.

The store is the S3 Vectors adapter over the in-process emulator; Bedrock is the emulator too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import embedrock.observability  # noqa: F401 - at collection: its X-Ray emitter opens a (UDP) socket
from embedrock import wiring
from embedrock.errors import InvalidRequest, Throttled
from embedrock.ingest.chunk import ChunkFailed
from embedrock.ingest.documents import Manifest
from embedrock.ingest.pipeline import Pipeline
from embedrock.vector_store.model import Collection, Document, Query, WriteReport
from embedrock.vector_store.port import VectorStore
from embedrock.vector_store.s3vectors import S3VectorsStore
from embedrock_local.tools.ingest.store import DirStore
from tests.fakes import FakeBedrockRuntime

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
KEY = "input/docs.jsonl"


@pytest.fixture
def docs(vector_store: S3VectorsStore) -> Collection:
    return vector_store.create(Collection(name="docs", model=TITAN_V2, dimensions=256, metric="cosine"))


def jsonl(*lines: dict[str, Any] | str) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def pipeline(
    tmp_path: Path, body: str, store: VectorStore, *, chunk_lines: int = 1000, **config: Any
) -> Pipeline:
    source = tmp_path / "docs.jsonl"
    source.write_text(body)
    sidecar = tmp_path / "docs.config.json"
    sidecar.write_text(json.dumps({"collection": "docs", **config}))
    return Pipeline(
        store=DirStore(tmp_path / "out", {KEY: (source, {}), "input/docs.config.json": (sidecar, {})}),
        embedder=wiring.embedder(),
        default_model_id=COHERE,
        max_concurrency=4,
        chunk_lines=chunk_lines,
        vector_store=lambda: store,
    )


def completed(pipe: Pipeline) -> Manifest:
    outcome = pipe.ingest(KEY)
    assert outcome.status == "complete", outcome.detail
    assert outcome.manifest is not None
    return outcome.manifest


def output_ids(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "out" / "docs.jsonl.jsonl").read_text().splitlines()
    return [json.loads(line)["id"] for line in lines]


def test_what_the_file_embeds_is_upserted_with_its_text_and_metadata(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    # Given a file naming the collection only (its model and dimensions come from it)
    body = jsonl(
        {"id": "a", "text": "the cat sat on the mat", "metadata": {"lang": "en", "year": 2024}},
        {"id": "b", "text": "dogs chase cats", "metadata": {"tags": ["pets", "dogs"]}},
        {"text": "an id from the line number"},
    )
    manifest = completed(pipeline(tmp_path, body, vector_store))
    # Then every embedded line is in the collection, by the file's ids, counted in the manifest
    assert (manifest.collection, manifest.upserted, manifest.vector_write_calls) == ("docs", 3, 1)
    assert (manifest.model, manifest.dimensions) == (TITAN_V2, 256)
    assert manifest.counts.lines == manifest.counts.embedded + manifest.counts.rejected == 3
    assert {model for model, _ in bedrock.calls} == {TITAN_V2}
    found = {d.id: d for d in vector_store.get("docs", ["a", "b", "3"], with_vectors=True)}
    assert found["a"].text == "the cat sat on the mat"
    assert dict(found["a"].metadata) == {"lang": "en", "year": 2024}
    assert dict(found["b"].metadata) == {"tags": ["pets", "dogs"]}
    assert found["3"].text == "an id from the line number" and dict(found["3"].metadata) == {}
    # And the stored vector is the one written to the output
    row = json.loads((tmp_path / "out" / "docs.jsonl.jsonl").read_text().splitlines()[0])
    stored = found["a"].vector
    assert stored is not None and len(stored) == 256
    assert all(abs(x - y) < 1e-6 for x, y in zip(stored, row["embedding"], strict=True))
    # And a search finds the document by its own vector
    matches = vector_store.query("docs", Query(top_k=1, vector=row["embedding"], filter={"lang": "en"}))
    assert [m.id for m in matches] == ["a"]


def test_documents_the_collection_would_refuse_are_reported_at_planning_before_any_call(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    body = jsonl(
        {"id": "ok", "text": "kept"},
        {"id": "reserved", "text": "t", "metadata": {"_text": "mine"}},
        {"id": "list", "text": "t", "metadata": ["not", "an", "object"]},
        {"id": "nested", "text": "t", "metadata": {"where": {"city": "Paris"}}},
        {"id": "big", "text": "t", "metadata": {"notes": "x" * 3000}},
        {"id": "x" * 1025, "text": "t"},
        {"id": "long", "text": "word " * 9000},  # 45,000 bytes: over the 40 KB a document keeps
    )
    manifest = completed(pipeline(tmp_path, body, vector_store))
    assert manifest.counts.lines == 7 and manifest.counts.embedded == manifest.upserted == 1
    reasons = {r.line: (r.code, r.reason) for r in manifest.rejected}
    assert {line: code for line, (code, _) in reasons.items()} == {
        2: "invalid_metadata",
        3: "invalid_metadata",
        4: "invalid_metadata",
        5: "metadata_too_large",
        6: "invalid_id",
        7: "text_too_long",
    }
    assert "'_'" in reasons[2][1] and "JSON object" in reasons[3][1] and "lists of strings" in reasons[4][1]
    assert "2048 bytes" in reasons[5][1] and "1 to 1024" in reasons[6][1] and "40960 bytes" in reasons[7][1]
    # Only the valid line was sent to Bedrock
    assert [body["inputText"] for _, body in bedrock.calls] == ["kept"]


def test_more_than_500_documents_take_several_put_calls(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    body = jsonl(*({"id": f"d{i}", "text": f"text number {i}"} for i in range(620)))
    manifest = completed(pipeline(tmp_path, body, vector_store, chunk_lines=700))
    assert (manifest.upserted, manifest.vector_write_calls) == (620, 2)  # ceil(620 / 500)
    assert len(vector_store.get("docs", [f"d{i}" for i in range(0, 620, 7)])) == len(range(0, 620, 7))


def test_a_rerun_upserts_the_same_ids_again_and_an_unchanged_file_upserts_nothing(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    body = jsonl(*({"id": f"d{i}", "text": f"text {i}"} for i in range(5)))
    first = completed(pipeline(tmp_path, body, vector_store))
    # When the same file and configuration come again: nothing to do, no call
    again = pipeline(tmp_path, body, vector_store).ingest(KEY)
    assert again.status == "unchanged"
    # When its published output is lost, the run is done again: the same ids are written again
    (tmp_path / "out" / "docs.jsonl.jsonl").unlink()
    rerun = completed(pipeline(tmp_path, body, vector_store))
    assert first.run_id == rerun.run_id and rerun.upserted == 5
    everything = vector_store.query("docs", Query(top_k=100, vector=[1.0] * 256))
    assert sorted(m.id for m in everything) == [f"d{i}" for i in range(5)]


def test_a_collection_created_again_is_filled_again(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    body = jsonl({"id": "a", "text": "alpha"})
    first = completed(pipeline(tmp_path, body, vector_store))
    vector_store.delete("docs")
    vector_store.create(Collection(name="docs", model=TITAN_V2, dimensions=256, metric="cosine"))
    # The same file uploaded again is a new run: the new collection gets its documents
    second = completed(pipeline(tmp_path, body, vector_store))
    assert second.run_id != first.run_id and second.upserted == 1
    assert [d.id for d in vector_store.get("docs", ["a"])] == ["a"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"model": COHERE}, ("model", "collection_mismatch")),
        ({"dimensions": 512}, ("dimensions", "collection_mismatch")),
        ({"collection": "absent"}, ("collection", "collection_not_found")),
    ],
)
@pytest.mark.usefixtures("docs")
def test_a_file_that_cannot_fill_the_collection_is_rejected_in_its_manifest(
    tmp_path: Path,
    bedrock: FakeBedrockRuntime,
    vector_store: S3VectorsStore,
    config: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    outcome = pipeline(
        tmp_path, jsonl({"id": "a", "text": "t"}, {"id": "b", "text": "u"}), vector_store, **config
    ).ingest(KEY)
    assert outcome.status == "rejected" and outcome.manifest is not None
    error = outcome.manifest.error
    assert error is not None and (error.param, error.code) == expected
    assert outcome.manifest.counts.rejected == outcome.manifest.counts.lines == 2
    assert bedrock.calls == []


def test_without_a_vector_store_a_file_naming_a_collection_is_rejected(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore
) -> None:
    pipe = pipeline(tmp_path, jsonl({"id": "a", "text": "t"}), vector_store)
    pipe.vector_store = None
    outcome = pipe.ingest(KEY)
    assert (
        outcome.status == "rejected" and outcome.manifest is not None and outcome.manifest.error is not None
    )
    assert outcome.manifest.error.code == "collections_not_configured"


@dataclass
class Refusing:
    """The real store, except that PutVectors is refused (as S3 Vectors refuses a request with a
    ValidationException) whenever a batch holds one of `refused`, or always when `throttled`."""

    store: S3VectorsStore
    refused: set[str] = field(default_factory=set)
    throttled: bool = False
    puts: list[int] = field(default_factory=list)

    def put(self, name: str, documents: Sequence[Document]) -> WriteReport:
        self.puts.append(len(documents))
        if self.throttled:
            raise Throttled("S3 Vectors throttled PutVectors after retries.", headers={"Retry-After": "2"})
        bad = sorted({d.id for d in documents} & self.refused)
        if bad:
            raise InvalidRequest(f"vector {bad[0]} is refused.", param="vectors")
        return self.store.put(name, documents)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_documents_the_service_refuses_are_found_and_reported_the_rest_written(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    body = jsonl(*({"id": f"d{i}", "text": f"text {i}"} for i in range(10)))
    refusing = Refusing(vector_store, refused={"d3", "d8"})
    manifest = completed(pipeline(tmp_path, body, refusing))  # type: ignore[arg-type]
    # Then the two refused lines are reported with the service's reason, and left out of the output
    assert manifest.upserted == manifest.counts.embedded == 8
    assert manifest.counts.lines == manifest.counts.embedded + manifest.counts.rejected
    assert [(r.line, r.code) for r in manifest.rejected] == [(4, "not_upserted"), (9, "not_upserted")]
    assert "vector d3 is refused" in manifest.rejected[0].reason
    assert sorted(output_ids(tmp_path)) == sorted(f"d{i}" for i in range(10) if i not in (3, 8))
    assert sorted(d.id for d in vector_store.get("docs", [f"d{i}" for i in range(10)])) == sorted(
        output_ids(tmp_path)
    )


def test_a_collection_deleted_during_the_run_reports_every_line_it_could_not_take(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    # Given a file planned in two chunks (queued), then its collection deleted
    queued: list[tuple[str, int]] = []
    body = jsonl(*({"id": f"d{i}", "text": f"text {i}"} for i in range(4)))
    pipe = pipeline(tmp_path, body, vector_store, chunk_lines=2)
    pipe.enqueue = lambda run, chunks: queued.extend((run, n) for n in chunks)
    planned = pipe.ingest(KEY)
    assert planned.status == "planned" and [n for _, n in queued] == [0, 1]
    vector_store.delete("docs")
    # When the chunks run
    outcomes = [pipe.run_chunk(run, n) for run, n in queued]
    # Then the file completes with every line reported as not upserted: none lost
    manifest = outcomes[-1].manifest
    assert manifest is not None and manifest.status == "complete"
    assert (manifest.counts.lines, manifest.counts.embedded, manifest.counts.rejected) == (4, 0, 4)
    assert {r.code for r in manifest.rejected} == {"not_upserted"} and manifest.upserted == 0
    assert "docs" in manifest.rejected[0].reason


def test_throttling_that_outlasts_the_retries_fails_the_chunk_and_the_retry_pays_nothing_again(
    tmp_path: Path, bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore, docs: Collection
) -> None:
    body = jsonl(*({"id": f"d{i}", "text": f"text {i}"} for i in range(6)))
    throttled = Refusing(vector_store, throttled=True)
    with pytest.raises(ChunkFailed, match="upserting them into collection 'docs' failed"):
        pipeline(tmp_path, body, throttled).ingest(KEY)  # type: ignore[arg-type]
    calls = len(bedrock.calls)
    assert calls == 6
    # When the chunk is retried with the store answering again
    manifest = completed(pipeline(tmp_path, body, vector_store))
    # Then nothing is embedded twice, and every document is in the collection
    assert len(bedrock.calls) == calls and manifest.upserted == 6
    assert manifest.counts.bedrock_calls == 6
