"""The store wiring builds from settings (real boto3 s3vectors client, botocore's retries and error
parsing) against the emulator's HTTP server on a loopback port, reached through
AWS_ENDPOINT_URL_S3VECTORS as in a deployed function."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from embedrock import wiring
from embedrock.errors import Conflict, InvalidRequest, NotFound
from embedrock.settings import Settings
from embedrock.vector_store.model import Collection, Document, Query
from embedrock.vector_store.port import VectorStore
from embedrock_local.environment import emulator_environment
from embedrock_local.runtime.emulator import Emulator, EmulatorOptions

BUCKET = "it-collections"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VectorStore]:
    with Emulator(EmulatorOptions(data_dir=tmp_path)) as emulator:
        for name, value in emulator_environment(emulator.url).items():
            monkeypatch.setenv(name, value)
        boto3.client("s3vectors", region_name="us-east-1").create_vector_bucket(vectorBucketName=BUCKET)
        wiring.override(settings=Settings(EMBEDROCK_VECTOR_BUCKET=BUCKET))
        try:
            yield wiring.vector_store()
        finally:
            wiring.reset()


def test_collections_round_trip_over_http(store: VectorStore) -> None:
    created = store.create(
        Collection("notes", "amazon.titan-embed-text-v2:0", 3, "cosine", text_language="en")
    )
    assert created.created_at is not None and created.text_language == "en"
    with pytest.raises(Conflict):
        store.create(Collection("notes", "amazon.titan-embed-text-v2:0", 3, "cosine"))
    documents = [
        Document(
            f"n{i}", [1.0, i / 10, 0.0], {"page": i}, f"note number {i} about {'cats' if i % 2 else 'dogs'}"
        )
        for i in range(600)
    ]
    report = store.put("notes", documents)
    assert (report.documents, report.calls) == (600, 2)
    got = store.get("notes", ["n5", "missing", "n1"])
    assert [(d.id, d.text, dict(d.metadata)) for d in got] == [
        ("n5", "note number 5 about cats", {"page": 5}),
        ("n1", "note number 1 about cats", {"page": 1}),
    ]
    nearest = store.query("notes", Query(top_k=3, vector=[1.0, 0.0, 0.0], filter={"page": {"$lt": 10}}))
    assert [m.id for m in nearest] == ["n0", "n1", "n2"]
    texts = store.query("notes", Query(top_k=5, text="dogs", filter={"page": {"$lt": 10}}))
    assert {m.id for m in texts} == {"n0", "n2", "n4", "n6", "n8"} and all(
        m.scores["bm25"] > 0 for m in texts
    )
    assert [c.name for c in store.collections()] == ["notes"]
    assert store.delete_documents("notes", ["n0", "n1"]).documents == 2
    assert store.get("notes", ["n0", "n1", "n2"])[0].id == "n2"
    store.delete("notes")
    with pytest.raises(NotFound) as caught:
        store.describe("notes")
    assert caught.value.code == "collection_not_found"


def test_the_service_refusals_arrive_as_400s_with_its_message(store: VectorStore) -> None:
    store.create(Collection("plain", "amazon.titan-embed-text-v2:0", 2, "cosine"))
    with pytest.raises(InvalidRequest) as wrong_size:
        store.put("plain", [Document("a", [1.0, 0.0, 0.0])])
    assert wrong_size.value.status == 400 and "plain" in wrong_size.value.message
    with pytest.raises(InvalidRequest):
        store.put("plain", [Document("zero", [0.0, 0.0])])  # cosine refuses zero vectors
